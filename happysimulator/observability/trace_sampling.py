"""Which requests a run with ``trace_sample_rate`` < 1 traces: a hash of the request's
id, so the decision is the same for each of its spans, wherever they are recorded (a
station's hops at flush, a component's spans as they end): a trace is either complete
or absent. Imports nothing heavy (components record spans in runs without numpy)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["GOLDEN", "SampledSpans", "trace_sampler"]

GOLDEN = 2654435761  # Knuth's multiplicative hash: spreads consecutive request ids


def trace_sampler(rate: float) -> Callable[[Any], bool] | None:
    """``keep(trace_id)`` for `rate` (None at rate >= 1: every request is traced).
    A request id that is not an int is always kept (its spans keep their chain).

    >>> keep = trace_sampler(0.5)
    >>> keep(7) == keep(7)
    True
    """
    if rate >= 1.0:
        return None
    threshold = int(rate * 2**32)

    def keep(trace_id: Any) -> bool:
        if trace_id.__class__ is not int:
            return True
        return (trace_id * GOLDEN) & 0xFFFFFFFF < threshold

    return keep


class SampledSpans:
    """A component's span topic seen through the run's sampling: ``emit`` passes on
    the spans of sampled requests only (the rest are never recorded nor published)."""

    __slots__ = ("topic", "keep")

    def __init__(self, topic: Any, keep: Callable[[Any], bool]) -> None:
        self.topic, self.keep = topic, keep

    def emit(self, time_s: float, span: Any, tags: Any = None) -> None:
        if self.keep(span.trace_id):
            self.topic.emit(time_s, span, tags)
