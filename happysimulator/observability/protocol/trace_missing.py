"""Why the ``trace`` operation finds no spans for a trace id: the recording settings
left it out (``not_kept``: not sampled at ``trace_sample_rate`` (said first:
such a request was never traced), evicted by ``trace_capacity``), or no request with that id was recorded (``unknown_name``).

A request id a metric or an event showed must not read as "never existed" when the
store only let its trace go."""

from __future__ import annotations

from typing import Any

from happysimulator.observability.protocol.errors import ProtocolError
from happysimulator.observability.trace_sampling import trace_sampler


def missing_trace(sim: Any, store: Any, asked: Any, tid: Any) -> ProtocolError:
    """The error for trace `tid` (as the request gave it: `asked`) having no spans in
    `store`: ``not_kept`` saying which setting dropped it, else ``unknown_name``."""
    ids = store.trace_ids()
    valid = [str(i) for i in ids[:20]]
    if type(tid) is int and tid >= 1:  # a request id (the simulation's count from 1)
        ints = [i for i in ids if type(i) is int]
        low, high = (min(ints), max(ints)) if ints else (None, None)
        evicted = int(getattr(store, "evicted_traces", 0) or 0)
        cap = getattr(store, "max_traces", None)
        rate = float(getattr(getattr(sim, "observability", None), "trace_sample_rate",
                             1.0))
        keep = trace_sampler(rate)
        if keep is not None and not keep(tid) and high is not None and tid < high:
            return ProtocolError(
                "not_kept", f"trace {asked!r} was not sampled: trace_sample_rate={rate:g} "
                "traces that fraction of requests, chosen by request id (set "
                "ObservabilityConfig.trace_sample_rate=1.0 to trace every request)", valid)
        if evicted and low is not None and tid < low:
            return ProtocolError(
                "not_kept", f"trace {asked!r} is not kept: trace_capacity={cap} keeps the "
                f"newest traces (ids from {low}); {evicted} older traces were evicted "
                "(set ObservabilityConfig.trace_capacity=None to keep every trace)", valid)
    return ProtocolError("unknown_name", f"no trace with id {asked!r} ({len(ids)} "
                         "traces recorded; sample ids listed)", valid)


__all__ = ["missing_trace"]
