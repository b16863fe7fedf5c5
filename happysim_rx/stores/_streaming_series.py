"""One series of the streaming metric store: a ring of recent raw samples, summarized
into rollup buckets lazily.

Appended chunks go to the ring and stay pending (raw columns, as in the exact store)
until they exceed the ring by ``max(2 * raw_capacity, _BATCH)``: then all but the newest
``raw_capacity`` are summarized in one batch, mostly older than the fine tier's reach.
A query summarizes everything pending first (`flush`). Summarizing late changes no
answer: a query
first summarizes everything pending, and the buckets it then sees are those an eager
store would hold (same extents, same contents; float sums may differ in the last bits
because they are added in other groups):

* the fine tier holds the newest ``fine_buckets`` keys (``floor(t / bucket_width)``) of
  all samples (a gauge: of all cells its held segments touch, i.e. every cell from its
  first to its newest sample), the coarse tier everything older. A batch being
  summarized knows the newest keys of what is still pending, so its older part goes
  straight to the coarse tier instead of through fine buckets that would be merged
  away (the bulk of the eager store's ingest cost);
* the coarse tier's width is the smallest doubling of ``bucket_width`` at which the
  keys it holds fit in ``coarse_buckets`` buckets: it does not depend on when (or in
  which batches) keys arrive, since compaction only merges pairs of grid cells.

Memory stays bounded: at most `pending_limit` ``(raw_capacity)`` pending
samples, and buckets hold at most `_FOLD_AT` unsketched values each.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from happysim_rx.stores._rollup import Tier, fold_all, fold_over, run_starts, segments_into
from happysim_rx.stores._settle import Instant
from happysim_rx.stores._streaming_answer import View

if TYPE_CHECKING:
    from happysim_rx.stores.streaming import StreamingMetricStore

__all__ = ["StreamingSeries"]

# samples reach the ring in chunks of this many (each chunk's ring write, settling and
# bookkeeping cost about the same whatever its size: 4096, not 1024, measured -12 % of
# the store's CPU time on a replayed 50k-customer feed)
_CHUNK = 4096
_FLOATS = 1024  # `append`'s Python floats become arrays at this many (memory: 16 B each)
_BATCH = 2048  # samples summarized at a time, at least ...
# ... and at least this many rings' worth: a batch's fixed cost (bucket lookups, the fine
# tier's reach, folding sketches) is paid per batch, so fewer, larger batches cost less
# (replaying a 50k-customer M/M/1 feed: 2 rings -24 % of the store's CPU time, with the
# final summarizing counted); memory stays flat, at `pending_limit` samples per series
_RINGS = 2


def pending_limit(cap: int) -> int:
    """Samples pending (ring included) at which the oldest beyond the ring's ``cap``
    are summarized, in one batch."""
    return cap + max(_RINGS * cap, _BATCH)


def _newest_distinct(keys: np.ndarray, n: int, *, ordered: bool = False) -> np.ndarray:
    """The ``n`` largest distinct values of an int array, ascending (``ordered``: the
    array is known to be sorted)."""
    if not ordered and keys.size > 1 and bool((keys[1:] < keys[:-1]).any()):
        keys = np.sort(keys)
    if keys.size > 1:
        keys = keys[run_starts(keys)]
    return keys[-n:]


class StreamingSeries:
    """One bounded series; ``append`` is the bus's emit target."""

    def __init__(
        self, store: StreamingMetricStore, source: str, name: str, series_kind: str | None
    ):
        self.source, self.name, self.series_kind = source, name, series_kind
        self._store = store
        # the partial chunk not yet in the ring: the first `_fn` samples of the chunk
        # buffers `_bt`, `_bv` (allocated when needed; each sample is copied once, into
        # them), then single samples from `append` (`_pt`, `_pv`)
        self._bt: np.ndarray | None = None
        self._bv: np.ndarray | None = None
        self._fn = 0
        self._room = _FLOATS  # `append` spills (`_spill`) when `_pt` holds this many
        self._pt: list[float] = []
        self._pv: list[float] = []
        self._cap = store.raw_capacity
        # The chunks ingested (own arrays, arrival order), as long as they hold a sample
        # not summarized yet or one of the newest `_cap` (the raw ring: served from these
        # chunks, never copied into a ring of its own). The newest `_npend` samples are
        # not summarized yet.
        self._held: deque[tuple[np.ndarray, np.ndarray]] = deque()
        self._nheld = 0  # samples in `_held`
        self._npend = 0
        # the newest sample dropped with a chunk (`evicted_t` when the ring's reach
        # starts within `_held`)
        self._dropped_t = -math.inf
        self._dropped_v: float | None = None
        self._tmax = -math.inf  # newest sample time (a gauge's newest cell)
        self.n_total = 0
        self.open_t: float | None = None  # gauge: last summarized change (segment open)
        self.open_v = 0.0
        self._view: View | None = None
        # a gauge: its newest instant (`_settle`) and that instant's point, kept out of
        # the ring and the rollups while the instant may continue
        self._instant: Instant | None = None
        self.tail: tuple[float, float] | None = None
        ra = store.relative_accuracy
        self.fine = Tier(store.bucket_width, store.fine_buckets, ra, fine=True)
        self.coarse = Tier(store.bucket_width, store.coarse_buckets, ra, fine=False)

    @property
    def is_gauge(self) -> bool:
        return self.series_kind == "gauge"

    def append(self, t: float, v: float, tags: dict | None = None) -> None:
        self._pt.append(t)
        self._pv.append(v)
        if len(self._pt) >= self._room:
            self._spill()

    def __len__(self) -> int:
        return self.n_total + self._fn + len(self._pt) + (self.tail is not None)

    # -- ingestion --------------------------------------------------------------------
    def extend(self, t: np.ndarray, v: np.ndarray) -> None:
        """Append many samples at once (times in order). They reach the ring in chunks
        of exactly `_CHUNK` samples, so a batched and a sample-by-sample feed leave
        bit-identical state (float sums depend on batch boundaries)."""
        t = np.asarray(t, dtype=np.float64)
        v = np.asarray(v, dtype=np.float64)
        i, n = 0, t.size
        held = self._fn + len(self._pt)
        if held and n:  # complete the pending chunk first
            i = min(_CHUNK - held, n)
            self._hold(t[:i], v[:i])
            if held + i >= _CHUNK:
                self._push()
        while n - i >= _CHUNK:  # whole chunks straight from the arrays (own copies)
            self._ingest(t[i:i + _CHUNK].copy(), v[i:i + _CHUNK].copy())
            i += _CHUNK
        if i < n:
            self._hold(t[i:], v[i:])

    def _hold(self, t: np.ndarray, v: np.ndarray) -> None:
        """Copy ``t, v`` into the partial chunk (after what it holds): arrays, not
        Python floats (a list round trip costs more than the samples)."""
        if self._pt:  # single samples appended before these come first
            self._floats_in()
        fn, k = self._fn, t.size
        bt, bv = self._buffers()
        bt[fn:fn + k] = t
        bv[fn:fn + k] = v
        self._fn = fn + k
        self._room = min(_FLOATS, _CHUNK - self._fn)

    def _buffers(self) -> tuple[np.ndarray, np.ndarray]:
        if self._bt is None:
            self._bt, self._bv = np.empty(_CHUNK), np.empty(_CHUNK)
        return self._bt, self._bv

    def _floats_in(self) -> None:
        """`append`'s floats into the chunk buffers."""
        fn, k = self._fn, len(self._pt)
        bt, bv = self._buffers()
        bt[fn:fn + k] = self._pt
        bv[fn:fn + k] = self._pv
        self._fn = fn + k
        self._pt, self._pv = [], []

    def _spill(self) -> None:
        """`append`'s floats: the chunk, when complete, into the ring; else into the
        buffers (a Python float costs 32 bytes, an array's 8)."""
        if self._fn + len(self._pt) >= _CHUNK:
            self._push()
            return
        self._floats_in()
        self._room = min(_FLOATS, _CHUNK - self._fn)

    def flush(self) -> None:
        """Everything appended so far is in the ring and summarized in the rollups
        (what a query needs)."""
        self._push()
        if self._npend:
            self._view = None
            self._summarize_oldest(self._npend)

    def _push(self) -> None:
        """Appended samples into the ring (summarized later)."""
        if not self._fn:
            if not self._pt:
                return
            t = np.asarray(self._pt, dtype=np.float64)
            v = np.asarray(self._pv, dtype=np.float64)
            self._pt, self._pv = [], []
        else:
            if self._pt:
                self._floats_in()
            fn = self._fn
            if fn == _CHUNK:  # the buffers become the chunk
                t, v = self._bt, self._bv
                self._bt = self._bv = None
            else:  # (a reader's flush: a copy, the buffers stay for the next chunk)
                t, v = self._bt[:fn].copy(), self._bv[:fn].copy()
            self._fn, self._room = 0, _FLOATS
        self._ingest(t, v)

    def _ingest(self, t: np.ndarray, v: np.ndarray) -> None:
        """A chunk (own arrays) into the ring and the pending chunks."""
        self._view = None
        if t.size > 1 and bool((t[1:] < t[:-1]).any()):
            order = np.argsort(t, kind="stable")
            t, v = t[order], v[order]
        if self.is_gauge:
            t, v = self._settle(t, v)
            if not t.size:
                return
        n = int(t.size)
        self.n_total += n
        if t[-1] > self._tmax:
            self._tmax = float(t[-1])
        self._held.append((t, v))
        self._nheld += n
        self._npend += n
        cap = self._cap
        if self._npend >= pending_limit(cap):
            # the oldest, beyond the newest `cap` (which usually hold the fine tier's
            # reach, so that these go straight to the coarse tier)
            self._summarize_oldest(self._npend - cap)
        else:
            self._drop_held()

    def _settle(self, t: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A gauge's records settled per instant (see `_settle`). The newest instant's
        point stays out of the ring and the rollups (`tail`) until a later instant
        comes: its records may continue in the next chunk (a run paused between two
        events at one instant) and replace or remove it. Returns the points to commit."""
        st = self._instant
        if st is None:
            st = self._instant = Instant()
        old_tail = self.tail
        if t[0] < st.t:  # late records (out of order): committed as they came
            self._instant, self.tail = None, None
            if old_tail is not None:
                t, v = np.append(t, old_tail[0]), np.append(v, old_tail[1])
            return t, v
        keep, drop_last = st.settle(t, v)
        if drop_last:
            old_tail = None  # its instant continues in this batch: settled anew
        # (`keep` ascends: all of them is every record, kept as it is)
        kt, kv = (t, v) if keep.size == t.size else (t[keep], v[keep])
        if st.has_point:  # the newest kept point is the newest instant's: the new tail
            self.tail = (float(kt[-1]), float(kv[-1]))
            kt, kv = kt[:-1], kv[:-1]
        else:
            self.tail = None
        if old_tail is not None:  # an older instant now: committed before the rest
            kt = np.concatenate(([old_tail[0]], kt))
            kv = np.concatenate(([old_tail[1]], kv))
        return kt, kv

    def _summarize_oldest(self, m: int) -> None:
        """Summarize the oldest ``m`` pending samples."""
        ts, vs, rest = [], [], []
        skip = self._nheld - self._npend  # summarized already
        need = m
        for t, v in self._held:
            k = t.size
            if skip >= k:
                skip -= k
                continue
            if need:
                take = min(k - skip, need)
                ts.append(t[skip:skip + take])
                vs.append(v[skip:skip + take])
                need -= take
                skip += take
                if skip == k:
                    skip = 0
                    continue
            rest.append(t[skip:])
            skip = 0
        self._npend -= m
        bt = ts[0] if len(ts) == 1 else np.concatenate(ts)
        bv = vs[0] if len(vs) == 1 else np.concatenate(vs)
        self._drop_held()
        self._summarize(bt, bv, tuple(rest))

    def _drop_held(self) -> None:
        """Let go of the oldest chunks once summarized and older than the ring."""
        held, cap = self._held, self._cap
        while held:
            k = held[0][0].size
            if self._nheld - k < cap or self._nheld - self._npend < k:
                return
            t, v = held.popleft()
            self._nheld -= k
            self._dropped_t, self._dropped_v = float(t[-1]), float(v[-1])

    @property
    def evicted_t(self) -> float:
        """Time of the newest raw sample no longer in the ring (-inf: none)."""
        return self._evicted()[0]

    @property
    def evicted_v(self) -> float | None:
        """Value of the newest raw sample no longer in the ring (None: none)."""
        return self._evicted()[1]

    def _evicted(self) -> tuple[float, float | None]:
        i = self._nheld - self._cap - 1  # its position in `_held`
        if i < 0:
            return self._dropped_t, self._dropped_v
        for t, v in self._held:
            if i < t.size:
                return float(t[i]), float(v[i])
            i -= t.size
        raise AssertionError("unreachable: `_nheld` counts the held samples")

    # -- summarizing ------------------------------------------------------------------
    def _fine_from(self, keys: np.ndarray, rest: tuple[np.ndarray, ...]) -> int | None:
        """The oldest key the fine tier keeps (None: all): that of the newest
        ``fine_buckets`` keys of every sample so far (summarized in `keys` or the fine
        tier, or still pending in `rest`)."""
        cap, w = self.fine.capacity, self.fine.width
        if self.is_gauge:  # its cells are contiguous up to the newest sample's
            return math.floor(self._tmax / w) - cap + 1
        newer = []
        found = 0
        # Newest chunks first, until `cap` keys are in sight. Keys of skipped (older)
        # chunks could only raise the answer: a lower one just keeps more fine buckets
        # until the next batch evicts them (a query's flush has no rest: exact).
        for r in reversed(rest):
            if found >= cap:
                break
            if r.size:
                d = _newest_distinct(np.floor(r / w).astype(np.int64), cap, ordered=True)
                newer.append(d)
                found += d.size - 1  # (a key may straddle two chunks)
        # oldest first (the fine tier's keys, this batch's, the pending chunks'): usually
        # already in order, so that picking the newest needs no sort
        newer.reverse()
        if found >= cap:
            # The pending samples alone hold `cap` keys: when nothing summarized (this
            # batch, sorted, or the fine tier) is newer than the oldest of them, those
            # are the answer (the usual case, an in-order feed), without a pass over
            # this batch's keys
            top = _newest_distinct(newer[0] if len(newer) == 1 else np.concatenate(newer),
                                   cap)
            lo = int(top[0])
            if (top.size >= cap and int(keys[-1]) <= lo
                    and (not self.fine.buckets or max(self.fine.buckets) <= lo)):
                return lo
        fine = np.fromiter(sorted(self.fine.buckets), dtype=np.int64,
                           count=len(self.fine.buckets))
        top = _newest_distinct(
            np.concatenate([fine, _newest_distinct(keys, cap, ordered=True), *newer]), cap)
        return int(top[0]) if top.size >= cap else None

    def _summarize(self, t: np.ndarray, v: np.ndarray, rest: tuple[np.ndarray, ...]) -> None:
        """Summarize the samples ``t, v`` (own copies) into the rollups; `rest` holds
        the times of the samples still pending after them."""
        if t.size == 0:
            return
        if t.size > 1 and bool((t[1:] < t[:-1]).any()):
            order = np.argsort(t, kind="stable")
            t, v = t[order], v[order]
        keys = t / self.fine.width
        keys = np.floor(keys, out=keys).astype(np.int64)
        k0 = self._fine_from(keys, rest)
        j = 0
        if k0 is not None:
            self._evict_below(k0)
            j = int(np.searchsorted(keys, k0))
        if j:
            self._coarse_samples(t[:j], v[:j], keys[:j])
        if j < t.size:
            self._fine_samples(t[j:], v[j:], keys[j:])
        if self.is_gauge:
            self._gauge(t, v, k0)
        coarse = self.coarse
        while len(coarse.buckets) > coarse.capacity:
            coarse.compact()

    def _fine_samples(self, t: np.ndarray, v: np.ndarray, keys: np.ndarray) -> None:
        # All buckets at once: per-bucket statistics by one vectorized reduction, then
        # scalar updates. Per-bucket numpy calls would cost more than the data: a 10 s
        # bucket of an 8/s series holds ~80 samples.
        starts = run_starts(keys)
        ends = np.append(starts[1:], t.size)
        last = ends - 1
        sums = np.add.reduceat(v, starts).tolist()
        sq = np.add.reduceat(v * v, starts).tolist()
        lows = np.minimum.reduceat(v, starts).tolist()
        highs = np.maximum.reduceat(v, starts).tolist()
        fst = zip(keys[starts].tolist(), t[starts].tolist(), v[starts].tolist(),
                  t[last].tolist(), v[last].tolist(), strict=True)
        get = self.fine.get
        sketched = not self.is_gauge  # a gauge's sketches hold its segments
        a_list, b_list = starts.tolist(), ends.tolist()
        for i, (k, ta, va, tb, vb) in enumerate(fst):
            a, b = a_list[i], b_list[i]
            bucket = get(k)
            bucket.add_stats(b - a, sums[i], sq[i], lows[i], highs[i], ta, va, tb, vb)
            if sketched:  # (a view of this batch's copy: binned when folded)
                bucket.defer(v[a:b])

    def _coarse_samples(self, t: np.ndarray, v: np.ndarray, keys: np.ndarray) -> None:
        """Samples older than the fine tier's reach, straight into coarse buckets: what
        merging their fine buckets into the coarse tier would leave (extents: the union
        of those fine buckets' extents)."""
        coarse, fw = self.coarse, self.fine.width
        # (`keys` is ascending: `t` is sorted.) The keys' runs, each key once in `fk`;
        # the coarse buckets are runs of those, so the grid arithmetic and the fitting
        # below work on the ~100 distinct keys of a batch, not on its ~8000 samples
        fstarts = run_starts(keys)
        fk = keys[fstarts]
        ck = np.floor(fk * fw / coarse.width).astype(np.int64)
        while True:  # compact first if these buckets would not fit (same result)
            opens = np.flatnonzero(np.concatenate(([True], ck[1:] != ck[:-1])))
            held = coarse.buckets
            new = len(set(ck[opens].tolist()).difference(held))
            if len(held) + new <= coarse.capacity:
                break
            coarse.compact()
            ck = ck // 2
        starts = fstarts[opens]
        ends = np.append(starts[1:], t.size)
        last = ends - 1
        sums = np.add.reduceat(v, starts).tolist()
        sq = np.add.reduceat(v * v, starts).tolist()
        lows = np.minimum.reduceat(v, starts).tolist()
        highs = np.maximum.reduceat(v, starts).tolist()
        a_list, b_list = starts.tolist(), ends.tolist()
        fst = zip(ck[opens].tolist(), fk[opens].tolist(),
                  fk[np.append(opens[1:] - 1, fk.size - 1)].tolist(),
                  t[starts].tolist(), v[starts].tolist(), t[last].tolist(), v[last].tolist(),
                  strict=True)
        get = coarse.get
        sketched = not self.is_gauge  # a gauge's sketches hold its segments
        buckets = []
        for i, (c, k_a, k_b, ta, va, tb, vb) in enumerate(fst):
            bucket = get(c)
            e0, e1 = k_a * fw, (k_b + 1) * fw
            if e0 < bucket.e0:
                bucket.e0 = e0
            if e1 > bucket.e1:
                bucket.e1 = e1
            a, b = a_list[i], b_list[i]
            bucket.add_stats(b - a, sums[i], sq[i], lows[i], highs[i], ta, va, tb, vb)
            if sketched:  # binned when `_FOLD_AT` are pending, most after a compaction
                bucket.defer(v[a:b], fold=False)
                buckets.append(bucket)
        fold_over(buckets)
        for bucket in buckets:  # (what is still pending is kept for later batches)
            if bucket._pn:
                bucket.own()

    def _gauge(self, t: np.ndarray, v: np.ndarray, k0: int | None) -> None:
        """Held segments into the tiers: before cell `k0` into the coarse tier (a long
        quiet gauge must not create a fine bucket per cell), the rest into the fine."""
        if self.open_t is not None:
            t = np.concatenate(([self.open_t], t))
            v = np.concatenate(([self.open_v], v))
        w = self.fine.width
        cutoff = -math.inf if k0 is None else k0 * w
        if t.size >= 2 and t[0] < cutoff:
            coarse = self.coarse
            j = int(np.searchsorted(t, cutoff, side="right"))
            if j < t.size:  # the segment open at the cutoff continues in the fine tier
                ct, cv = np.append(t[:j], cutoff), np.append(v[:j], v[j - 1])
                t, v = np.concatenate(([cutoff], t[j:])), np.concatenate(([v[j - 1]], v[j:]))
            else:  # all before the cutoff: the last segment ends at a pending sample
                ct, cv = t, v
                t, v = t[-1:], v[-1:]
            while (ct[-1] - ct[0]) / coarse.width > coarse.capacity:
                coarse.compact()
            segments_into(coarse, ct, cv, w)  # (sketched there: nothing left pending)
        self.open_t, self.open_v = float(t[-1]), float(v[-1])
        segments_into(self.fine, t, v, w)

    def _evict_below(self, k0: int) -> None:
        """Move the fine buckets older than key `k0` into the coarse tier."""
        fine, coarse = self.fine, self.coarse
        old = sorted(k for k in fine.buckets if k < k0)
        if not old:
            return
        touched = set()
        for k in old:
            b = fine.buckets.pop(k)
            ck = math.floor(k * fine.width / coarse.width)
            if ck in coarse.buckets:
                coarse.buckets[ck].merge(b)
            else:
                coarse.buckets[ck] = b
            touched.add(ck)
        # The evicted fine buckets' pending values are views of whole batch arrays, which
        # a coarse bucket (kept for many batches) must not hold alive: binned here.
        fold_all([coarse.buckets[ck] for ck in sorted(touched)])

    # -- answers ----------------------------------------------------------------------
    def _ring_part(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the newest `_cap` held samples (the ring), in arrival order."""
        m = min(self._cap, self._nheld)
        ts, vs = [], []
        skip = self._nheld - m
        for t, v in self._held:
            if skip >= t.size:
                skip -= t.size
                continue
            ts.append(t[skip:])
            vs.append(v[skip:])
            skip = 0
        if not ts:
            return np.empty(0), np.empty(0)
        if len(ts) == 1:
            return ts[0].copy(), vs[0].copy()
        return np.concatenate(ts), np.concatenate(vs)

    def ring_all(self) -> tuple[np.ndarray, np.ndarray]:
        """Every raw sample held, time-ordered (a gauge's newest point, `tail`, last):
        what answers draw on besides the rollups (`View`)."""
        self._push()
        t, v = self._ring_part()
        if t.size > 1 and bool((t[1:] < t[:-1]).any()):
            order = np.argsort(t, kind="stable")
            t, v = t[order], v[order]
        if self.tail is not None:
            t, v = np.append(t, self.tail[0]), np.append(v, self.tail[1])
        return t, v

    def ring(self) -> tuple[np.ndarray, np.ndarray]:
        """The raw samples a reader is given: the newest ring's size of them, a gauge's
        held-back newest point (`tail`) counted. The tail enters the ring, evicting the
        oldest, when a later instant begins, which a pause mid-instant makes happen
        sooner than an uninterrupted run (whose later instant may settle to nothing):
        counting it keeps what is given the same either way."""
        t, v = self.ring_all()
        cap = self._cap
        if self.tail is not None and t.size > cap:
            t, v = t[-cap:], v[-cap:]
        return t, v

    def raw_from(self) -> float:
        """Every raw sample at or after this time is given by `ring`."""
        self._push()
        if self.tail is not None and self._nheld >= self._cap:
            t, _ = self.ring_all()
            return math.nextafter(float(t[-self._cap - 1]), math.inf)
        return -math.inf if self.evicted_v is None else math.nextafter(self.evicted_t, math.inf)

    def view(self) -> View:
        """A read-only snapshot for answering queries (cached until the next ingest)."""
        self.flush()
        v = self._view
        if v is None:
            v = self._view = View(self)
        return v

    def nbytes(self) -> int:
        tiers = sum(b.nbytes() for tr in (self.fine, self.coarse) for b in tr.buckets.values())
        return tiers + 16 * (self._fn + len(self._pt) + self._nheld)

    def n_buckets(self) -> int:
        return len(self.fine.buckets) + len(self.coarse.buckets)
