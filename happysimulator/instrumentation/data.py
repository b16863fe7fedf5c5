"""``Data``: a time series of ``(time_s, value)`` samples with range queries."""

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


class Data:
    """Samples kept in time order; ``between(t1, t2)`` is half-open ``[t1, t2)``, O(log n).

    Statistics return ``None`` when there are no samples.
    """

    __slots__ = ("_times", "_values", "_sorted", "name")

    def __init__(self, name: str | None = None) -> None:
        self._times: list[float] = []
        self._values: list[float] = []
        self._sorted = True
        self.name = name

    @classmethod
    def _from_lists(cls, times: list[float], values: list[float], name: str | None = None) -> Data:
        d = cls(name)
        d._times = times
        d._values = values
        return d

    def add_stat(self, value: float, time: Instant | float) -> None:
        t = _secs(time)
        times = self._times
        if times and t < times[-1]:
            self._sorted = False
        times.append(t)
        self._values.append(value)

    add = add_stat

    def _ensure_sorted(self) -> None:
        if not self._sorted:
            order = sorted(range(len(self._times)), key=self._times.__getitem__)
            self._times = [self._times[i] for i in order]
            self._values = [self._values[i] for i in order]
            self._sorted = True

    # ---- access -------------------------------------------------------------------------
    @property
    def times(self) -> list[float]:
        self._ensure_sorted()
        return self._times

    @property
    def values(self) -> list[float]:
        self._ensure_sorted()
        return self._values

    def samples(self) -> list[tuple[float, float]]:
        self._ensure_sorted()
        return list(zip(self._times, self._values, strict=True))

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[tuple[float, float]]:
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

    def sum(self) -> float | None:
        return math.fsum(self._values) if self._values else None

    def mean(self) -> float | None:
        v = self._values
        return math.fsum(v) / len(v) if v else None

    def min(self) -> float | None:
        return min(self._values) if self._values else None

    def max(self) -> float | None:
        return max(self._values) if self._values else None

    def std(self) -> float | None:
        """Population standard deviation."""
        v = self._values
        if not v:
            return None
        m = math.fsum(v) / len(v)
        return math.sqrt(max(math.fsum((x - m) ** 2 for x in v) / len(v), 0.0))

    stddev = std

    def percentile(self, p: float) -> float | None:
        """``p`` in ``[0, 1]`` (0.99 = p99), linear interpolation."""
        p = _check_p(p)
        v = self._values
        if not v:
            return None
        return _percentile_sorted(sorted(v), p)

    def first(self) -> float | None:
        return self.values[0] if self._values else None

    def last(self) -> float | None:
        return self.values[-1] if self._values else None

    def rate(
        self, start: Instant | float | None = None, end: Instant | float | None = None
    ) -> float | None:
        """Samples per simulated second over ``[start, end)`` (default: first to last sample)."""
        if start is not None or end is not None:
            t = self.times
            if not t and (start is None or end is None):
                return None
            t1 = _secs(start) if start is not None else t[0]
            t2 = _secs(end) if end is not None else t[-1]
            if t2 <= t1:
                raise ValueError(f"rate needs start < end, got start={t1}, end={t2}")
            return len(self.between(t1, t2)) / (t2 - t1)
        t = self.times
        if len(t) < 2 or t[-1] <= t[0]:
            return None
        return len(t) / (t[-1] - t[0])

    def bucket(self, window_s: float | Duration) -> BucketedData:
        """Aggregate into windows ``[k*w, (k+1)*w)`` aligned to time 0."""
        w = _secs(window_s)
        if not w > 0:
            raise ValueError(f"bucket window must be > 0, got {w}")
        return BucketedData.from_data(self, w)

    def to_dict(self) -> dict[str, list[float]]:
        return {"times": list(self.times), "values": list(self._values)}

    def __repr__(self) -> str:
        return f"<Data {self.name or ''} n={len(self._values)}>"


class BucketedData:
    """Per-window statistics; empty windows between the first and last have count 0."""

    __slots__ = ("window_s", "starts", "counts", "sums", "means", "mins", "maxs", "p50s", "p99s")

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self.starts: list[float] = []
        self.counts: list[int] = []
        self.sums: list[float] = []
        self.means: list[float | None] = []
        self.mins: list[float | None] = []
        self.maxs: list[float | None] = []
        self.p50s: list[float | None] = []
        self.p99s: list[float | None] = []

    @classmethod
    def from_data(cls, data: Data, window_s: float) -> BucketedData:
        out = cls(window_s)
        times, values = data.times, data.values
        if not times:
            return out
        w_ns = round(window_s * _NS)
        keys = [round(t * _NS) // w_ns for t in times]
        k0, k1 = keys[0], keys[-1]
        groups: list[list[float]] = [[] for _ in range(k1 - k0 + 1)]
        for k, v in zip(keys, values, strict=True):
            groups[k - k0].append(v)
        for idx, g in enumerate(groups):
            out.starts.append((k0 + idx) * w_ns / _NS)
            out.counts.append(len(g))
            if g:
                s = sorted(g)
                out.sums.append(math.fsum(g))
                out.means.append(math.fsum(g) / len(g))
                out.mins.append(s[0])
                out.maxs.append(s[-1])
                out.p50s.append(_percentile_sorted(s, 0.5))
                out.p99s.append(_percentile_sorted(s, 0.99))
            else:
                out.sums.append(0.0)
                for col in (out.means, out.mins, out.maxs, out.p50s, out.p99s):
                    col.append(None)
        return out

    def rates(self) -> list[float]:
        """Samples per second in each window."""
        return [c / self.window_s for c in self.counts]

    def __len__(self) -> int:
        return len(self.starts)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "start": self.starts[i],
                "end": self.starts[i] + self.window_s,
                "count": self.counts[i],
                "sum": self.sums[i],
                "mean": self.means[i],
                "min": self.mins[i],
                "max": self.maxs[i],
                "p50": self.p50s[i],
                "p99": self.p99s[i],
            }
            for i in range(len(self.starts))
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_s": self.window_s,
            "starts": self.starts,
            "counts": self.counts,
            "sums": self.sums,
            "means": self.means,
            "mins": self.mins,
            "maxs": self.maxs,
            "p50s": self.p50s,
            "p99s": self.p99s,
        }

    def __repr__(self) -> str:
        return f"<BucketedData window={self.window_s}s buckets={len(self.starts)}>"


__all__ = ["Data", "BucketedData"]
