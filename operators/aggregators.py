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

import difflib
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from operators.sketch import QuantileSketch

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
]

Weighting = Literal["sample", "time"]

#: Names accepted by make_aggregator (quantiles also accept any pNN / pNN.N).
AGGREGATE_NAMES = (
    "count",
    "sum",
    "mean",
    "min",
    "max",
    "stddev",
    "variance",
    "p50",
    "p90",
    "p95",
    "p99",
    "p999",
    "rate",
    "last",
    "first",
)
_ALIASES = {"avg": "mean", "average": "mean", "std": "stddev", "var": "variance", "median": "p50"}
_EXACT_LIMIT = 256  # quantiles stay exact (raw values) up to this many points


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


def valid_names_text() -> str:
    return (", ".join(AGGREGATE_NAMES) + ", and any percentile p0..p100 with optional"
            " decimals (e.g. p75, p99.9; p999 = p99.9, p9999 = p99.99); aliases: "
            + ", ".join(f"{a} = {c}" for a, c in _ALIASES.items()))


def parse_quantile(spec: str) -> float | None:
    """``'p99'`` -> 0.99, ``'p999'`` -> 0.999, ``'p99.9'`` -> 0.999, else None.

    Valid: ``p0`` .. ``p100`` with optional decimals, and the monitoring shorthand of
    three or more nines (``p999``, ``p9999``). Anything else (``p101``, ``p1000``) is
    not a percentile: never reinterpreted as p10.1 or p10.

    >>> parse_quantile("p50"), parse_quantile("p999"), parse_quantile("p5")
    (0.5, 0.999, 0.05)
    >>> parse_quantile("p101") is None, parse_quantile("p1000") is None
    (True, True)
    """
    m = re.fullmatch(r"p(\d+)(\.\d+)?", spec)
    if not m:
        return None
    digits, frac = m.group(1), m.group(2)
    if frac:
        pct = Decimal(digits + frac)  # Decimal: p99.9 is exactly 0.999
    elif len(digits) >= 3 and set(digits) == {"9"}:
        pct = Decimal("99." + digits[2:])  # p999 -> 99.9th, p9999 -> 99.99th
    elif len(digits) <= 2 or digits == "100":
        pct = Decimal(digits)
    else:
        return None
    return float(pct / 100) if pct <= 100 else None


def canonical_aggregate(spec: object) -> str:
    """The name an aggregate is computed and labelled under: aliases resolved
    (``"avg"`` -> ``"mean"``), case and surrounding blanks dropped. Raises ValueError
    (or TypeError for a non-string) naming the valid names.

    >>> canonical_aggregate(" AVG "), canonical_aggregate("P99.9")
    ('mean', 'p99.9')
    """
    if not isinstance(spec, str):
        raise TypeError(
            f"an aggregate name must be a string, got {type(spec).__name__} {spec!r}; "
            f"valid: {valid_names_text()}")
    key = spec.strip().lower()
    key = _ALIASES.get(key, key)
    if key in AGGREGATE_NAMES or parse_quantile(key) is not None:
        return key
    if re.fullmatch(r"p\d+(\.\d+)?", key):
        raise ValueError(
            f"percentile {spec!r} is out of range: use p0..p100 with optional decimals "
            "(p99.9), or p999 / p9999 for p99.9 / p99.99")
    close = difflib.get_close_matches(key, [*AGGREGATE_NAMES, *_ALIASES], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"unknown aggregate {spec!r}{hint}; valid: {valid_names_text()}")


def linear_quantile(values: list[float], q: float) -> float:
    """``float(numpy.quantile(values, q))`` (its default "linear" method), bit for bit,
    in plain Python: for the few values of a live window numpy's per-call overhead
    (~20 us) is most of the cost of closing it.

    >>> linear_quantile([3.0, 1.0, 2.0, 4.0], 0.5) == float(np.quantile([3.0, 1.0, 2.0, 4.0], 0.5))
    True
    """
    if not math.isfinite(sum(values)):  # NaN or infinities: numpy's own rules
        return float(np.quantile(values, q))
    s = sorted(values)
    n = len(s)
    virtual = (n - 1) * q  # numpy's virtual index for "linear"
    if virtual >= n - 1:
        return float(s[-1])
    if virtual < 0:
        return float(s[0])
    lo = math.floor(virtual)
    a, b = s[lo], s[lo + 1]
    t = virtual - lo
    diff = b - a
    return float(b - diff * (1 - t) if t >= 0.5 else a + diff * t)  # numpy's _lerp


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float | None:
    """Smallest v with (weight of values <= v) >= q * total weight (inverted CDF).

    >>> weighted_quantile(np.array([1.0, 2.0]), np.array([3.0, 1.0]), 0.5)
    1.0
    """
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    if values.size == 0:
        return None
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    # Tiny tolerance so float-summed durations do not skip a boundary value.
    i = int(np.searchsorted(cum, q * cum[-1] * (1 - 1e-12), side="left"))
    return float(values[order][min(i, values.size - 1)])


class _Agg:
    """Shared plumbing: name, weighting, exactness and the optional span."""

    name = "?"
    weighting: str = "sample"
    span: float | None = None

    @property
    def exact(self) -> bool:
        return True

    @property
    def error_bound(self) -> float | None:
        return None

    def close(self, end_t: float) -> None:
        """Mark the window end (only time-weighted aggregators care)."""

    def _check(self, other: Any) -> None:
        if type(other) is not type(self) or other.name != self.name:
            raise TypeError(f"cannot merge {other!r} into {self!r}")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} weighting={self.weighting}>"


class Count(_Agg):
    name = "count"

    def __init__(self) -> None:
        self.n = 0

    def add(self, t: float, v: float) -> None:
        self.n += 1

    def merge(self, other: Count) -> None:
        self._check(other)
        self.n += other.n

    def result(self, start: float | None = None, end: float | None = None) -> float | None:
        return float(self.n)  # count of an empty window is 0, not "no data"


class Sum(_Agg):
    name = "sum"

    def __init__(self) -> None:
        self.n, self.total = 0, 0.0

    def add(self, t: float, v: float) -> None:
        self.n += 1
        self.total += v

    def merge(self, other: Sum) -> None:
        self._check(other)
        self.n += other.n
        self.total += other.total

    def result(self, start: float | None = None, end: float | None = None) -> float | None:
        return self.total if self.n else None


class Min(_Agg):
    name = "min"

    def __init__(self) -> None:
        self.value: float | None = None

    def add(self, t: float, v: float) -> None:
        if self.value is None or v < self.value:
            self.value = v

    def merge(self, other: Min) -> None:
        self._check(other)
        if other.value is not None:
            self.add(0.0, other.value)

    def result(self, start: float | None = None, end: float | None = None) -> float | None:
        return self.value


class Max(Min):
    name = "max"

    def add(self, t: float, v: float) -> None:
        if self.value is None or v > self.value:
            self.value = v


class First(_Agg):
    """Value with the smallest time (ties: the earliest added)."""

    name = "first"

    def __init__(self) -> None:
        self.t: float | None = None
        self.value: float | None = None

    def _better(self, t: float) -> bool:
        return self.t is None or t < self.t

    def add(self, t: float, v: float) -> None:
        if self._better(t):
            self.t, self.value = t, v

    def merge(self, other: First) -> None:
        self._check(other)
        if other.t is not None and self._better(other.t):
            self.t, self.value = other.t, other.value

    def result(self, start: float | None = None, end: float | None = None) -> float | None:
        return self.value


class Last(First):
    """Value with the largest time (ties: the latest added)."""

    name = "last"

    def _better(self, t: float) -> bool:
        return self.t is None or t >= self.t


class Rate(_Agg):
    """Events (``of="count"``) or summed values (``of="sum"``) per simulated second."""

    name = "rate"

    def __init__(self, of: str = "count") -> None:
        if of not in ("count", "sum"):
            raise ValueError(f"rate_of must be 'count' or 'sum', got {of!r}")
        self.of = of
        self.n, self.total = 0, 0.0
        self.t0, self.t1 = math.inf, -math.inf

    def add(self, t: float, v: float) -> None:
        self.n += 1
        self.total += v
        if t < self.t0:
            self.t0 = t
        if t > self.t1:
            self.t1 = t

    def merge(self, other: Rate) -> None:
        self._check(other)
        self.n += other.n
        self.total += other.total
        self.t0, self.t1 = min(self.t0, other.t0), max(self.t1, other.t1)
        if self.span is not None and other.span is not None:
            self.span += other.span  # merging adjacent windows adds their spans

    def result(self, start: float | None = None, end: float | None = None) -> float | None:
        if start is not None and end is not None:
            span = end - start
        elif self.span is not None:
            span = self.span
        else:
            span = self.t1 - self.t0 if self.n else 0.0
        if span <= 0:
            return None
        return (self.n if self.of == "count" else self.total) / span


class Mean(_Agg):
    name = "mean"

    def __init__(self) -> None:
        self.n, self.total = 0, 0.0

    def add(self, t: float, v: float) -> None:
        self.n += 1
        self.total += v

    def merge(self, other: Mean) -> None:
        self._check(other)
        self.n += other.n
        self.total += other.total

    def result(self, start: float | None = None, end: float | None = None) -> float | None:
        return self.total / self.n if self.n else None


class Variance(_Agg):
    """Population variance (ddof=0, like numpy's default) via Welford/Chan."""

    name = "variance"

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, t: float, v: float) -> None:
        self.n += 1
        d = v - self.mean
        self.mean += d / self.n
        self.m2 += d * (v - self.mean)

    def merge(self, other: Variance) -> None:
        self._check(other)
        if other.n == 0:
            return
        n = self.n + other.n
        d = other.mean - self.mean
        self.mean += d * other.n / n
        self.m2 += other.m2 + d * d * self.n * other.n / n
        self.n = n

    def result(self, start: float | None = None, end: float | None = None) -> float | None:
        return max(self.m2 / self.n, 0.0) if self.n else None


class Stddev(Variance):
    name = "stddev"

    def result(self, start: float | None = None, end: float | None = None) -> float | None:
        var = super().result()
        return None if var is None else math.sqrt(var)


class Quantile(_Agg):
    """Quantile: exact on raw values up to a few hundred points, then a sketch.

    ``exact=True`` keeps every value (exact at any size, memory grows).
    """

    def __init__(
        self, q: float, name: str, *, exact: bool = False, relative_accuracy: float = 0.005
    ) -> None:
        self.q, self.name = q, name
        self.force_exact = exact
        self.relative_accuracy = relative_accuracy
        self.values: list[float] | None = []
        self.sketch: QuantileSketch | None = None

    @property
    def exact(self) -> bool:
        return self.sketch is None

    @property
    def error_bound(self) -> float | None:
        return None if self.sketch is None else self.relative_accuracy

    def _spill(self) -> None:
        assert self.values is not None
        self.sketch = QuantileSketch(self.relative_accuracy)
        self.sketch.add_many(self.values)
        self.values = None

    def add(self, t: float, v: float) -> None:
        if self.values is not None:
            self.values.append(v)
            if len(self.values) > _EXACT_LIMIT and not self.force_exact:
                self._spill()
        else:
            self.sketch.add(v)  # type: ignore[union-attr]

    def merge(self, other: Quantile) -> None:
        self._check(other)
        if other.sketch is None and self.values is not None:
            self.values.extend(other.values or ())
            if len(self.values) > _EXACT_LIMIT and not self.force_exact:
                self._spill()
            return
        if self.sketch is None:
            self._spill()
        assert self.sketch is not None
        if other.sketch is not None:
            self.sketch.merge(other.sketch)
        else:
            self.sketch.add_many(other.values or [])

    def result(self, start: float | None = None, end: float | None = None) -> float | None:
        if self.values is not None:
            vals = self.values
            if not vals:
                return None
            if len(vals) <= _EXACT_LIMIT:
                return linear_quantile(vals, self.q)
            return float(np.quantile(vals, self.q))
        return self.sketch.quantile(self.q)  # type: ignore[union-attr]


# -- time-weighted (gauge) aggregators ---------------------------------------------------


class _TimeWeighted(_Agg):
    """Tracks the open last segment of a gauge; subclasses consume closed segments.

    A segment is (value, seconds held). Values added at the same time as the next
    change are held 0 s and carry no weight.
    """

    weighting = "time"

    def __init__(self) -> None:
        self.first_t: float | None = None
        self.last_t: float | None = None
        self.last_v = 0.0

    def _segment(self, v: float, w: float) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _result(self, tail: tuple[float, float] | None) -> float | None:  # pragma: no cover
        raise NotImplementedError

    def add(self, t: float, v: float) -> None:
        if self.last_t is None:
            self.first_t = t
        elif t > self.last_t:
            self._segment(self.last_v, t - self.last_t)
        else:
            t = self.last_t  # out of order / same instant: no negative durations
        self.last_t, self.last_v = t, v

    def close(self, end_t: float) -> None:
        """Close the open segment at ``end_t`` (the value keeps holding after it)."""
        if self.last_t is not None and end_t > self.last_t:
            self._segment(self.last_v, end_t - self.last_t)
            self.last_t = end_t

    def merge(self, other: _TimeWeighted) -> None:
        self._check(other)
        if other.last_t is None:
            return
        if self.last_t is None:
            self._take(other)
            self.first_t, self.last_t, self.last_v = other.first_t, other.last_t, other.last_v
            return
        assert other.first_t is not None and self.first_t is not None
        if self.last_t <= other.first_t:  # self is earlier: close it where other starts
            self.close(other.first_t)
            self._take(other)
            self.last_t, self.last_v = other.last_t, other.last_v
        else:  # other is earlier or overlapping: take its closed part and close its tail
            tail_end = self.first_t if other.last_t <= self.first_t else other.last_t
            if tail_end > other.last_t:
                self._segment(other.last_v, tail_end - other.last_t)
            self._take(other)
            self.first_t = min(self.first_t, other.first_t)

    def _take(self, other: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def result(self, start: float | None = None, end: float | None = None) -> float | None:
        if self.last_t is None:
            return None
        tail = None
        if end is not None and end > self.last_t:
            tail = (self.last_v, end - self.last_t)
        return self._result(tail)


class TimeMean(_TimeWeighted):
    name = "mean"

    def __init__(self) -> None:
        super().__init__()
        self.integral, self.duration = 0.0, 0.0

    def _segment(self, v: float, w: float) -> None:
        self.integral += v * w
        self.duration += w

    def _take(self, other: TimeMean) -> None:
        self.integral += other.integral
        self.duration += other.duration

    def _result(self, tail: tuple[float, float] | None) -> float | None:
        integral, duration = self.integral, self.duration
        if tail is not None:
            integral, duration = integral + tail[0] * tail[1], duration + tail[1]
        # Held for no time yet: the gauge's current value is the honest answer.
        return integral / duration if duration > 0 else self.last_v


class TimeVariance(_TimeWeighted):
    """Time-weighted population variance (weighted Welford, Chan merge)."""

    name = "variance"

    def __init__(self) -> None:
        super().__init__()
        self.w, self.mean, self.m2 = 0.0, 0.0, 0.0

    @staticmethod
    def _fold(w: float, mean: float, m2: float, w2: float, mean2: float, m22: float):
        if w2 <= 0:
            return w, mean, m2
        tot = w + w2
        d = mean2 - mean
        return tot, mean + d * w2 / tot, m2 + m22 + d * d * w * w2 / tot

    def _segment(self, v: float, w: float) -> None:
        self.w, self.mean, self.m2 = self._fold(self.w, self.mean, self.m2, w, v, 0.0)

    def _take(self, other: TimeVariance) -> None:
        self.w, self.mean, self.m2 = self._fold(
            self.w, self.mean, self.m2, other.w, other.mean, other.m2
        )

    def _result(self, tail: tuple[float, float] | None) -> float | None:
        w, mean, m2 = self.w, self.mean, self.m2
        if tail is not None:
            w, mean, m2 = self._fold(w, mean, m2, tail[1], tail[0], 0.0)
        return max(m2 / w, 0.0) if w > 0 else 0.0


class TimeStddev(TimeVariance):
    name = "stddev"

    def _result(self, tail: tuple[float, float] | None) -> float | None:
        var = super()._result(tail)
        return None if var is None else math.sqrt(var)


class TimeQuantile(_TimeWeighted):
    """Duration-weighted quantile: exact for few segments, then a weighted sketch."""

    def __init__(
        self, q: float, name: str, *, exact: bool = False, relative_accuracy: float = 0.005
    ) -> None:
        super().__init__()
        self.q, self.name = q, name
        self.force_exact = exact
        self.relative_accuracy = relative_accuracy
        self.vals: list[float] | None = []
        self.wts: list[float] = []
        self.sketch: QuantileSketch | None = None

    @property
    def exact(self) -> bool:
        return self.sketch is None

    @property
    def error_bound(self) -> float | None:
        return None if self.sketch is None else self.relative_accuracy

    def _spill(self) -> None:
        assert self.vals is not None
        self.sketch = QuantileSketch(self.relative_accuracy)
        self.sketch.add_many(self.vals, self.wts)
        self.vals, self.wts = None, []

    def _segment(self, v: float, w: float) -> None:
        if self.vals is not None:
            self.vals.append(v)
            self.wts.append(w)
            if len(self.vals) > _EXACT_LIMIT and not self.force_exact:
                self._spill()
        else:
            self.sketch.add(v, w)  # type: ignore[union-attr]

    def _take(self, other: TimeQuantile) -> None:
        if other.sketch is None:
            for v, w in zip(other.vals or (), other.wts, strict=True):
                self._segment(v, w)
            return
        if self.sketch is None:
            self._spill()
        self.sketch.merge(other.sketch)  # type: ignore[union-attr]

    def _result(self, tail: tuple[float, float] | None) -> float | None:
        if self.vals is not None:
            vals, wts = list(self.vals), list(self.wts)
            if tail is not None:
                vals.append(tail[0])
                wts.append(tail[1])
            if not any(w > 0 for w in wts):
                return self.last_v
            return weighted_quantile(np.asarray(vals), np.asarray(wts), self.q)
        sk = self.sketch
        assert sk is not None
        if tail is not None:
            sk = sk.copy()
            sk.add(tail[0], tail[1])
        return sk.quantile(self.q) if sk.count > 0 else self.last_v


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
        return lambda: Rate(rate_of)
    if key == "mean":
        return TimeMean if tw else Mean
    if key == "variance":
        return TimeVariance if tw else Variance
    if key == "stddev":
        return TimeStddev if tw else Stddev
    q = parse_quantile(key)
    if q is not None:
        cls = TimeQuantile if tw else Quantile
        return lambda: cls(q, key, exact=exact, relative_accuracy=relative_accuracy)
    raise AssertionError(key)  # pragma: no cover - canonical_aggregate validated it
