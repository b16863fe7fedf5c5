"""Sample-weighted aggregators: count, sum, min, max, first, last, rate, mean,
variance, stddev and quantiles, each incremental (``add``) and mergeable (``merge``).
See :mod:`operators.aggregators` for the contract; build them with ``make_aggregator``.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np

from operators.quantiles import EXACT_LIMIT, linear_quantile
from operators.sketch import QuantileSketch

__all__ = ["Count", "Sum", "Mean", "Min", "Max", "Variance", "Stddev", "Quantile", "Rate",
           "First", "Last", "quantile_of_factory"]


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
            if len(self.values) > EXACT_LIMIT and not self.force_exact:
                self._spill()
        else:
            self.sketch.add(v)  # type: ignore[union-attr]

    def merge(self, other: Quantile) -> None:
        self._check(other)
        if other.sketch is None and self.values is not None:
            self.values.extend(other.values or ())
            if len(self.values) > EXACT_LIMIT and not self.force_exact:
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
            if len(vals) <= EXACT_LIMIT:
                return linear_quantile(vals, self.q)
            return float(np.quantile(vals, self.q))
        return self.sketch.quantile(self.q)  # type: ignore[union-attr]


def quantile_of_factory(factory: Any) -> float | None:
    """``q`` when ``factory`` makes sample :class:`Quantile` aggregators (as
    ``aggregator_factory("p99")`` does), else None. Such an aggregator's result on up to
    ``EXACT_LIMIT`` values is ``linear_quantile(values, q)`` whatever its options, so a
    caller may keep the raw values and build the aggregator only past that limit.
    """
    if isinstance(factory, partial) and factory.func is Quantile and factory.args:
        q = factory.args[0]
        return q if isinstance(q, float) else None
    return None
