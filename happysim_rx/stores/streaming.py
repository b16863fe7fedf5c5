"""Bounded metric store: memory independent of run length.

Per series:

* a ring of the most recent ``raw_capacity`` raw samples: queries whose range it fully
  covers are answered **exactly** (same code as the exact store);
* a *fine* tier of ``fine_buckets`` time buckets of ``bucket_width`` seconds, and a
  *coarse* tier of at most ``coarse_buckets`` buckets that doubles its width (merging
  pairs) when full, so the whole history stays summarized at decreasing resolution.
  Each bucket holds count/sum/sum of squares/min/max/first/last and a mergeable
  ``QuantileSketch`` (duration-weighted for gauges). Older answers are **approximate**:
  quantiles within ``relative_accuracy`` (relative) of an item of that rank among the
  buckets used; range edges are snapped to bucket edges (``time_resolution``).

Every answer says which: ``RangeAnswer.exact``, ``error_bound``, ``time_resolution``.

>>> s = StreamingMetricStore(raw_capacity=100)
>>> ser = s.series_for("Sink", "latency", "sample")
>>> for i in range(1000): ser.append(i * 0.01, 1.0)
>>> a = s.aggregate([ser], ["count"], 0.0, 10.0, weighting="sample")
>>> a.values["count"], a.exact
(1000.0, False)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from happysim_rx.observation import ObservationKind
from happysim_rx.stores._series_map import SeriesMap
from happysim_rx.stores.compute import exact_aggregates, gauge_segments
from happysim_rx.stores.metric import RangeAnswer
from operators.aggregators import parse_quantile
from operators.sketch import QuantileSketch

__all__ = ["StreamingMetricStore", "StreamingSeries"]

_CHUNK = 1024  # appends are binned in vectorized chunks of this many samples


class _Bucket:
    """Summary of one time bucket; mergeable."""

    __slots__ = ("n", "s", "s2", "lo", "hi", "ft", "fv", "lt", "lv", "w", "ws", "ws2", "sketch")

    def __init__(self, ra: float) -> None:
        self.n = 0
        self.s = self.s2 = 0.0
        self.lo, self.hi = math.inf, -math.inf
        self.ft, self.fv, self.lt, self.lv = math.inf, 0.0, -math.inf, 0.0
        self.w = self.ws = self.ws2 = 0.0  # time-weighted: seconds, sum v*dt, sum v^2*dt
        self.sketch = QuantileSketch(ra)

    def add_stats(self, n: int, s: float, s2: float, lo: float, hi: float, ft: float,
                  fv: float, lt: float, lv: float) -> None:
        """Samples summarized: count, sum, sum of squares, min, max, first and last
        (time, value); the sketch is fed separately (`QuantileSketch.add_runs`)."""
        self.n += n
        self.s += s
        self.s2 += s2
        if lo < self.lo:
            self.lo = lo
        if hi > self.hi:
            self.hi = hi
        if ft < self.ft:
            self.ft, self.fv = ft, fv
        if lt >= self.lt:
            self.lt, self.lv = lt, lv

    def add_segments(self, v: np.ndarray, w: np.ndarray) -> None:
        self.w += float(w.sum())
        self.ws += float((v * w).sum())
        self.ws2 += float((v * v * w).sum())
        self.lo, self.hi = min(self.lo, float(v.min())), max(self.hi, float(v.max()))
        self.sketch.add_many(v, w)

    def merge(self, o: _Bucket) -> None:
        self.n += o.n
        self.s += o.s
        self.s2 += o.s2
        self.lo, self.hi = min(self.lo, o.lo), max(self.hi, o.hi)
        if o.ft < self.ft:
            self.ft, self.fv = o.ft, o.fv
        if o.lt >= self.lt:
            self.lt, self.lv = o.lt, o.lv
        self.w += o.w
        self.ws += o.ws
        self.ws2 += o.ws2
        self.sketch.merge(o.sketch)

    def nbytes(self) -> int:
        return 120 + self.sketch.nbytes()


class _Tier:
    __slots__ = ("width", "capacity", "buckets", "ra")

    def __init__(self, width: float, capacity: int, ra: float) -> None:
        self.width, self.capacity, self.ra = width, capacity, ra
        self.buckets: dict[int, _Bucket] = {}

    def get(self, k: int) -> _Bucket:
        b = self.buckets.get(k)
        if b is None:
            b = self.buckets[k] = _Bucket(self.ra)
        return b

    def compact(self) -> None:
        """Double the width, merging bucket pairs (k and k+1 -> k // 2)."""
        old, self.buckets = self.buckets, {}
        self.width *= 2
        for k in sorted(old):
            nk = k // 2
            if nk in self.buckets:
                self.buckets[nk].merge(old[k])
            else:
                self.buckets[nk] = old[k]


def _split_at_boundaries(
    pt: np.ndarray, pv: np.ndarray, width: float
) -> tuple[np.ndarray, np.ndarray]:
    """Insert points at every multiple of ``width`` inside (pt[0], pt[-1]) carrying the
    previous value, so that every segment lies in one bucket."""
    k0, k1 = math.floor(pt[0] / width) + 1, math.ceil(pt[-1] / width)
    if k1 < k0:
        return pt, pv
    b = np.arange(k0, k1) * width
    b = b[(b > pt[0]) & (b < pt[-1])]
    if b.size == 0:
        return pt, pv
    idx = np.searchsorted(pt, b, side="right")
    return np.insert(pt, idx, b), np.insert(pv, idx, pv[idx - 1])


class StreamingSeries:
    """One bounded series; ``append`` is the bus's emit target."""

    def __init__(
        self, store: StreamingMetricStore, source: str, name: str, series_kind: str | None
    ):
        self.source, self.name, self.series_kind = source, name, series_kind
        self._store = store
        self._pt: list[float] = []
        self._pv: list[float] = []
        cap = store.raw_capacity
        self._rt = np.empty(cap)
        self._rv = np.empty(cap)
        self._rhead = 0  # next write position
        self._rcount = 0
        self.n_total = 0
        self.evicted_t = -math.inf  # time and value of the newest evicted raw sample
        self.evicted_v: float | None = None
        self.open_t: float | None = None  # gauge: last change (its segment is open)
        self.open_v = 0.0
        ra = store.relative_accuracy
        self.fine = _Tier(store.bucket_width, store.fine_buckets, ra)
        self.coarse = _Tier(store.bucket_width, store.coarse_buckets, ra)

    @property
    def is_gauge(self) -> bool:
        return self.series_kind == "gauge"

    def append(self, t: float, v: float, tags: dict | None = None) -> None:
        self._pt.append(t)
        self._pv.append(v)
        if len(self._pt) >= _CHUNK:
            self.flush()

    def __len__(self) -> int:
        return self.n_total + len(self._pt)

    # -- ingestion --------------------------------------------------------------------
    def extend(self, t: np.ndarray, v: np.ndarray) -> None:
        """Append many samples at once (times in order). Ingestion still happens in
        chunks of exactly `_CHUNK` samples, so a batched and a sample-by-sample feed
        leave bit-identical state (float sums depend on chunk boundaries)."""
        t = np.asarray(t, dtype=np.float64)
        v = np.asarray(v, dtype=np.float64)
        i, n = 0, t.size
        if self._pt:  # complete the pending chunk first
            room = _CHUNK - len(self._pt)
            self._pt.extend(t[:room].tolist())
            self._pv.extend(v[:room].tolist())
            i = min(room, n)
            if len(self._pt) >= _CHUNK:
                self.flush()
        while n - i >= _CHUNK:  # whole chunks straight from the arrays
            self._ingest(t[i:i + _CHUNK].copy(), v[i:i + _CHUNK].copy())
            i += _CHUNK
        if i < n:
            self._pt.extend(t[i:].tolist())
            self._pv.extend(v[i:].tolist())

    def flush(self) -> None:
        if not self._pt:
            return
        t = np.asarray(self._pt, dtype=np.float64)
        v = np.asarray(self._pv, dtype=np.float64)
        self._pt, self._pv = [], []
        self._ingest(t, v)

    def _ingest(self, t: np.ndarray, v: np.ndarray) -> None:
        if t.size > 1 and bool((t[1:] < t[:-1]).any()):
            order = np.argsort(t, kind="stable")
            t, v = t[order], v[order]
        self.n_total += int(t.size)
        self._ring_write(t, v)
        self._bucket_samples(t, v)
        if self.is_gauge:
            self._bucket_gauge(t, v)
        self._evict()

    def _ring_write(self, t: np.ndarray, v: np.ndarray) -> None:
        cap = self._rt.size
        if t.size >= cap:
            if self._rcount or t.size > cap:
                # Everything older than the last ``cap`` samples is evicted.
                last_ev = -cap - 1 if t.size > cap else None
                if last_ev is not None:
                    self.evicted_t, self.evicted_v = float(t[last_ev]), float(v[last_ev])
                elif self._rcount:
                    self._note_evicted(self._rcount)
            self._rt[:], self._rv[:] = t[-cap:], v[-cap:]
            self._rhead, self._rcount = 0, cap
            return
        overflow = self._rcount + t.size - cap
        if overflow > 0:
            self._note_evicted(overflow)
        idx = (self._rhead + np.arange(t.size)) % cap
        self._rt[idx], self._rv[idx] = t, v
        self._rhead = int((self._rhead + t.size) % cap)
        self._rcount = min(cap, self._rcount + t.size)

    def _note_evicted(self, k: int) -> None:
        """The oldest ``k`` ring entries are about to be overwritten."""
        cap = self._rt.size
        oldest = (self._rhead - self._rcount) % cap
        newest_evicted = (oldest + k - 1) % cap
        self.evicted_t = float(self._rt[newest_evicted])
        self.evicted_v = float(self._rv[newest_evicted])
        self._rcount -= k

    def _bucket_samples(self, t: np.ndarray, v: np.ndarray) -> None:
        # All buckets at once: per-bucket statistics by one vectorized reduction, then
        # scalar updates; sketch keys computed once for the whole chunk (see
        # `QuantileSketch.add_runs`). Per-bucket numpy calls would cost more than the
        # data: a 10 s bucket of an 8/s series holds ~80 samples.
        w = self.fine.width
        keys = np.floor(t / w).astype(np.int64)
        cuts = np.flatnonzero(np.diff(keys)) + 1
        starts = np.concatenate(([0], cuts))
        ends = np.concatenate((cuts, [t.size]))
        sums = np.add.reduceat(v, starts).tolist()
        sq = np.add.reduceat(v * v, starts).tolist()
        lows = np.minimum.reduceat(v, starts).tolist()
        highs = np.maximum.reduceat(v, starts).tolist()
        tl, vl = t.tolist(), v.tolist()
        get = self.fine.get
        a_list, b_list = starts.tolist(), ends.tolist()
        buckets = []
        for i, (a, b) in enumerate(zip(a_list, b_list, strict=True)):
            bucket = get(keys[a].item())
            bucket.add_stats(b - a, sums[i], sq[i], lows[i], highs[i], tl[a], vl[a],
                             tl[b - 1], vl[b - 1])
            buckets.append(bucket)
        if not self.is_gauge:
            QuantileSketch.add_runs([bk.sketch for bk in buckets], v, a_list, b_list)

    def _bucket_gauge(self, t: np.ndarray, v: np.ndarray) -> None:
        if self.open_t is not None:
            t = np.concatenate(([self.open_t], t))
            v = np.concatenate(([self.open_v], v))
        self.open_t, self.open_v = float(t[-1]), float(v[-1])
        if t.size < 2:
            return
        w = self.fine.width
        # A long quiet gauge would create many fine buckets: the part older than the
        # fine tier's reach goes straight to the coarse tier.
        cutoff = t[-1] - self.fine.capacity * w
        if t[0] < cutoff:
            j = int(np.searchsorted(t, cutoff, side="right"))
            ct, cv = np.append(t[:j], cutoff), np.append(v[:j], v[j - 1])
            while (ct[-1] - ct[0]) / self.coarse.width > self.coarse.capacity:
                self.coarse.compact()
            self._segments_into(self.coarse, ct, cv)
            t, v = np.concatenate(([cutoff], t[j:])), np.concatenate(([v[j - 1]], v[j:]))
        self._segments_into(self.fine, t, v)

    @staticmethod
    def _segments_into(tier: _Tier, t: np.ndarray, v: np.ndarray) -> None:
        """Segments [t_i, t_i+1) holding v_i (the last point only ends the last one)."""
        if t.size < 2:
            return
        t, v = _split_at_boundaries(t, v, tier.width)
        seg_w = np.diff(t)
        seg_v = v[:-1]
        keys = np.floor(t[:-1] / tier.width).astype(np.int64)
        cuts = np.flatnonzero(np.diff(keys)) + 1
        starts = np.concatenate(([0], cuts))
        ends = np.concatenate((cuts, [seg_w.size]))
        if starts.size * 8 < seg_w.size:
            for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
                tier.get(int(keys[a])).add_segments(seg_v[a:b], seg_w[a:b])
            return
        # sparse buckets: one vectorized reduction, then scalar updates (see above)
        vw = seg_v * seg_w
        wsum = np.add.reduceat(seg_w, starts).tolist()
        ws = np.add.reduceat(vw, starts).tolist()
        ws2 = np.add.reduceat(vw * seg_v, starts).tolist()
        lows = np.minimum.reduceat(seg_v, starts).tolist()
        highs = np.maximum.reduceat(seg_v, starts).tolist()
        vl, wl = seg_v.tolist(), seg_w.tolist()
        get = tier.get
        for i, (a, b) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
            bucket = get(keys[a].item())
            bucket.w += wsum[i]
            bucket.ws += ws[i]
            bucket.ws2 += ws2[i]
            if lows[i] < bucket.lo:
                bucket.lo = lows[i]
            if highs[i] > bucket.hi:
                bucket.hi = highs[i]
            add = bucket.sketch.add
            for x, wt in zip(vl[a:b], wl[a:b], strict=True):
                if wt > 0:
                    add(x, wt)

    def _evict(self) -> None:
        fine, coarse = self.fine, self.coarse
        if len(fine.buckets) > fine.capacity:
            for k in sorted(fine.buckets)[: len(fine.buckets) - fine.capacity]:
                b = fine.buckets.pop(k)
                ck = math.floor(k * fine.width / coarse.width)
                if ck in coarse.buckets:
                    coarse.buckets[ck].merge(b)
                else:
                    coarse.buckets[ck] = b
        while len(coarse.buckets) > coarse.capacity:
            coarse.compact()

    # -- answers ----------------------------------------------------------------------
    def ring(self) -> tuple[np.ndarray, np.ndarray]:
        """Raw retained samples, time-ordered."""
        self.flush()
        cap = self._rt.size
        idx = (self._rhead - self._rcount + np.arange(self._rcount)) % cap
        t, v = self._rt[idx], self._rv[idx]
        if t.size > 1 and bool((t[1:] < t[:-1]).any()):
            order = np.argsort(t, kind="stable")
            t, v = t[order], v[order]
        return t, v

    def covers(self, start: float) -> bool:
        """Can [start, ...) be answered exactly from the raw ring?"""
        self.flush()
        return self.evicted_v is None or start > self.evicted_t

    def exact_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Ring data, with the newest evicted change prepended for gauges (carry-in)."""
        t, v = self.ring()
        if self.is_gauge and self.evicted_v is not None:
            t = np.concatenate(([self.evicted_t], t))
            v = np.concatenate(([self.evicted_v], v))
        return t, v

    def buckets_in(self, start: float, end: float) -> list[tuple[float, float, _Bucket]]:
        """(bucket start, width, bucket) for buckets at least half inside [start, end)."""
        self.flush()
        out = []
        for tier in (self.coarse, self.fine):
            w = tier.width
            for k, b in tier.buckets.items():
                b0 = k * w
                overlap = min(b0 + w, end) - max(b0, start)
                if overlap >= 0.5 * w or (overlap > 0 and start <= b0 and b0 + w <= end):
                    out.append((b0, w, b))
        return out

    def nbytes(self) -> int:
        tiers = sum(b.nbytes() for tr in (self.fine, self.coarse) for b in tr.buckets.values())
        return tiers + self._rt.nbytes + self._rv.nbytes + 16 * len(self._pt)

    def n_buckets(self) -> int:
        return len(self.fine.buckets) + len(self.coarse.buckets)


class StreamingMetricStore(SeriesMap):
    """Bounded-memory metric store; see module docstring for the accuracy contract."""

    kinds = frozenset({ObservationKind.METRIC})
    exact = False

    def __init__(
        self,
        *,
        raw_capacity: int = 8192,
        bucket_width: float = 1.0,
        fine_buckets: int = 64,
        coarse_buckets: int = 128,
        relative_accuracy: float = 0.005,
    ) -> None:
        if bucket_width <= 0 or raw_capacity < 1 or fine_buckets < 1 or coarse_buckets < 2:
            raise ValueError(
                "bucket_width > 0, raw_capacity >= 1, fine_buckets >= 1, coarse_buckets >= 2"
            )
        self.raw_capacity = raw_capacity
        self.bucket_width = float(bucket_width)
        self.fine_buckets = fine_buckets
        self.coarse_buckets = coarse_buckets
        self.relative_accuracy = relative_accuracy
        super().__init__()

    def _new_series(self, source: str, name: str, series_kind: str | None) -> Any:
        return StreamingSeries(self, source, name, series_kind)

    def time_bounds(self, series: list[StreamingSeries]) -> tuple[float, float] | None:
        lo, hi = math.inf, -math.inf
        for s in series:
            s.flush()
            t, _ = s.ring()
            if t.size:
                hi = max(hi, float(t[-1]))
                lo = min(lo, float(t[0]))
            for tier in (s.coarse, s.fine):
                if tier.buckets:
                    lo = min(lo, min(tier.buckets) * tier.width)
        return None if lo > hi else (lo, hi)

    def nbytes(self) -> int:
        return sum(s.nbytes() for s in self._series.values())

    def finish(self, now: float) -> None:
        for s in self._series.values():
            s.flush()

    def raw(
        self, series: list[StreamingSeries], start: float, end: float, where: dict | None = None
    ) -> list[tuple[float, str, str, float, dict | None]]:
        """Raw samples still in the rings (older ones are only summarized)."""
        rows = []
        for s in series:
            t, v = s.ring()
            i0, i1 = int(np.searchsorted(t, start)), int(np.searchsorted(t, end))
            rows.extend((float(t[j]), s.source, s.name, float(v[j]), None) for j in range(i0, i1))
        rows.sort(key=lambda r: r[0])
        return rows

    def aggregate(
        self,
        series: list[StreamingSeries],
        specs: list[str],
        start: float,
        end: float,
        *,
        weighting: str,
        where: dict | None = None,
        counter: bool = False,
        hold_until: float | None = None,
    ) -> RangeAnswer:
        if where:
            raise ValueError("where(**tags) needs an exact store (ObservabilityConfig.full())")
        if all(s.covers(start) for s in series):
            return self._exact(series, specs, start, end, weighting, counter, hold_until)
        return self._approx(series, specs, start, end, weighting, counter, hold_until)

    def _exact(self, series, specs, start, end, weighting, counter, hold_until) -> RangeAnswer:
        ts, vs, segv, segw = [], [], [], []
        for s in series:
            t, v = s.exact_arrays()
            if weighting == "time":
                sv, sw, i0, i1 = gauge_segments(t, v, start, end, hold_until)
                segv.append(sv)
                segw.append(sw)
            else:
                i0, i1 = int(np.searchsorted(t, start)), int(np.searchsorted(t, end))
            ts.append(t[i0:i1])
            vs.append(v[i0:i1])
        times, values = np.concatenate(ts), np.concatenate(vs)
        if len(series) > 1:
            order = np.argsort(times, kind="stable")
            times, values = times[order], values[order]
        vals = exact_aggregates(
            specs,
            times,
            values,
            start,
            end,
            weighting=weighting,
            seg_values=np.concatenate(segv) if segv else None,
            seg_weights=np.concatenate(segw) if segw else None,
            counter=counter,
        )
        return RangeAnswer(vals, exact=True)

    def _approx(self, series, specs, start, end, weighting, counter, hold_until) -> RangeAnswer:
        acc = _Bucket(self.relative_accuracy)
        res = 0.0
        lo_edge, hi_edge = math.inf, -math.inf
        for s in series:
            for b0, w, b in s.buckets_in(start, end):
                acc.merge(b)
                res = max(res, w)
                lo_edge, hi_edge = min(lo_edge, b0), max(hi_edge, b0 + w)
            stop = end if hold_until is None else min(end, hold_until)
            if s.is_gauge and s.open_t is not None and stop >= s.open_t:
                # The open last segment (value still held) up to the range end or now.
                seg0 = max(s.open_t, start)
                if stop >= seg0:
                    acc.add_segments(np.array([s.open_v]), np.array([stop - seg0]))
        tw = weighting == "time" and acc.w > 0
        out: dict[str, float | None] = {}
        span = end - start
        for spec in specs:
            if spec == "count":
                out[spec] = float(acc.n)
            elif spec == "sum":
                out[spec] = acc.s if acc.n else None
            elif spec == "rate":
                ok = math.isfinite(span) and span > 0
                out[spec] = ((acc.s if counter else acc.n) / span) if ok else None
            elif acc.n == 0 and acc.w == 0:
                out[spec] = None
            elif spec == "min":
                out[spec] = acc.lo
            elif spec == "max":
                out[spec] = acc.hi
            elif spec == "first":
                out[spec] = acc.fv if acc.n else None
            elif spec == "last":
                out[spec] = acc.lv if acc.n else None
            elif spec in ("mean", "variance", "stddev"):
                if tw:
                    mean, ex2 = acc.ws / acc.w, acc.ws2 / acc.w
                elif acc.n:
                    mean, ex2 = acc.s / acc.n, acc.s2 / acc.n
                else:
                    out[spec] = None
                    continue
                var = max(ex2 - mean * mean, 0.0)
                out[spec] = (
                    mean if spec == "mean" else var if spec == "variance" else math.sqrt(var)
                )
            else:
                q = parse_quantile(spec)
                assert q is not None
                out[spec] = acc.sketch.quantile(q) if acc.sketch.count > 0 else None
        has_q = any(parse_quantile(sp) is not None for sp in specs)
        return RangeAnswer(
            out,
            exact=False,
            error_bound=self.relative_accuracy if has_q else None,
            time_resolution=res or self.bucket_width,
        )
