"""``Data``: a time series of ``(time_s, value)`` samples with range queries.

The shapes follow happysim 0.2.5 (models written for it read these unchanged): ``values``
is the list of ``(time, value)`` pairs, ``times()``/``raw_values()`` the columns, an
aggregate over no samples is ``0.0``, ``bucket()`` lists only the windows that have
samples, ``rate(window_s)`` is a ``Data`` of counts per second. The query API
(``sim.query``) is where "no data" is ``None``.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from happysimulator.core.temporal import Duration, Instant

_NS = 1_000_000_000


def _secs(t: Any) -> float:
    if t.__class__ is float:
        return t
    if isinstance(t, (Instant, Duration)):
        return t._ns / _NS
    if isinstance(t, (int, float)):
        return float(t)
    raise TypeError(f"expected Instant, Duration or float seconds, got {type(t).__name__}")


def _check_p(p: float) -> float:
    p = float(p)
    if not 0.0 <= p <= 1.0:
        hint = f" (did you mean {p / 100}?)" if 1.0 < p <= 100.0 else ""
        raise ValueError(f"percentile p must be in [0, 1], got {p}{hint}")
    return p


def _percentile_sorted(xs: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default method)."""
    n = len(xs)
    pos = p * (n - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    frac = pos - lo
    return xs[lo] + (xs[hi] - xs[lo]) * frac


class _Column(list):
    """A list that can also be called (``b.counts`` and ``b.counts()`` are the same):
    happysim 0.2.5 exposes these columns as methods."""

    __slots__ = ()

    def __call__(self) -> list:
        return list(self)


class Data:
    """Samples kept in time order; ``between(t1, t2)`` is half-open ``[t1, t2)``, O(log n)."""

    __slots__ = ("_times", "_values", "_sorted", "name")

    def __init__(self, name: str | None = None) -> None:
        self._times: list[float] = []
        self._values: list[Any] = []
        self._sorted = True
        self.name = name

    @classmethod
    def _from_lists(cls, times: list[float], values: list[Any], name: str | None = None) -> Data:
        d = cls(name)
        d._times = times
        d._values = values
        return d

    def add_stat(self, value: Any, time: Instant | float) -> None:
        t = _secs(time)
        times = self._times
        if times and t < times[-1]:
            self._sorted = False
        times.append(t)
        self._values.append(value)

    add = add_stat

    def clear(self) -> None:
        self._times = []
        self._values = []
        self._sorted = True

    def _ensure_sorted(self) -> None:
        if not self._sorted:
            order = sorted(range(len(self._times)), key=self._times.__getitem__)
            self._times = [self._times[i] for i in order]
            self._values = [self._values[i] for i in order]
            self._sorted = True

    # ---- access -------------------------------------------------------------------------
    @property
    def values(self) -> list[tuple[float, Any]]:
        """The samples as ``(time_s, value)`` pairs, in time order."""
        return self.samples()

    def times(self) -> list[float]:
        """The sample times (seconds), in time order."""
        self._ensure_sorted()
        return list(self._times)

    def raw_values(self) -> list[Any]:
        """The sample values, in time order."""
        self._ensure_sorted()
        return list(self._values)

    def samples(self) -> list[tuple[float, Any]]:
        self._ensure_sorted()
        return list(zip(self._times, self._values, strict=True))

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[tuple[float, Any]]:
        return iter(self.samples())

    def __bool__(self) -> bool:
        return bool(self._values)

    # ---- queries ------------------------------------------------------------------------
    def between(self, start: Instant | float, end: Instant | float) -> Data:
        """Samples with ``start <= time < end``."""
        t1, t2 = _secs(start), _secs(end)
        if t2 < t1:
            raise ValueError(f"between(start, end) needs start <= end, got start={t1}, end={t2}")
        self._ensure_sorted()
        i = bisect_left(self._times, t1)
        j = bisect_left(self._times, t2, i)
        return Data._from_lists(self._times[i:j], self._values[i:j], self.name)

    def count(self) -> int:
        return len(self._values)

    def sum(self) -> float:
        """Sum of the values (0.0 without samples)."""
        return math.fsum(self._values) if self._values else 0.0

    def mean(self) -> float:
        """Mean of the values (0.0 without samples)."""
        v = self._values
        return math.fsum(v) / len(v) if v else 0.0

    def min(self) -> float:
        return min(self._values) if self._values else 0.0

    def max(self) -> float:
        return max(self._values) if self._values else 0.0

    def std(self) -> float:
        """Population standard deviation (0.0 with fewer than two samples)."""
        v = self._values
        if len(v) < 2:
            return 0.0
        m = math.fsum(v) / len(v)
        return math.sqrt(max(math.fsum((x - m) ** 2 for x in v) / len(v), 0.0))

    stddev = std

    def percentile(self, p: float) -> float:
        """``p`` in ``[0, 1]`` (0.99 = p99), linear interpolation; 0.0 without samples."""
        p = _check_p(p)
        v = self._values
        if not v:
            return 0.0
        return float(_percentile_sorted(sorted(v), p))

    def first(self) -> Any:
        """The earliest value (None without samples)."""
        self._ensure_sorted()
        return self._values[0] if self._values else None

    def last(self) -> Any:
        """The latest value (None without samples)."""
        self._ensure_sorted()
        return self._values[-1] if self._values else None

    def rate(self, window_s: float | Duration = 1.0) -> Data:
        """Samples per second in each window ``[k*w, (k+1)*w)`` that has samples, as a
        ``Data`` of ``(window start, count / w)``."""
        b = self.bucket(window_s)
        w = b.window_s
        return Data._from_lists(list(b.times), [c / w for c in b.counts], self.name)

    def bucket(self, window_s: float | Duration = 1.0) -> BucketedData:
        """Aggregate into windows ``[k*w, (k+1)*w)`` aligned to time 0 (only the windows
        that have samples)."""
        w = _secs(window_s)
        if not w > 0:
            raise ValueError(f"bucket window must be > 0, got {w}")
        return BucketedData.from_data(self, w)

    def to_dict(self) -> dict[str, list[Any]]:
        self._ensure_sorted()
        return {"times": list(self._times), "values": list(self._values)}

    def __repr__(self) -> str:
        return f"<Data {self.name or ''} n={len(self._values)}>"


class BucketedData:
    """Per-window statistics of a ``Data``, one row per window that has samples.

    Columns (each a list, also callable as in happysim 0.2.5): ``times`` (window starts),
    ``counts``, ``sums``, ``means``, ``mins``, ``maxes``, ``p50s``, ``p99s``.
    """

    __slots__ = ("window_s", "times", "counts", "sums", "means", "mins", "maxes", "p50s",
                 "p99s")

    def __init__(self, window_s: float | None = None) -> None:
        self.window_s = window_s
        self.times: _Column = _Column()
        self.counts: _Column = _Column()
        self.sums: _Column = _Column()
        self.means: _Column = _Column()
        self.mins: _Column = _Column()
        self.maxes: _Column = _Column()
        self.p50s: _Column = _Column()
        self.p99s: _Column = _Column()

    @classmethod
    def from_data(cls, data: Data, window_s: float) -> BucketedData:
        out = cls(window_s)
        data._ensure_sorted()
        times, values = data._times, data._values
        if not times:
            return out
        # window index on integer nanoseconds: no float boundary drift
        w_ns = round(window_s * _NS)
        groups: dict[int, list[float]] = {}
        for t, v in zip(times, values, strict=True):
            groups.setdefault(round(t * _NS) // w_ns, []).append(v)
        for k in sorted(groups):
            g = groups[k]
            s = sorted(g)
            total = math.fsum(g)
            out.times.append(k * w_ns / _NS)
            out.counts.append(len(g))
            out.sums.append(total)
            out.means.append(total / len(g))
            out.mins.append(s[0])
            out.maxes.append(s[-1])
            out.p50s.append(_percentile_sorted(s, 0.5))
            out.p99s.append(_percentile_sorted(s, 0.99))
        return out

    @property
    def starts(self) -> list[float]:
        return self.times

    @property
    def maxs(self) -> list[float]:
        return self.maxes

    def rates(self) -> list[float]:
        """Samples per second in each window."""
        w = self.window_s
        if not w:
            raise ValueError("this BucketedData has no window size")
        return [c / w for c in self.counts]

    def __len__(self) -> int:
        return len(self.times)

    def __bool__(self) -> bool:
        return bool(self.times)

    def rows(self) -> list[dict[str, Any]]:
        w = self.window_s or 0.0
        return [
            {"start": self.times[i], "end": self.times[i] + w, "count": self.counts[i],
             "sum": self.sums[i], "mean": self.means[i], "min": self.mins[i],
             "max": self.maxes[i], "p50": self.p50s[i], "p99": self.p99s[i]}
            for i in range(len(self.times))
        ]

    def to_dict(self) -> dict[str, list[Any]]:
        """Column copies under the happysim 0.2.5 keys."""
        return {"time_s": list(self.times), "mean": list(self.means), "p50": list(self.p50s),
                "p99": list(self.p99s), "max": list(self.maxes), "count": list(self.counts),
                "sum": list(self.sums)}

    def __repr__(self) -> str:
        return f"<BucketedData window={self.window_s}s buckets={len(self.times)}>"


__all__ = ["Data", "BucketedData"]
