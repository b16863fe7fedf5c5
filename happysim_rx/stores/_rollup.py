"""Rollup buckets of the streaming metric store: mergeable per-bucket summaries
(`Bucket`), the two tiers that hold them (`Tier`), and filling a tier with a gauge's
held segments (`segments_into`).

A bucket holds count/sum/sum of squares/min/max/first/last of samples, time-weighted
sums of held gauge values, and a mergeable ``QuantileSketch``; it knows its extent
``[e0, e1)`` on the grid of the fine bucket width.
"""

from __future__ import annotations

import math

import numpy as np

from operators.sketch import QuantileSketch

__all__ = ["Bucket", "Tier", "fold_all", "fold_over", "grid", "grid_many", "run_starts",
           "segments_into", "split_at_boundaries"]

# pending sketch values a bucket holds before folding them in (8 KB, with weights 16 KB:
# about a dense sketch's size). 1024, not 512: a coarse bucket of a few hundred samples
# then stays pending through the next compaction, which merges two short lists instead
# of two sketches (replaying a 50k-customer M/M/1 feed: -25 % of the store's
# instructions; 2048: -1 % more)
_FOLD_AT = 1024
_EMPTY: dict[float, QuantileSketch] = {}  # relative accuracy -> an empty sketch to copy


def _new_sketch(ra: float) -> QuantileSketch:
    proto = _EMPTY.get(ra)
    if proto is None:
        proto = _EMPTY[ra] = QuantileSketch(ra)
    return proto.empty_like()


class Bucket:
    """Summary of one time bucket; mergeable.

    A bucket's quantile sketch is filled lazily: values are kept as pending numpy
    arrays and binned into the sketch when a query reads it (`sketch`) or when more
    than `_FOLD_AT` are pending (memory stays bounded), together with their
    neighbours' (`fold_all`, `fold_over`). Most buckets are merged into a wider one
    before anyone reads them (a fine bucket into a coarse one, coarse pairs when the
    coarse tier doubles its width), so their handful of values is binned once, in the
    bucket they end up in, instead of into a sketch of their own that is then merged.
    Binning later changes no count of an unweighted sketch (integers); a weighted one's
    (seconds held) may differ in the last bits, as the sums' grouping does."""

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
            self._sk = _new_sketch(self.ra)
        if self._pn:
            self._fold()
        return self._sk

    def fold(self) -> None:
        """Bin the pending values into the sketch now."""
        if self._pn:
            self._fold()

    def _fold(self) -> None:
        if self._sk is None:
            self._sk = _new_sketch(self.ra)
        pv, pw = self._pv, self._pw
        self._pv, self._pw, self._pn = [], [], 0
        v = pv[0] if len(pv) == 1 else np.concatenate(pv)
        if all(w is None for w in pw):
            self._sk.add_many(v)
        else:
            w = [np.ones(x.size) if y is None else y for x, y in zip(pv, pw, strict=True)]
            self._sk.add_many(v, w[0] if len(w) == 1 else np.concatenate(w))

    def own(self) -> None:
        """Pending arrays that are views (of a batch) become copies: a coarse bucket
        keeps them across batches, and must not keep whole batches alive."""
        self._pv = [x if x.base is None else x.copy() for x in self._pv]
        self._pw = [x if x is None or x.base is None else x.copy() for x in self._pw]

    def defer(self, v: np.ndarray, w: np.ndarray | None = None, *, fold: bool = True) -> None:
        """Sketch ``v`` (weights ``w``) later: see the class docstring. ``fold=False``:
        the caller folds what is over `_FOLD_AT` afterwards, in one pass (`fold_over`)."""
        self._pv.append(v)
        self._pw.append(w)
        self._pn += v.size
        if fold and self._pn > _FOLD_AT:
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

    def merge(self, o: Bucket, *, fold: bool = True) -> None:
        """Fold ``o`` into this bucket (``fold=False``: as `defer`)."""
        # (comparisons, not min()/max(): this runs for every pair a compaction merges)
        if o.e0 < self.e0:
            self.e0 = o.e0
        if o.e1 > self.e1:
            self.e1 = o.e1
        self.n += o.n
        self.s += o.s
        self.s2 += o.s2
        if o.lo < self.lo:
            self.lo = o.lo
        if o.hi > self.hi:
            self.hi = o.hi
        if o.slo < self.slo:
            self.slo = o.slo
        if o.shi > self.shi:
            self.shi = o.shi
        if o.ft < self.ft:
            self.ft, self.fv = o.ft, o.fv
        if o.lt >= self.lt:
            self.lt, self.lv = o.lt, o.lv
        self.w += o.w
        self.ws += o.ws
        self.ws2 += o.ws2
        if o._sk is not None:
            if self._sk is None:
                self._sk = _new_sketch(self.ra)
            self._sk.merge(o._sk)
        if o._pn:  # its pending values become ours (binned once, with ours)
            self._pv.extend(o._pv)
            self._pw.extend(o._pw)
            self._pn += o._pn
            if fold and self._pn > _FOLD_AT:
                self._fold()

    def nbytes(self) -> int:
        pending = sum(x.nbytes for x in self._pv) + sum(
            0 if y is None else y.nbytes for y in self._pw)
        return 152 + pending + (0 if self._sk is None else self._sk.nbytes())


class Tier:
    """Buckets keyed by ``floor(t / width)``. The fine tier's buckets span their whole
    key slot; a coarse bucket spans the union of what was merged into it (``e0, e1``)."""

    __slots__ = ("width", "capacity", "buckets", "ra", "fine")

    def __init__(self, width: float, capacity: int, ra: float, fine: bool) -> None:
        self.width, self.capacity, self.ra, self.fine = width, capacity, ra, fine
        self.buckets: dict[int, Bucket] = {}

    def get(self, k: int) -> Bucket:
        b = self.buckets.get(k)
        if b is None:
            w = self.width
            b = self.buckets[k] = Bucket(self.ra, k * w, (k + 1) * w) if self.fine \
                else Bucket(self.ra)
        return b

    def compact(self) -> None:
        """Double the width, merging bucket pairs (k and k+1 -> k // 2)."""
        old, self.buckets = self.buckets, {}
        self.width *= 2
        merged = []
        for k in sorted(old):
            nk = k // 2
            if nk in self.buckets:
                b = self.buckets[nk]
                b.merge(old[k], fold=False)
                merged.append(b)
            else:
                self.buckets[nk] = old[k]
        fold_over(merged)


def fold_all(buckets: list[Bucket]) -> None:
    """``b.fold()`` for every bucket, binned in one pass (`QuantileSketch.add_runs`)."""
    todo = [b for b in buckets if b._pn]
    if len(todo) < 2:
        for b in todo:
            b._fold()
        return
    vs: list[np.ndarray] = []
    ws: list[np.ndarray] = []
    starts, ends = [], []
    weighted = any(w is not None for b in todo for w in b._pw)
    n = 0
    for b in todo:
        starts.append(n)
        for v, w in zip(b._pv, b._pw, strict=True):
            vs.append(v)
            if weighted:
                ws.append(np.ones(v.size) if w is None else w)
            n += v.size
        ends.append(n)
        b._pv, b._pw, b._pn = [], [], 0
        if b._sk is None:
            b._sk = _new_sketch(b.ra)
    QuantileSketch.add_runs([b._sk for b in todo], np.concatenate(vs), starts, ends,
                            np.concatenate(ws) if weighted else None)


def fold_over(buckets: list[Bucket]) -> None:
    """Fold, in one pass, the buckets holding more than `_FOLD_AT` pending values."""
    fold_all([b for b in buckets if b._pn > _FOLD_AT])


def grid(x: float, w: float, *, up: bool) -> float:
    """``x`` rounded down (or up) to a multiple ``k * w`` of the rollup width, computed
    as the fine tier computes its edges (so equal edges compare equal)."""
    r = x / w
    k = round(r)
    if abs(r - k) > 1e-9 * max(1.0, abs(r)):
        k = math.ceil(r) if up else math.floor(r)
    return k * w


def grid_many(x: np.ndarray, w: float, *, up: bool) -> list[float]:
    """`grid` of every element of ``x`` (the same floats: numpy rounds half to even as
    ``round`` does, and ``k * w`` of an integral float is that of the int)."""
    r = x / w
    k = np.round(r)
    off = np.abs(r - k) > 1e-9 * np.maximum(1.0, np.abs(r))
    if off.any():
        k = np.where(off, np.ceil(r) if up else np.floor(r), k)
    return (k * w).tolist()


def run_starts(keys: np.ndarray) -> np.ndarray:
    """The index where each run of equal values of a sorted, non-empty int array
    starts. A batch holds many samples per key: when its keys span fewer values than it
    has samples, each candidate key is looked up (`searchsorted`), not every sample
    compared with the next."""
    lo, hi = int(keys[0]), int(keys[-1])
    if hi - lo < keys.size // 8:
        pos = np.searchsorted(keys, np.arange(lo, hi + 1))
        return pos[np.append(pos[1:] > pos[:-1], True)]
    return np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))


def split_at_boundaries(
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
    if b.size > 32:
        return np.insert(pt, idx, b), np.insert(pv, idx, pv[idx - 1])
    # a few points (a coarse tier's edges): the pieces between them joined, which costs
    # less than `np.insert`'s masks
    cuts = [0, *idx.tolist(), pt.size]
    held = pv[idx - 1].tolist()
    ts, vs = [pt[:cuts[1]]], [pv[:cuts[1]]]
    for i, x in enumerate(b.tolist()):
        a, e = cuts[i + 1], cuts[i + 2]
        ts += ((x,), pt[a:e])
        vs += ((held[i],), pv[a:e])
    return np.concatenate(ts), np.concatenate(vs)


def segments_into(tier: Tier, t: np.ndarray, v: np.ndarray, fine_width: float) -> None:
    """Segments [t_i, t_i+1) holding v_i (the last point only ends the last one)."""
    if t.size < 2:
        return
    t, v = split_at_boundaries(t, v, tier.width)
    seg_w = np.diff(t)
    seg_v = v[:-1]
    keys = t[:-1] / tier.width
    keys = np.floor(keys, out=keys).astype(np.int64)
    starts = run_starts(keys)
    ends = np.append(starts[1:], seg_w.size)
    if not tier.fine:  # extents: the rollup grid cells the segments touch
        e0s = grid_many(t[starts], fine_width, up=False)
        e1s = grid_many(t[ends], fine_width, up=True)  # (t[1:][b - 1]: the segment's end)
        for k, e0, e1 in zip(keys[starts].tolist(), e0s, e1s, strict=True):
            bk = tier.get(k)
            if e0 < bk.e0:
                bk.e0 = e0
            if e1 > bk.e1:
                bk.e1 = e1
    # one vectorized reduction for all buckets, then scalar updates
    vw = seg_v * seg_w
    wsum = np.add.reduceat(seg_w, starts).tolist()
    ws = np.add.reduceat(vw, starts).tolist()
    ws2 = np.add.reduceat(vw * seg_v, starts).tolist()
    lows = np.minimum.reduceat(seg_v, starts).tolist()
    highs = np.maximum.reduceat(seg_v, starts).tolist()
    get = tier.get
    a_list, b_list = starts.tolist(), ends.tolist()
    fine = tier.fine
    buckets = []
    for i, k in enumerate(keys[starts].tolist()):
        bucket = get(k)
        bucket.w += wsum[i]
        bucket.ws += ws[i]
        bucket.ws2 += ws2[i]
        if lows[i] < bucket.lo:
            bucket.lo = lows[i]
        if highs[i] > bucket.hi:
            bucket.hi = highs[i]
        a, b = a_list[i], b_list[i]
        if fine:  # (views of this batch's arrays: a fine bucket is binned or merged soon)
            bucket.defer(seg_v[a:b], seg_w[a:b])
        else:
            bucket.defer(seg_v[a:b], seg_w[a:b], fold=False)
            buckets.append(bucket)
    fold_over(buckets)
    for bucket in buckets:  # (what is still pending is kept for later batches)
        if bucket._pn:
            bucket.own()

