"""Time-weighted (gauge) aggregators: mean, variance, stddev and quantiles weighted by
how long each value was held. See :mod:`operators.aggregators` ("Sample vs time
weighting"); build them with ``make_aggregator(name, weighting="time")``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from operators.quantiles import EXACT_LIMIT, weighted_quantile
from operators.sample_aggregators import _Agg
from operators.sketch import QuantileSketch

__all__ = ["TimeMean", "TimeVariance", "TimeStddev", "TimeQuantile"]


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
            if len(self.vals) > EXACT_LIMIT and not self.force_exact:
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
