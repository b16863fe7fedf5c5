"""Bounded metric store: memory independent of run length.

Per series:

* a ring of the most recent ``raw_capacity`` raw samples;
* a *fine* tier of ``fine_buckets`` time buckets of ``bucket_width`` seconds, and a
  *coarse* tier of at most ``coarse_buckets`` buckets that doubles its width (merging
  pairs) when full, so the whole history stays summarized at decreasing resolution.
  Each bucket holds count/sum/sum of squares/min/max/first/last, time-weighted sums for
  gauges, and a mergeable ``QuantileSketch``. Each bucket knows its extent: the extents
  of a series' buckets are disjoint and lie on the grid of ``bucket_width``.

How a range ``[start, end)`` is answered (never a made-up value):

* every sample at or after the series' ``R`` (the end of the bucket holding the newest
  evicted sample) is in the ring: edges after ``R`` are used as asked, and that part is
  answered from the raw samples, exactly as the exact store would;
* an edge before ``R`` that falls inside a bucket moves to the nearer bucket edge. The
  answer states the range it really covers (``RangeAnswer.start/end``; the query rows'
  ``start``/``end``), and windows whose edges snap together merge into one row, so rows
  partition the run and counts over them add up;
* over the stated range, count, sum, rate, mean, stddev, min, max, first and last are
  exact; quantiles that used rollups are within ``relative_accuracy`` (relative) of the
  item of that rank (``error_bound``); ``exact`` is False only then.

>>> s = StreamingMetricStore(raw_capacity=100)
>>> ser = s.series_for("Sink", "latency", "sample")
>>> for i in range(1000): ser.append(i * 0.01, 1.0)
>>> a = s.aggregate([ser], ["count"], 0.0, 10.0, weighting="sample")
>>> a.values["count"], a.exact, (a.start, a.end)
(1000, True, (0.0, 10.0))
>>> a = s.aggregate([ser], ["count", "p50"], 0.25, 9.5, weighting="sample")
>>> a.values["count"], a.exact, a.error_bound, (a.start, a.end)
(950, False, 0.005, (0.0, 9.5))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from happysim_rx.observation import ObservationKind
from happysim_rx.stores._series_map import SeriesMap
from happysim_rx.stores.compute import exact_aggregates, gauge_segments, pooled_aggregates
from happysim_rx.stores.metric import RangeAnswer
from operators.aggregators import parse_quantile
from operators.sketch import QuantileSketch

__all__ = ["StreamingMetricStore", "StreamingSeries"]

_CHUNK = 1024  # appends are binned in vectorized chunks of this many samples


_FOLD_AT = 512  # pending sketch values a bucket holds before folding them in


class _Bucket:
    """Summary of one time bucket; mergeable.

    The quantile sketch is filled lazily: values are kept as pending numpy arrays and
    binned into the sketch in one ``add_many`` when a query reads it (`sketch`) or
    when more than `_FOLD_AT` are pending (memory stays bounded). Most fine buckets
    are merged into a coarse one before anyone reads them, so their handful of values
    is binned once, together with their neighbours', instead of being binned into a
    sketch of their own that is then merged (the larger part of ingest cost)."""

    __slots__ = ("n", "s", "s2", "lo", "hi", "slo", "shi", "ft", "fv", "lt", "lv", "w",
                 "ws", "ws2", "ra", "_sk", "_pv", "_pw", "_pn", "e0", "e1")

    def __init__(self, ra: float, e0: float = math.inf, e1: float = -math.inf) -> None:
        # extent [e0, e1): every sample and held segment summarized here lies in it; the
        # extents of a series' buckets never overlap and sit on the rollup grid
        self.e0, self.e1 = e0, e1
        self.n = 0
        self.s = self.s2 = 0.0
        self.lo, self.hi = math.inf, -math.inf  # samples and held values (gauges)
        self.slo, self.shi = math.inf, -math.inf  # samples only
        self.ft, self.fv, self.lt, self.lv = math.inf, 0.0, -math.inf, 0.0
        self.w = self.ws = self.ws2 = 0.0  # time-weighted: seconds, sum v*dt, sum v^2*dt
        self.ra = ra
        self._sk: QuantileSketch | None = None  # created on first fold
        # pending sketch input: value arrays and their weights (None: weight 1); a
        # bucket is fed either samples or held segments, never both (see StreamingSeries)
        self._pv: list[np.ndarray] = []
        self._pw: list[np.ndarray | None] = []
        self._pn = 0

    @property
    def sketch(self) -> QuantileSketch:
        """The bucket's quantile sketch, with every pending value binned in."""
        if self._sk is None:
            self._sk = QuantileSketch(self.ra)
        if self._pn:
            self._fold()
        return self._sk

    def fold(self) -> None:
        """Bin the pending values into the sketch now."""
        if self._pn:
            self._fold()

    def _fold(self) -> None:
        if self._sk is None:
            self._sk = QuantileSketch(self.ra)
        pv, pw = self._pv, self._pw
        self._pv, self._pw, self._pn = [], [], 0
        v = pv[0] if len(pv) == 1 else np.concatenate(pv)
        if all(w is None for w in pw):
            self._sk.add_many(v)
        else:
            w = [np.ones(x.size) if y is None else y for x, y in zip(pv, pw, strict=True)]
            self._sk.add_many(v, w[0] if len(w) == 1 else np.concatenate(w))

    def defer(self, v: np.ndarray, w: np.ndarray | None = None) -> None:
        """Sketch ``v`` (weights ``w``) later: see the class docstring."""
        self._pv.append(v)
        self._pw.append(w)
        self._pn += v.size
        if self._pn > _FOLD_AT:
            self._fold()

    def add_stats(self, n: int, s: float, s2: float, lo: float, hi: float, ft: float,
                  fv: float, lt: float, lv: float) -> None:
        """Samples summarized: count, sum, sum of squares, min, max, first and last
        (time, value); the sketch is fed separately (`defer`)."""
        self.n += n
        self.s += s
        self.s2 += s2
        if lo < self.lo:
            self.lo = lo
        if hi > self.hi:
            self.hi = hi
        if lo < self.slo:
            self.slo = lo
        if hi > self.shi:
            self.shi = hi
        if ft < self.ft:
            self.ft, self.fv = ft, fv
        if lt >= self.lt:
            self.lt, self.lv = lt, lv

    def add_segments(self, v: np.ndarray, w: np.ndarray) -> None:
        self.w += float(w.sum())
        self.ws += float((v * w).sum())
        self.ws2 += float((v * v * w).sum())
        self.lo, self.hi = min(self.lo, float(v.min())), max(self.hi, float(v.max()))
        self.defer(v, w)

    def merge(self, o: _Bucket) -> None:
        self.e0, self.e1 = min(self.e0, o.e0), max(self.e1, o.e1)
        self.n += o.n
        self.s += o.s
        self.s2 += o.s2
        self.lo, self.hi = min(self.lo, o.lo), max(self.hi, o.hi)
        self.slo, self.shi = min(self.slo, o.slo), max(self.shi, o.shi)
        if o.ft < self.ft:
            self.ft, self.fv = o.ft, o.fv
        if o.lt >= self.lt:
            self.lt, self.lv = o.lt, o.lv
        self.w += o.w
        self.ws += o.ws
        self.ws2 += o.ws2
        if o._sk is not None:
            if self._sk is None:
                self._sk = QuantileSketch(self.ra)
            self._sk.merge(o._sk)
        if o._pn:  # its pending values become ours (binned once, with ours)
            self._pv.extend(o._pv)
            self._pw.extend(o._pw)
            self._pn += o._pn
            if self._pn > _FOLD_AT:
                self._fold()

    def nbytes(self) -> int:
        pending = sum(x.nbytes for x in self._pv) + sum(
            0 if y is None else y.nbytes for y in self._pw)
        return 152 + pending + (0 if self._sk is None else self._sk.nbytes())


class _Tier:
    """Buckets keyed by ``floor(t / width)``. The fine tier's buckets span their whole
    key slot; a coarse bucket spans the union of what was merged into it (``e0, e1``)."""

    __slots__ = ("width", "capacity", "buckets", "ra", "fine")

    def __init__(self, width: float, capacity: int, ra: float, fine: bool) -> None:
        self.width, self.capacity, self.ra, self.fine = width, capacity, ra, fine
        self.buckets: dict[int, _Bucket] = {}

    def get(self, k: int) -> _Bucket:
        b = self.buckets.get(k)
        if b is None:
            w = self.width
            b = self.buckets[k] = _Bucket(self.ra, k * w, (k + 1) * w) if self.fine \
                else _Bucket(self.ra)
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


def _grid(x: float, w: float, *, up: bool) -> float:
    """``x`` rounded down (or up) to a multiple ``k * w`` of the rollup width, computed
    as the fine tier computes its edges (so equal edges compare equal)."""
    r = x / w
    k = round(r)
    if abs(r - k) > 1e-9 * max(1.0, abs(r)):
        k = math.ceil(r) if up else math.floor(r)
    return k * w


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
        self._view: _View | None = None
        ra = store.relative_accuracy
        self.fine = _Tier(store.bucket_width, store.fine_buckets, ra, fine=True)
        self.coarse = _Tier(store.bucket_width, store.coarse_buckets, ra, fine=False)

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
        self._view = None
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
        if not self.is_gauge:  # views of this chunk's copy: binned when folded
            for bk, a, b in zip(buckets, a_list, b_list, strict=True):
                bk.defer(v[a:b])

    def _bucket_gauge(self, t: np.ndarray, v: np.ndarray) -> None:
        if self.open_t is not None:
            t = np.concatenate(([self.open_t], t))
            v = np.concatenate(([self.open_v], v))
        self.open_t, self.open_v = float(t[-1]), float(v[-1])
        if t.size < 2:
            return
        w = self.fine.width
        # A long quiet gauge would create many fine buckets: the part older than the
        # fine tier's reach goes straight to the coarse tier (after the fine buckets
        # older than it, so that bucket extents stay ordered and disjoint). The cut is
        # on the rollup grid: extents stay on it.
        cutoff = math.floor((t[-1] - self.fine.capacity * w) / w) * w
        if t[0] < cutoff:
            self._evict(before=cutoff)
            j = int(np.searchsorted(t, cutoff, side="right"))
            ct, cv = np.append(t[:j], cutoff), np.append(v[:j], v[j - 1])
            while (ct[-1] - ct[0]) / self.coarse.width > self.coarse.capacity:
                self.coarse.compact()
            self._segments_into(self.coarse, ct, cv, w)
            for bk in self.coarse.buckets.values():  # nothing pending in coarse buckets
                bk.fold()
            t, v = np.concatenate(([cutoff], t[j:])), np.concatenate(([v[j - 1]], v[j:]))
        self._segments_into(self.fine, t, v, w)

    @staticmethod
    def _segments_into(tier: _Tier, t: np.ndarray, v: np.ndarray, fine_width: float) -> None:
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
        if not tier.fine:  # extents: the rollup grid cells the segments touch
            fw = fine_width
            seg_end = t[1:]
            for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
                bk = tier.get(int(keys[a]))
                bk.e0 = min(bk.e0, _grid(float(t[a]), fw, up=False))
                bk.e1 = max(bk.e1, _grid(float(seg_end[b - 1]), fw, up=True))
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
            bucket.defer(seg_v[a:b], seg_w[a:b])

    def _evict(self, before: float | None = None) -> None:
        """Move the oldest fine buckets (beyond capacity, or all older than ``before``)
        into the coarse tier; compact the coarse tier when it is over capacity."""
        fine, coarse = self.fine, self.coarse
        if before is not None:
            old = [k for k in sorted(fine.buckets) if k * fine.width < before]
        else:
            old = sorted(fine.buckets)[: max(len(fine.buckets) - fine.capacity, 0)]
        if old:
            touched = set()
            for k in old:
                b = fine.buckets.pop(k)
                ck = math.floor(k * fine.width / coarse.width)
                if ck in coarse.buckets:
                    coarse.buckets[ck].merge(b)
                else:
                    coarse.buckets[ck] = b
                touched.add(ck)
            # Coarse buckets keep nothing pending (their memory must not grow with the
            # run): the evicted fine buckets' values are binned here, once per bucket.
            for ck in touched:
                coarse.buckets[ck].fold()
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

    def raw_from(self) -> float:
        """Every raw sample at or after this time is still in the ring."""
        self.flush()
        return -math.inf if self.evicted_v is None else math.nextafter(self.evicted_t, math.inf)

    def view(self) -> _View:
        """A read-only snapshot for answering queries (cached until the next ingest)."""
        self.flush()
        v = self._view
        if v is None:
            v = self._view = _View(self)
        return v

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
            v = s.view()
            if v.t.size:
                hi = max(hi, float(v.t[-1]))
                lo = min(lo, float(v.t[0]))
            if v.buckets:
                lo = min(lo, v.buckets[0].e0)
        return None if lo > hi else (lo, hi)

    def nbytes(self) -> int:
        return sum(s.nbytes() for s in self._series.values())

    def finish(self, now: float) -> None:
        for s in self._series.values():
            s.flush()

    def raw_from(self, series: list[StreamingSeries]) -> float:
        """Raw rows are complete from this time on (older samples are only summarized)."""
        return max((s.raw_from() for s in series), default=-math.inf)

    def raw(
        self, series: list[StreamingSeries], start: float, end: float, where: dict | None = None
    ) -> list[tuple[float, str, str, float, dict | None]]:
        """Raw samples still in the rings (complete from `raw_from`; older ones are only
        summarized)."""
        rows = []
        for s in series:
            t, v = s.ring()
            i0, i1 = int(np.searchsorted(t, start)), int(np.searchsorted(t, end))
            rows.extend((float(t[j]), s.source, s.name, float(v[j]), None) for j in range(i0, i1))
        rows.sort(key=lambda r: r[0])
        return rows

    # -- range answers --------------------------------------------------------------
    def snap_edges(self, series: list[StreamingSeries], edges: list[float]) -> list[float]:
        """Range/window edges moved to where this store can answer exactly: an edge
        inside a rollup bucket (older than the raw ring) moves to the nearer bucket edge
        (for every series pooled); edges in the raw ring's reach stay. The first and last
        edges move outward if nearest-snapping would leave an empty range."""
        views = [s.view() for s in series]
        if not views or not edges:
            return list(edges)
        out = [_snap(views, x) for x in edges]
        if len(out) >= 2 and out[0] >= out[-1] and edges[0] < edges[-1]:
            out[0], out[-1] = _snap(views, edges[0], "down"), _snap(views, edges[-1], "up")
        lo, hi = out[0], out[-1]
        return [min(max(x, lo), hi) for x in out]

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
        """Aggregates over the range this store can answer exactly nearest to
        ``[start, end)``: ``RangeAnswer.start/end`` state it (edges snapped to rollup
        buckets where the raw ring no longer reaches). Counts, sums, means, min/max,
        first/last are exact over the stated range; quantiles from rollups are within
        ``relative_accuracy`` of the item of that rank (``error_bound``)."""
        if where:
            raise ValueError("where(**tags) needs an exact store (ObservabilityConfig.full())")
        views = [s.view() for s in series]
        if not views:
            return RangeAnswer(exact_aggregates(specs, np.empty(0), np.empty(0), start, end),
                               start=start, end=end)
        a, b = self.snap_edges(series, [start, end])
        if all(a >= v.R for v in views):
            vals = _exact_pooled(views, specs, a, b, weighting, counter, hold_until)
            return RangeAnswer(vals, exact=True, start=a, end=b)
        return _combined(views, specs, a, b, weighting, counter, hold_until,
                         self.relative_accuracy)


class _View:
    """What answers a query on one series: buckets in time order (disjoint extents),
    the raw ring, and ``R``: every sample at or after ``R`` is in the ring (``R`` is the
    end of the bucket holding the newest evicted sample; -inf when nothing was evicted).
    """

    __slots__ = ("series", "buckets", "e0", "e1", "t", "v", "R", "gauge", "open_t", "open_v")

    def __init__(self, s: StreamingSeries) -> None:
        self.series = s
        bks = sorted([*s.coarse.buckets.values(), *s.fine.buckets.values()], key=lambda b: b.e0)
        self.buckets = bks
        self.e0 = np.array([b.e0 for b in bks])
        self.e1 = np.array([b.e1 for b in bks])
        t, v = s.ring()
        self.gauge = s.is_gauge
        if self.gauge and s.evicted_v is not None:  # carry-in for the ring's first segment
            t = np.concatenate(([s.evicted_t], t))
            v = np.concatenate(([s.evicted_v], v))
        self.t, self.v = t, v
        self.open_t, self.open_v = s.open_t, s.open_v
        if s.evicted_v is None:
            self.R = -math.inf
        else:
            i = int(np.searchsorted(self.e1, s.evicted_t, side="right"))
            inside = i < len(bks) and self.e0[i] <= s.evicted_t
            self.R = float(self.e1[i]) if inside else math.nextafter(s.evicted_t, math.inf)

    def snap(self, x: float, down: bool) -> float:
        """``x`` if no bucket older than the ring's reach straddles it, else that
        bucket's start (``down``) or end."""
        if x >= self.R:
            return x
        i = int(np.searchsorted(self.e1, x, side="right"))  # first bucket ending after x
        if i < len(self.buckets) and self.e0[i] < x:
            return float(self.e0[i] if down else self.e1[i])
        return x

    def bucket_range(self, a: float, b: float) -> list[_Bucket]:
        """Buckets whose extent lies in [a, b) (a and b cut no bucket)."""
        i0 = int(np.searchsorted(self.e0, a, side="left"))
        i1 = int(np.searchsorted(self.e1, b, side="right"))
        return self.buckets[i0:i1]

    def carry_before(self, a: float) -> float | None:
        """Gauge value in effect just before ``a`` from the buckets (last change < a)."""
        i = int(np.searchsorted(self.e1, a, side="right"))
        for b in reversed(self.buckets[:i]):
            if b.n:
                return b.lv
        return None


def _snap(views: list[_View], x: float, how: str = "nearest") -> float:
    """The nearest time to ``x`` that cuts no bucket of any view (or the one below /
    above it)."""
    lo = x
    while True:
        nxt = min(v.snap(lo, True) for v in views)
        if nxt == lo:
            break
        lo = nxt
    hi = x
    while True:
        nxt = max(v.snap(hi, False) for v in views)
        if nxt == hi:
            break
        hi = nxt
    if how == "down":
        return lo
    if how == "up":
        return hi
    return lo if x - lo <= hi - x else hi


def _exact_pooled(views, specs, a, b, weighting, counter, hold_until) -> dict[str, Any]:
    """Every view answers [a, b) from its raw ring: the exact store's computation."""
    ts, vs, segv, segw = [], [], [], []
    for view in views:
        t, v = view.t, view.v
        if weighting == "time":
            sv, sw, i0, i1 = gauge_segments(t, v, a, b, hold_until)
            segv.append(sv)
            segw.append(sw)
        else:
            i0, i1 = int(np.searchsorted(t, a)), int(np.searchsorted(t, b))
        ts.append(t[i0:i1])
        vs.append(v[i0:i1])
    return pooled_aggregates(specs, ts, vs, a, b, weighting=weighting, seg_values=segv,
                             seg_weights=segw, counter=counter)


class _Acc:
    """Pooled summary of bucket parts and raw parts of several series."""

    def __init__(self, ra: float) -> None:
        self.n = 0
        self.s = self.s2 = 0.0
        self.lo, self.hi = math.inf, -math.inf  # sample values
        self.hlo, self.hhi = math.inf, -math.inf  # values held (gauges)
        self.w = self.ws = self.ws2 = 0.0
        self.first: tuple[float, int, float] | None = None  # (time, series order, value)
        self.last: tuple[float, int, float] | None = None
        self.sketch = QuantileSketch(ra)
        self.res = 0.0

    def see(self, t: float, k: int, v: float) -> None:
        if self.first is None or (t, k) < self.first[:2]:
            self.first = (t, k, v)
        if self.last is None or (t, k) >= self.last[:2]:
            self.last = (t, k, v)

    def held(self, v: np.ndarray, w: np.ndarray) -> None:
        if v.size:
            self.hlo, self.hhi = min(self.hlo, float(v.min())), max(self.hhi, float(v.max()))
            self.w += float(w.sum())
            self.ws += float((v * w).sum())
            self.ws2 += float((v * v * w).sum())
            self.sketch.add_many(v, w)

    def samples(self, v: np.ndarray, sketch: bool) -> None:
        if v.size:
            self.n += int(v.size)
            self.s += float(v.sum())
            self.s2 += float((v * v).sum())
            self.lo, self.hi = min(self.lo, float(v.min())), max(self.hi, float(v.max()))
            if sketch:
                self.sketch.add_many(v)


def _combined(views, specs, a, b, weighting, counter, hold_until, ra) -> RangeAnswer:
    """[a, b) from rollup buckets (the part before each series' raw ring) plus the raw
    rings: exact counts/sums/extremes, sketch quantiles."""
    tw = weighting == "time"
    acc = _Acc(ra)
    for k, view in enumerate(views):
        cut = min(b, view.R)
        seen_at_a = False
        if a < cut:  # the bucket part [a, cut)
            for bk in view.bucket_range(a, cut):
                acc.res = max(acc.res, bk.e1 - bk.e0)
                if bk.n:
                    acc.n += bk.n
                    acc.s += bk.s
                    acc.s2 += bk.s2
                    acc.see(bk.ft, k, bk.fv)
                    acc.see(bk.lt, k, bk.lv)
                    seen_at_a = seen_at_a or bk.ft == a
                    if bk.slo < acc.lo:
                        acc.lo = bk.slo
                    if bk.shi > acc.hi:
                        acc.hi = bk.shi
                if tw:
                    acc.w += bk.w
                    acc.ws += bk.ws
                    acc.ws2 += bk.ws2
                    if bk.w > 0 or bk.n:
                        acc.hlo, acc.hhi = min(acc.hlo, bk.lo), max(acc.hhi, bk.hi)
                acc.sketch.merge(bk.sketch)
            if view.gauge and tw:
                carry = view.carry_before(a)
                if carry is not None and not seen_at_a:
                    acc.see(a, k, carry)
                    acc.hlo, acc.hhi = min(acc.hlo, carry), max(acc.hhi, carry)
                # the open segment (value held since the last change) is in no bucket
                stop = cut if hold_until is None else min(cut, hold_until)
                ot = view.open_t
                if ot is not None and ot < cut:
                    seg0 = max(ot, a)
                    if seg0 <= stop:
                        acc.held(np.array([view.open_v]), np.array([stop - seg0]))
        if a == b < view.R and view.gauge and tw:  # empty: the value held just before
            carry = view.carry_before(a)
            if carry is not None:
                acc.see(a, k, carry)
                acc.held(np.array([carry]), np.array([0.0]))
        if b > view.R:  # the raw part [max(a, R), b)
            a2 = max(a, view.R)
            t, v = view.t, view.v
            i0, i1 = int(np.searchsorted(t, a2)), int(np.searchsorted(t, b))
            vals = v[i0:i1]
            acc.samples(vals, sketch=not tw)
            if i1 > i0:
                acc.see(float(t[i0]), k, float(vals[0]))
                acc.see(float(t[i1 - 1]), k, float(vals[-1]))
            if tw:
                sv, sw, _, _ = gauge_segments(t, v, a2, b, hold_until)
                if sv.size > i1 - i0:  # carried into the raw part at a2
                    acc.see(a2, k, float(sv[0]))
                acc.held(sv, sw)
    out: dict[str, float | None] = {}
    span = b - a
    has_q = False
    for spec in specs:
        if spec == "count":
            out[spec] = int(acc.n)
        elif spec == "sum":
            whole = counter and float(acc.s).is_integer() and abs(acc.s) < 2**53
            out[spec] = (int(acc.s) if whole else acc.s) if acc.n else None
        elif spec == "rate":
            ok = math.isfinite(span) and span > 1e-9 * max(1.0, abs(b))
            out[spec] = ((acc.s if counter else acc.n) / span) if ok else None
        elif spec in ("first", "last"):
            pick = acc.first if spec == "first" else acc.last
            out[spec] = None if pick is None else pick[2]
        elif spec in ("min", "max"):
            lo, hi = (acc.hlo, acc.hhi) if tw else (acc.lo, acc.hi)
            if lo > hi:
                out[spec] = None
            else:
                out[spec] = lo if spec == "min" else hi
        elif spec in ("mean", "variance", "stddev"):
            if tw and acc.hlo <= acc.hhi:
                if acc.w > 0:
                    mean, ex2 = acc.ws / acc.w, acc.ws2 / acc.w
                else:  # held for no time: the value in effect is the answer
                    mean = ex2 = None
                    if acc.last is not None:
                        mean = acc.last[2]
                        ex2 = mean * mean
            elif not tw and acc.n:
                mean, ex2 = acc.s / acc.n, acc.s2 / acc.n
            else:
                mean = ex2 = None
            if mean is None or ex2 is None:
                out[spec] = None
                continue
            var = max(ex2 - mean * mean, 0.0)
            out[spec] = mean if spec == "mean" else var if spec == "variance" else math.sqrt(var)
        else:
            q = parse_quantile(spec)
            assert q is not None
            has_q = True
            if acc.sketch.count > 0:
                out[spec] = acc.sketch.quantile(q)
            elif tw and acc.last is not None and acc.hlo <= acc.hhi:
                out[spec] = acc.last[2]  # held for no time
            else:
                out[spec] = None
    return RangeAnswer(
        out,
        exact=not has_q,
        error_bound=ra if has_q else None,
        time_resolution=acc.res or None,
        start=a,
        end=b,
    )
