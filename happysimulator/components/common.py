"""Terminal entities: ``Sink``, ``LatencyTracker``, ``Counter``."""

from __future__ import annotations

import math
from typing import Any

from happysimulator.core.component_instrumentation import SINK, trace_id
from happysimulator.core.entity import Entity
from happysimulator.core.event import PARTIAL, Event
from happysimulator.core.temporal import Instant
from happysimulator.instrumentation.data import Data

_NS = 1_000_000_000


class Sink(Entity):
    """Absorbs requests and records latency = arrival here minus ``context["created_at"]``.

    ``data`` holds ``(arrival_time_s, latency_s)`` samples: all of them, or the most
    recent ``max_samples`` (between ``max_samples`` and twice that) when it is set, for
    long runs with flat memory (``ObservabilityConfig.streaming()`` sets it on sinks that
    have none, since its stores answer the whole-run questions). ``count``,
    ``mean_latency()`` and ``stats()`` always cover the whole run (exactly); once samples
    were trimmed, ``p50()``/``p99()``/``percentile()`` come from a quantile sketch of the
    trimmed samples plus the kept ones (within 0.5 % relative of the item of that rank).
    """

    def __init__(self, name: str = "Sink", *, max_samples: int | None = None) -> None:
        super().__init__(name)
        if max_samples is not None and max_samples < 1:
            raise ValueError(f"max_samples must be >= 1 or None, got {max_samples!r}")
        self.data = Data(name)
        self.count = 0
        self.max_samples = max_samples
        self._trimmed_n = 0  # samples dropped from `data` (max_samples), summarized here
        self._trimmed_sum = 0.0
        self._trimmed_sketch: Any = None

    def handle_event(self, event: Event) -> None:
        # the event's own time (= now in a run; also right when called by hand)
        now = event._time_ns
        c = event._ctx
        if c is None:
            created = event._time_ns
        elif c.__class__ is Event and c._ctx is None:  # context linked to an untouched root
            created = c._time_ns
        elif c.__class__ is dict and PARTIAL in c:  # a context an instrumented source made
            created = c[PARTIAL]
        else:
            created = event._created_ns()
        t = now / _NS
        lat = (now - created) / _NS
        d = self.data
        d._times.append(t)
        d._values.append(lat)
        self.count += 1
        cap = self.max_samples
        if cap is not None and len(d._times) > 2 * cap:
            self._trim(cap)
        i = self._instr
        if i is not None:
            i.received.append(t)
            i.latency.append(lat)
            b = i.latency_band
            if b is not None and not b[0] < lat < b[1]:
                moved = i.latency_moved  # (read, then called: a slot's function called as
                moved(t, lat)  # a method costs ~100 instructions more)
            if i.traced:
                if c.__class__ is Event and c._ctx is None:  # (`trace_id` inline)
                    try:
                        tid = c._id  # (a traced source's request)
                    except AttributeError:
                        tid = None
                    i.traced_ids.append(trace_id(event) if tid is None else tid)
                else:
                    i.traced_ids.append(c["id"] if c.__class__ is dict else trace_id(event))
            if i.live is not None:
                i.live(SINK, now, event)
        return None

    def _trim(self, cap: int) -> None:
        """Keep the newest `cap` samples; summarize the others (amortized O(1): one trim
        per `cap` samples)."""
        from operators.sketch import QuantileSketch

        d = self.data
        old = d._values[:-cap]
        self._trimmed_n += len(old)
        self._trimmed_sum += math.fsum(old)
        if self._trimmed_sketch is None:
            self._trimmed_sketch = QuantileSketch(0.005)
        self._trimmed_sketch.add_many(old)
        del d._times[:-cap]
        del d._values[:-cap]

    @property
    def events_received(self) -> int:
        return self.count

    @property
    def latencies(self) -> list[float]:
        return self.data.raw_values()

    # happysim 0.2.5 names
    @property
    def latencies_s(self) -> list[float]:
        """Latency of each (kept) request, in arrival order (seconds)."""
        return self.data.raw_values()

    @property
    def completion_times(self) -> list[Instant]:
        """When each (kept) request arrived here."""
        return [Instant.from_seconds(t) for t in self.data.times()]

    def latency_time_series_seconds(self) -> tuple[list[float], list[float]]:
        """``(arrival times, latencies)`` in seconds."""
        return self.data.times(), self.data.raw_values()

    def latency_stats(self) -> dict[str, float]:
        """``count``, ``avg``, ``min``, ``max``, ``p50``, ``p99`` (zeros without data)."""
        d = self.data
        lo, hi = d.min(), d.max()
        if self._trimmed_n:  # whole run: the trimmed samples' extremes are kept exactly
            lo, hi = min(lo, self._trimmed_sketch.min), max(hi, self._trimmed_sketch.max)
        return {"count": self.count, "avg": self.mean_latency(), "min": lo,
                "max": hi, "p50": self.p50(), "p99": self.p99()}

    def summary(self, window_s: float = 1.0) -> Any:
        """Latency per time window (``BucketedData``), over the whole run.

        Once ``max_samples`` trimmed old samples (``streaming()`` sets it) the early
        windows are gone: that is a ``ValueError`` saying so, never a silently shorter
        answer (the run's windows then come from the metric store:
        ``sim.query.metrics("latency").from_entity(name).window(w)``)."""
        if self._trimmed_n:
            raise ValueError(
                f"Sink {self.name!r} kept only its last {len(self.data._values)} of "
                f"{self.count} samples (max_samples={self.max_samples}; "
                "ObservabilityConfig.streaming() sets it on sinks that have none), so "
                "summary(window_s) cannot cover the run: ask the metric store instead, "
                f"sim.query.metrics('latency').from_entity({self.name!r}).window(w)"
                ".aggregate('count', 'mean', 'p99'), or set sink.max_samples = None before "
                "the run to keep every sample")
        return self.data.bucket(window_s)

    def mean_latency(self) -> float:
        """Mean latency over the whole run (0.0 without requests, as in happysim)."""
        if not self._trimmed_n:
            return self.data.mean()
        kept = self.data._values
        return (self._trimmed_sum + math.fsum(kept)) / (self._trimmed_n + len(kept))

    average_latency = mean_latency

    def p50(self) -> float:
        return self.percentile(0.50)

    def p90(self) -> float:
        return self.percentile(0.90)

    def p99(self) -> float:
        return self.percentile(0.99)

    def percentile(self, p: float) -> float:
        """``p`` in [0, 1]; over the whole run (see the class docstring)."""
        if not self._trimmed_n:
            return self.data.percentile(p)
        self.data.percentile(p)  # validates p
        sketch = self._trimmed_sketch.copy()
        sketch.add_many(self.data._values)
        return sketch.quantile(p)

    def stats(self) -> dict[str, Any]:
        return {"count": self.count, "mean_latency": self.mean_latency()}


class LatencyTracker(Sink):
    """A ``Sink`` used for its latency statistics (``p50()``, ``p99()``, ``mean_latency()``)."""

    def __init__(self, name: str = "LatencyTracker", *, max_samples: int | None = None) -> None:
        super().__init__(name, max_samples=max_samples)


class Counter(Entity):
    """Counts events by ``event_type``."""

    def __init__(self, name: str = "Counter") -> None:
        super().__init__(name)
        self.counts: dict[str, int] = {}
        self.total = 0

    @property
    def by_type(self) -> dict[str, int]:
        """Counts per event type (happysim 0.2.5 name of ``counts``)."""
        return self.counts

    def handle_event(self, event: Event) -> None:
        self.total += 1
        et = event.event_type
        self.counts[et] = self.counts.get(et, 0) + 1
        return None

    def count(self, event_type: str | None = None) -> int:
        return self.total if event_type is None else self.counts.get(event_type, 0)

    def stats(self) -> dict[str, Any]:
        return {"total": self.total, **self.counts}


__all__ = ["Sink", "LatencyTracker", "Counter"]
