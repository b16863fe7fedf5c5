"""Mergeable relative-error quantile sketch (DDSketch-style logarithmic buckets).

A value ``v > 0`` goes to bucket ``k = ceil(log(v) / log(gamma))`` with
``gamma = (1 + a) / (1 - a)``; every value in bucket ``k`` lies in
``(gamma**(k-1), gamma**k]`` and the bucket is represented by
``2 * gamma**k / (gamma + 1)``, which is within relative error ``a`` of every value in
it. Hence a quantile answer is within ``a`` (relative) of the *item of that rank*.
Negative values use a mirrored store; values with ``|v| < min_value`` count as zero.

Merging adds bucket counts, so it is exact: the merge of two sketches is the sketch of
the concatenated streams. Memory is bounded by ``max_buckets`` per sign: when the key
range grows past it the lowest buckets are collapsed into one (only quantiles that fall
in that collapsed low tail lose the guarantee, as in DDSketch).

Counts are float weights, so the same sketch serves time-weighted quantiles of gauges
(weight = seconds the value was held).

>>> s = QuantileSketch(relative_accuracy=0.01)
>>> s.add_many([1.0, 2.0, 3.0, 4.0, 100.0])
>>> abs(s.quantile(0.5) - 3.0) <= 0.01 * 3.0
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["QuantileSketch"]

_FLUSH_AT = 2048  # scalar adds are buffered and binned in one vectorized pass


class _Store:
    """Dense float-weight bucket array covering keys ``offset .. offset+len-1``."""

    __slots__ = ("counts", "offset", "max_buckets", "collapsed")

    def __init__(self, max_buckets: int) -> None:
        self.counts: np.ndarray | None = None
        self.offset = 0
        self.max_buckets = max_buckets
        self.collapsed = False

    def copy(self) -> _Store:
        s = _Store(self.max_buckets)
        s.counts = None if self.counts is None else self.counts.copy()
        s.offset, s.collapsed = self.offset, self.collapsed
        return s

    @property
    def total(self) -> float:
        return 0.0 if self.counts is None else float(self.counts.sum())

    def _ensure(self, kmin: int, kmax: int) -> None:
        """Grow (or collapse) so that keys kmin..kmax map into the array."""
        if self.counts is None:
            lo = max(kmin, kmax - self.max_buckets + 1)
            self.offset = lo
            self.counts = np.zeros(kmax - lo + 1)
            return
        cur_lo, cur_hi = self.offset, self.offset + len(self.counts) - 1
        lo, hi = min(kmin, cur_lo), max(kmax, cur_hi)
        lo = max(lo, hi - self.max_buckets + 1)  # keep the top of the range
        if lo == cur_lo and hi == cur_hi:
            return
        new = np.zeros(hi - lo + 1)
        # Old buckets below the new low end collapse into the lowest bucket.
        src_lo = max(cur_lo, lo)
        if src_lo <= cur_hi:
            new[src_lo - lo : cur_hi - lo + 1] = self.counts[src_lo - cur_lo :]
        if cur_lo < lo:
            new[0] += self.counts[: lo - cur_lo].sum()
            self.collapsed = True
        self.counts, self.offset = new, lo

    def add_keys(self, keys: np.ndarray, weights: np.ndarray | None) -> None:
        if keys.size == 0:
            return
        kmin, kmax = int(keys.min()), int(keys.max())
        self._ensure(kmin, kmax)
        idx = keys - self.offset
        if kmin < self.offset:  # collapsed tail goes to the lowest bucket
            np.maximum(idx, 0, out=idx)
            self.collapsed = True
        binned = np.bincount(idx, weights=weights, minlength=len(self.counts))
        self.counts += binned[: len(self.counts)]

    def merge(self, other: _Store) -> None:
        if other.counts is None:
            return
        self.collapsed = self.collapsed or other.collapsed
        hi = other.offset + len(other.counts) - 1
        self._ensure(other.offset, hi)
        assert self.counts is not None
        if hi < self.offset:  # entirely inside the collapsed low tail
            self.counts[0] += other.counts.sum()
            self.collapsed = True
            return
        start = max(other.offset, self.offset)
        below = start - other.offset
        if below > 0:
            self.counts[0] += other.counts[:below].sum()
            self.collapsed = True
        self.counts[start - self.offset : hi - self.offset + 1] += other.counts[below:]

    def nbytes(self) -> int:
        return 0 if self.counts is None else int(self.counts.nbytes)


class QuantileSketch:
    """Mergeable quantile sketch with relative error ``relative_accuracy``.

    ``quantile(q)`` returns a value within ``relative_accuracy`` (relative) of the
    stored item of rank ``q * (count - 1)`` (weighted: the first item whose cumulative
    weight exceeds ``q * total``), as long as that item is not in a collapsed low tail.

    >>> a, b = QuantileSketch(), QuantileSketch()
    >>> a.add(1.0); b.add(10.0)
    >>> a.merge(b); a.count
    2.0
    """

    __slots__ = (
        "relative_accuracy",
        "gamma",
        "_inv_log_gamma",
        "_log_gamma",
        "min_value",
        "max_buckets",
        "_pos",
        "_neg",
        "_zero",
        "_pv",
        "_pw",
        "_min",
        "_max",
        "_sum",
        "_n",
        "_weighted",
    )

    def __init__(
        self, relative_accuracy: float = 0.005, *, max_buckets: int = 2048, min_value: float = 1e-9
    ) -> None:
        if not 0.0 < relative_accuracy < 1.0:
            raise ValueError(f"relative_accuracy must be in (0, 1), got {relative_accuracy!r}")
        if max_buckets < 8:
            raise ValueError(f"max_buckets must be >= 8, got {max_buckets!r}")
        self.relative_accuracy = float(relative_accuracy)
        self.gamma = (1.0 + relative_accuracy) / (1.0 - relative_accuracy)
        self._log_gamma = math.log(self.gamma)
        self._inv_log_gamma = 1.0 / self._log_gamma
        self.min_value = min_value
        self.max_buckets = max_buckets
        self._pos = _Store(max_buckets)
        self._neg = _Store(max_buckets)
        self._zero = 0.0
        self._pv: list[float] = []  # pending scalar values (binned lazily)
        self._pw: list[float] = []
        self._min = math.inf
        self._max = -math.inf
        self._sum = 0.0
        self._n = 0  # number of add()ed items (unweighted)
        # whether any value came with a weight: decides the rank rule of `quantiles`
        # (an item count that happens to equal the total weight says nothing about it)
        self._weighted = False

    # -- ingestion -----------------------------------------------------------------
    def add(self, v: float, weight: float | None = None) -> None:
        """Add one value (with an optional non-negative weight)."""
        if weight is not None:
            self._weighted = True
        self._pv.append(v)
        self._pw.append(1.0 if weight is None else weight)
        if len(self._pv) >= _FLUSH_AT:
            self._flush()

    def add_many(self, values: Sequence[float] | np.ndarray, weights: Any = None) -> None:
        """Vectorized add of an array of values (and optional weights)."""
        v = np.asarray(values, dtype=np.float64).ravel()
        if v.size == 0:
            return
        w = None if weights is None else np.asarray(weights, dtype=np.float64).ravel()
        if w is not None:
            self._weighted = True
        if w is not None and w.shape != v.shape:
            raise ValueError("weights must have the same length as values")
        nan = np.isnan(v)
        if nan.any():  # NaN has no rank: drop it rather than poison the sketch
            v = v[~nan]
            w = None if w is None else w[~nan]
            if v.size == 0:
                return
        if w is not None:
            keep = w > 0
            if not keep.all():
                v, w = v[keep], w[keep]
                if v.size == 0:
                    return
        self._n += int(v.size)
        self._min = min(self._min, float(v.min()))
        self._max = max(self._max, float(v.max()))
        self._sum += float(v.sum() if w is None else (v * w).sum())
        pos = v > self.min_value
        neg = v < -self.min_value
        zero = ~(pos | neg)
        if zero.any():
            self._zero += float(zero.sum() if w is None else w[zero].sum())
        for mask, store, sign in ((pos, self._pos, 1.0), (neg, self._neg, -1.0)):
            if mask.any():
                keys = np.ceil(np.log(sign * v[mask]) * self._inv_log_gamma).astype(np.int64)
                store.add_keys(keys, None if w is None else w[mask])

    def _flush(self) -> None:
        if self._pv:
            pv, pw = self._pv, self._pw
            self._pv, self._pw = [], []
            weighted = self._weighted  # (unit weights of plain `add`s are no weighting)
            self.add_many(pv, pw)
            self._weighted = weighted

    @staticmethod
    def add_runs(sketches: Sequence[QuantileSketch], values: np.ndarray,
                 starts: Sequence[int], ends: Sequence[int], weights: Any = None,
                 stats: tuple[list[float], list[float], list[float]] | None = None) -> None:
        """``sketches[i].add_many(values[a:b], weights[a:b])`` for every run
        ``a, b = starts[i], ends[i]`` (consecutive, covering the array), with the
        per-value work (NaN check, bucket keys, binning) done once for all runs: many
        sketches fed from one array (e.g. consecutive time buckets) cost one pass, not
        one ``add_many`` each. The sketches must share their parameters. ``stats``, if
        given, is what the caller already computed: per run, unweighted only, the
        ``(min, max, sum)`` of its values as ``np.ufunc.reduceat`` over ``starts`` gives
        them (as lists)."""
        v0 = np.asarray(values, dtype=np.float64)
        w0 = None if weights is None else np.asarray(weights, dtype=np.float64)
        first = sketches[0] if len(sketches) else None
        if first is None or v0.size == 0:
            return
        if w0 is not None:
            for sk in sketches:
                sk._weighted = True
        n = len(sketches)
        same = all(sk.gamma == first.gamma and sk.min_value == first.min_value
                   for sk in sketches)
        sizes = np.asarray(ends) - np.asarray(starts)
        if same and bool((sizes > 0).all()):
            # the common case first: every value positive (so no NaN) and every weight
            # too; one reduction per statistic, nothing filtered
            given = stats is not None and w0 is None
            idx = np.asarray(starts, dtype=np.intp)
            lows = stats[0] if given else np.minimum.reduceat(v0, idx).tolist()
            mv = first.min_value
            if all(lo > mv for lo in lows) and (w0 is None or bool(w0.min() > 0)):
                if given:
                    highs, sums = stats[1], stats[2]
                else:
                    highs = np.maximum.reduceat(v0, idx).tolist()
                    sums = np.add.reduceat(v0 if w0 is None else v0 * w0, idx).tolist()
                for sk, size, lo, hi, sm in zip(sketches, sizes.tolist(), lows, highs, sums,
                                                strict=True):
                    sk._n += size
                    if lo < sk._min:
                        sk._min = lo
                    if hi > sk._max:
                        sk._max = hi
                    sk._sum += sm
                if w0 is None and lows == highs:  # each run one value (a counter's steps)
                    QuantileSketch._bin_constant_runs(sketches, lows, sizes.tolist())
                    return
                QuantileSketch._bin_runs(sketches, v0, w0, np.repeat(np.arange(n), sizes),
                                         [*starts, v0.size], range(n))
                return
        runs = np.repeat(np.arange(n), sizes)
        v, w = v0, w0
        if w is not None and not w.min() > 0:  # (NaN compares False)
            keep = w > 0  # add_many drops the others (NaN too)
            v, w, runs = v[keep], w[keep], runs[keep]
        # the smallest value: NaN if any (the comparison is then False), else whether
        # any is negative
        m = v.min() if v.size else 0.0
        if not same or not m >= -first.min_value:
            for sk, a, b in zip(sketches, starts, ends, strict=True):
                sk.add_many(v0[a:b], None if w0 is None else w0[a:b])
            return
        if v.size == 0:
            return
        # no negative value, no NaN: one pass for the statistics, the zero bucket and
        # the keys of the positive store
        bounds = np.searchsorted(runs, np.arange(n + 1)).tolist()
        live = [i for i in range(n) if bounds[i + 1] > bounds[i]]
        cuts = np.asarray([bounds[i] for i in live], dtype=np.intp)
        lows = np.minimum.reduceat(v, cuts).tolist()
        highs = np.maximum.reduceat(v, cuts).tolist()
        sums = np.add.reduceat(v if w is None else v * w, cuts).tolist()
        for j, i in enumerate(live):
            sk = sketches[i]
            sk._n += bounds[i + 1] - bounds[i]
            if lows[j] < sk._min:
                sk._min = lows[j]
            if highs[j] > sk._max:
                sk._max = highs[j]
            sk._sum += sums[j]
        if not m > first.min_value:  # some value counts as zero
            pos = v > first.min_value
            zero = ~pos
            if w is None:
                zw = np.bincount(runs[zero], minlength=n).tolist()
                for sk, z in zip(sketches, zw, strict=True):
                    sk._zero += z
            else:  # summed per run as add_many sums them (bit-identical counts): the
                # same values in the same order, sliced from one compacted array
                wz = w[zero]
                zb = np.cumsum(np.bincount(runs[zero], minlength=n)).tolist()
                for i in live:
                    a, b = zb[i - 1] if i else 0, zb[i]
                    if b > a:
                        sketches[i]._zero += float(wz[a:b].sum())
            v, runs = v[pos], runs[pos]
            w = None if w is None else w[pos]
            if v.size == 0:
                return
            bounds = np.searchsorted(runs, np.arange(n + 1)).tolist()
            live = [i for i in range(n) if bounds[i + 1] > bounds[i]]
        QuantileSketch._bin_runs(sketches, v, w, runs, bounds, live)

    @staticmethod
    def _bin_constant_runs(sketches: Sequence[QuantileSketch], values: list[float],
                           sizes: list[int]) -> None:
        """Bin ``sizes[i]`` copies of the positive ``values[i]`` into ``sketches[i]``
        (unweighted): one key per run instead of one per value, the same counts."""
        keys = np.ceil(np.log(np.asarray(values)) * sketches[0]._inv_log_gamma)
        for sk, k, size in zip(sketches, keys.astype(np.int64).tolist(), sizes, strict=True):
            store = sk._pos
            store._ensure(k, k)
            i = k - store.offset
            if i < 0:  # below a collapsed low tail: into its lowest bucket
                i = 0
                store.collapsed = True
            store.counts[i] += size

    @staticmethod
    def _bin_runs(sketches: Sequence[QuantileSketch], v: np.ndarray, w: np.ndarray | None,
                  runs: np.ndarray, bounds: Sequence[int], live: Iterable[int]) -> None:
        """Bin positive values ``v[bounds[i]:bounds[i+1]]`` (run ``runs``) into the
        positive store of ``sketches[i]`` for every i in `live` (the non-empty runs)."""
        n = len(sketches)
        keys = np.log(v)  # (in place from here: one temporary, not four)
        keys *= sketches[0]._inv_log_gamma
        np.ceil(keys, out=keys)
        keys = keys.astype(np.int64)
        # each run's lowest and highest key (the live runs cover `keys` from 0 on): the
        # extremes of all of them are among these
        cuts = np.asarray([bounds[i] for i in live], dtype=np.intp)
        klo_a = np.minimum.reduceat(keys, cuts)
        khi_a = np.maximum.reduceat(keys, cuts)
        kmin = int(klo_a.min())
        span = int(khi_a.max()) - kmin + 1
        if n * span > 8 * v.size + 65536:  # the table would outweigh the data
            for i in live:
                a, b = bounds[i], bounds[i + 1]
                sketches[i]._pos.add_keys(keys[a:b], None if w is None else w[a:b])
            return
        # one bincount for every run (a runs x keys table), then a slice added per sketch
        # (counts stay ints when unweighted: adding them to the float store is exact)
        keys -= kmin
        idx = runs * span
        idx += keys
        table = np.bincount(idx, w, minlength=n * span)
        table = table.reshape(n, span)
        klo = (klo_a - kmin).tolist()
        khi = (khi_a - kmin).tolist()
        for i, lo, hi in zip(live, klo, khi, strict=True):
            store = sketches[i]._pos
            if store.counts is None and hi - lo < store.max_buckets:  # a fresh store
                store.counts = table[i, lo:hi + 1].astype(np.float64)
                store.offset = lo + kmin
                continue
            store._ensure(lo + kmin, hi + kmin)
            off = lo + kmin - store.offset
            if off < 0:  # the low tail collapses: the general path
                a, b = bounds[i], bounds[i + 1]
                store.add_keys(keys[a:b] + kmin, None if w is None else w[a:b])
                continue
            store.counts[off:off + hi - lo + 1] += table[i, lo:hi + 1]

    def merge(self, other: QuantileSketch) -> None:
        """Fold ``other`` into this sketch (exact: same as sketching both streams)."""
        if other.gamma != self.gamma:
            raise ValueError("cannot merge sketches with different relative_accuracy")
        other._flush()
        self._flush()
        self._pos.merge(other._pos)
        self._neg.merge(other._neg)
        self._zero += other._zero
        self._min = min(self._min, other._min)
        self._max = max(self._max, other._max)
        self._sum += other._sum
        self._n += other._n
        self._weighted = self._weighted or other._weighted

    def empty_like(self) -> QuantileSketch:
        """A new empty sketch with this one's parameters (validated already: cheap, for
        the many sketches of a rollup store)."""
        c = QuantileSketch.__new__(QuantileSketch)
        c.relative_accuracy, c.gamma = self.relative_accuracy, self.gamma
        c._log_gamma, c._inv_log_gamma = self._log_gamma, self._inv_log_gamma
        c.min_value, c.max_buckets = self.min_value, self.max_buckets
        c._pos, c._neg = _Store(self.max_buckets), _Store(self.max_buckets)
        c._zero, c._pv, c._pw = 0.0, [], []
        c._min, c._max, c._sum, c._n = math.inf, -math.inf, 0.0, 0
        c._weighted = False
        return c

    def copy(self) -> QuantileSketch:
        self._flush()
        c = QuantileSketch.__new__(QuantileSketch)
        for name in QuantileSketch.__slots__:
            setattr(c, name, getattr(self, name))
        c._pos, c._neg = self._pos.copy(), self._neg.copy()
        c._pv, c._pw = [], []
        return c

    # -- answers -------------------------------------------------------------------
    @property
    def count(self) -> float:
        """Total weight (the number of values when unweighted)."""
        self._flush()
        return self._zero + self._pos.total + self._neg.total

    @property
    def n(self) -> int:
        """Number of values added (ignores weights)."""
        return self._n + len(self._pv)

    @property
    def min(self) -> float | None:
        self._flush()
        return None if self._n == 0 else self._min

    @property
    def max(self) -> float | None:
        self._flush()
        return None if self._n == 0 else self._max

    @property
    def sum(self) -> float:
        """Weighted sum of values (exact up to float rounding)."""
        self._flush()
        return self._sum

    @property
    def collapsed(self) -> bool:
        """True when some low buckets were merged to bound memory."""
        return self._pos.collapsed or self._neg.collapsed

    def quantile(self, q: float) -> float | None:
        """Value at quantile ``q`` in [0, 1]; None when empty."""
        return self.quantiles([q])[0]

    def quantiles(self, qs: Iterable[float]) -> list[float | None]:
        """Several quantiles with one pass over the cumulative counts."""
        qs = list(qs)
        for q in qs:
            if not 0.0 <= q <= 1.0 or q != q:
                raise ValueError(f"quantile must be in [0, 1], got {q!r}")
        total = self.count  # flushes
        if total <= 0:
            return [None for _ in qs]
        # Ordered buckets: negatives (largest |v| first), zero, positives.
        parts_w: list[np.ndarray] = []
        parts_v: list[np.ndarray] = []
        if self._neg.counts is not None:
            keys = np.arange(self._neg.offset, self._neg.offset + len(self._neg.counts))
            parts_w.append(self._neg.counts[::-1])
            parts_v.append(-self._value_of(keys)[::-1])
        if self._zero > 0:
            parts_w.append(np.array([self._zero]))
            parts_v.append(np.array([0.0]))
        if self._pos.counts is not None:
            keys = np.arange(self._pos.offset, self._pos.offset + len(self._pos.counts))
            parts_w.append(self._pos.counts)
            parts_v.append(self._value_of(keys))
        cum = np.cumsum(np.concatenate(parts_w))
        vals = np.concatenate(parts_v)
        unweighted = not self._weighted
        out: list[float | None] = []
        for q in qs:
            if q == 0.0 or q == 1.0:  # the extremes are tracked exactly
                out.append(self._min if q == 0.0 else self._max)
                continue
            # Rank convention of numpy's linear quantile (q*(n-1)) when unweighted,
            # inverted-CDF (q*W) when weighted.
            rank = q * (total - 1) if unweighted else q * total
            i = int(np.searchsorted(cum, rank, side="right"))
            i = min(i, len(cum) - 1)
            out.append(float(min(max(vals[i], self._min), self._max)))
        return out

    def _value_of(self, keys: np.ndarray) -> np.ndarray:
        return 2.0 * np.exp(keys * self._log_gamma) / (self.gamma + 1.0)

    def nbytes(self) -> int:
        """Approximate memory held by the bucket arrays and the pending buffer."""
        return self._pos.nbytes() + self._neg.nbytes() + 16 * len(self._pv) + 200

    # -- serialization -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-able) that ``from_dict`` restores exactly."""
        self._flush()

        def store(s: _Store) -> dict[str, Any] | None:
            if s.counts is None:
                return None
            return {"offset": s.offset, "counts": s.counts.tolist(), "collapsed": s.collapsed}

        return {
            "relative_accuracy": self.relative_accuracy,
            "max_buckets": self.max_buckets,
            "min_value": self.min_value,
            "pos": store(self._pos),
            "neg": store(self._neg),
            "zero": self._zero,
            "min": self._min if self._n else None,
            "max": self._max if self._n else None,
            "sum": self._sum,
            "n": self._n,
            "weighted": self._weighted,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QuantileSketch:
        s = cls(d["relative_accuracy"], max_buckets=d["max_buckets"], min_value=d["min_value"])
        for key, st in (("pos", s._pos), ("neg", s._neg)):
            if d[key] is not None:
                st.offset = d[key]["offset"]
                st.counts = np.asarray(d[key]["counts"], dtype=np.float64)
                st.collapsed = d[key]["collapsed"]
        s._zero, s._sum, s._n = d["zero"], d["sum"], d["n"]
        # (dicts written before the flag existed: their old rank rule)
        s._weighted = bool(d.get("weighted", s._n != s.count))
        s._min = math.inf if d["min"] is None else d["min"]
        s._max = -math.inf if d["max"] is None else d["max"]
        return s

    def __repr__(self) -> str:
        return f"QuantileSketch(relative_accuracy={self.relative_accuracy}, n={self.n})"
