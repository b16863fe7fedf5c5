"""Incremental, mergeable aggregators for time-stamped values.

Every aggregator has ``add(t, v)``, ``merge(other)``, ``result(start=None, end=None)``
(None when empty), ``exact`` and ``error_bound`` (relative, when approximate), and
``weighting`` ("sample" or "time": the weighting the *result* actually uses).

>>> agg = make_aggregator("p99")
>>> for i in range(100): agg.add(float(i), float(i))
>>> round(agg.result(), 2)
98.01

Sample vs time weighting
------------------------
``weighting="sample"`` aggregates the values as samples. ``weighting="time"`` treats the
stream as a *gauge*: ``add(t, v)`` means "the value became v at time t" and it holds
until the next add. ``mean``, ``stddev``, ``variance`` and quantiles are then weighted
by how long each value was held; count/sum/min/max/first/last/rate stay per sample.

The last value's segment is open until you say when the window ends: pass
``result(end=t_end)`` (non-mutating) or call ``close(t_end)``. The value carried into a
window from before its start is supplied by the caller with ``add(window_start, v)``.

>>> g = make_aggregator("mean", weighting="time")
>>> g.add(0.0, 0.0); g.add(1.0, 10.0)      # 0 for 1 s, then 10
>>> g.result(end=4.0)                      # (0*1 + 10*3) / 4
7.5

Rate
----
``rate`` is events (or, with ``rate_of="sum"``, summed values, e.g. counter
increments) per simulated second. It needs the window span: ``result(start, end)``, or
set ``agg.span = seconds``; without either it falls back to last_t - first_t.

Merging
-------
``a.merge(b)`` folds b into a (both made by the same spec); the result equals the
aggregator over both streams. Time-weighted aggregators merge in time order: an open
last segment of the earlier one is closed at the first time of the later one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Literal, Protocol, runtime_checkable

# The aggregators live one idea per module; their public names stay importable here.
from operators.aggregate_names import (
    AGGREGATE_NAMES,
    canonical_aggregate,
    parse_quantile,
    valid_names_text,
)
from operators.quantiles import EXACT_LIMIT, linear_quantile, weighted_quantile
from operators.sample_aggregators import (
    Count,
    First,
    Last,
    Max,
    Mean,
    Min,
    Quantile,
    Rate,
    Stddev,
    Sum,
    Variance,
)
from operators.time_aggregators import TimeMean, TimeQuantile, TimeStddev, TimeVariance

_EXACT_LIMIT = EXACT_LIMIT  # (the old private name)

__all__ = [
    "Aggregator",
    "make_aggregator",
    "parse_quantile",
    "linear_quantile",
    "canonical_aggregate",
    "aggregator_factory",
    "weighted_quantile",
    "AGGREGATE_NAMES",
    "Count",
    "Sum",
    "Mean",
    "Min",
    "Max",
    "Variance",
    "Stddev",
    "Quantile",
    "Rate",
    "First",
    "Last",
    "TimeMean",
    "TimeVariance",
    "TimeStddev",
    "TimeQuantile",
    "valid_names_text",
]

Weighting = Literal["sample", "time"]

@runtime_checkable
class Aggregator(Protocol):
    name: str
    weighting: str

    def add(self, t: float, v: float) -> None: ...
    def merge(self, other: Any) -> None: ...
    def result(self, start: float | None = None, end: float | None = None) -> float | None: ...

    @property
    def exact(self) -> bool: ...
    @property
    def error_bound(self) -> float | None: ...


def make_aggregator(
    spec: str,
    *,
    weighting: Weighting = "sample",
    exact: bool = False,
    relative_accuracy: float = 0.005,
    rate_of: str = "count",
) -> Any:
    """Build an aggregator from its name.

    ``weighting="time"`` makes mean/stddev/variance/quantiles time-weighted (gauges);
    ``exact=True`` keeps raw values for quantiles (memory grows with the data);
    ``rate_of="sum"`` makes ``rate`` sum values per second (counter increments).

    >>> make_aggregator("p99.9").q
    0.999
    >>> try: make_aggregator("p99x")
    ... except ValueError as e: print(str(e)[:46])
    unknown aggregate 'p99x' (did you mean 'p99'?)
    """
    return aggregator_factory(spec, weighting=weighting, exact=exact,
                              relative_accuracy=relative_accuracy, rate_of=rate_of)()


def aggregator_factory(
    spec: str,
    *,
    weighting: Weighting = "sample",
    exact: bool = False,
    relative_accuracy: float = 0.005,
    rate_of: str = "count",
) -> Callable[[], Any]:
    """`make_aggregator` with the name parsed once: a zero-argument factory of fresh
    aggregators (a live window makes one per window; parsing ``"p99"`` each time cost
    more than the window's aggregation)."""
    if weighting not in ("sample", "time"):
        raise ValueError(f"weighting must be 'sample' or 'time', got {weighting!r}")
    key = canonical_aggregate(spec)
    tw = weighting == "time"
    simple = {
        "count": Count,
        "sum": Sum,
        "min": Min,
        "max": Max,
        "first": First,
        "last": Last,
    }
    if key in simple:
        return simple[key]
    if key == "rate":
        return partial(Rate, rate_of)
    if key == "mean":
        return TimeMean if tw else Mean
    if key == "variance":
        return TimeVariance if tw else Variance
    if key == "stddev":
        return TimeStddev if tw else Stddev
    q = parse_quantile(key)
    if q is not None:
        cls = TimeQuantile if tw else Quantile
        # (a partial, not a lambda: one Python call less per window a live operator opens)
        return partial(cls, q, key, exact=exact, relative_accuracy=relative_accuracy)
    raise AssertionError(key)  # pragma: no cover - canonical_aggregate validated it
