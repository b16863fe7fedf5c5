"""Exact metric store: one columnar series per (source, name).

Appends go to list tails (a list append is the cheapest a recording call can do; an
``array('d')`` append parses its argument, ~2x the cost); a query, a batch, or the
runtime's flush schedule (`MetricStore.compact`: bounded memory) moves the tail into
numpy, then into a capacity-doubling buffer (amortized O(new data)) sliced with
``searchsorted`` (O(log n)), so repeated queries during a paused run are cheap.

The tails are never replaced, only emptied: `MetricStore.columns` hands them to the
bus, whose recording calls append to them directly when nothing else listens.

>>> store = MetricStore()
>>> s = store.series_for("Server", "queue_depth", "gauge")
>>> s.append(0.0, 0); s.append(1.0, 4)
>>> t, v = s.arrays(); v.tolist()
[0.0, 4.0]
"""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np

from happysim_rx.observation import ObservationKind
from happysim_rx.stores._series_map import SeriesMap
from happysim_rx.stores._settle import Instant
from happysim_rx.stores.compute import (
    gauge_segments,
    pooled_aggregates,
    window_gauge_aggregates,
    window_sample_aggregates,
)

__all__ = ["MetricSeries", "MetricStore", "RangeAnswer"]


class RangeAnswer:
    """What a store answers for one (group, range): values plus honesty fields."""

    __slots__ = ("values", "exact", "error_bound", "time_resolution", "start", "end")

    def __init__(
        self,
        values: dict[str, float | None],
        exact: bool = True,
        error_bound: float | None = None,
        time_resolution: float | None = None,
        start: float | None = None,
        end: float | None = None,
    ) -> None:
        self.values = values
        self.exact = exact  # every value is exact over [start, end)
        self.error_bound = error_bound  # relative, for approximate quantiles
        self.time_resolution = time_resolution  # widest rollup bucket used (None: raw)
        # the range really answered, when it differs from the one asked (snapped edges)
        self.start, self.end = start, end


def _double(x: Any) -> float:
    """`x` as a C double, refused as ``array('d')`` refuses it (TypeError for what is
    not a number, OverflowError for an int beyond the float range)."""
    return x + 0.0 if x.__class__ is int else array("d", (x,))[0]


def _kept(a: Any) -> np.ndarray:
    """`a` as a float64 array a series may keep: a frozen one (read-only, over a
    read-only buffer: whoever built it froze it, nothing writes to it) as given, no
    copy (a flush hands over the columns it just built, and may share one between
    series); anything else copied."""
    if a.__class__ is np.ndarray and a.dtype == np.float64 and not a.flags.writeable:
        base = a.base
        if base is None or base.__class__ is np.ndarray and not base.flags.writeable:
            return a
    return np.array(a, dtype=np.float64)


def _column(values: list) -> np.ndarray:
    """A tail list as a float64 array, and the list emptied (it keeps being appended
    to: the bus may hold it)."""
    out = np.fromiter(values, dtype=np.float64, count=len(values))
    values.clear()
    return out


class MetricSeries:
    """Columns of one series. ``append(t, v, tags=None)`` is the bus's emit target."""

    __slots__ = (
        "source",
        "name",
        "series_kind",
        "_tt",
        "_tv",
        "_chunks",
        "_pending",
        "_bt",
        "_bv",
        "_n",
        "_tags",
        "_tag_runs",
        "_tail_tags",
        "_instant",
    )

    def __init__(self, source: str, name: str, series_kind: str | None = None) -> None:
        self.source, self.name, self.series_kind = source, name, series_kind
        # the tail: floats (or ints) appended by `append` or by the bus's recording calls
        # straight into these lists (`MetricStore.columns`); emptied, never replaced
        self._tt: list[float] = []
        self._tv: list[float] = []
        # batches from `extend`, kept as they came until the next read (no copy per batch)
        self._chunks: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending = 0  # samples in `_chunks`
        self._bt = np.empty(0)
        self._bv = np.empty(0)
        self._n = 0
        self._tags: dict[int, dict] | None = None  # sparse: index -> tags
        # tagged batches not yet in `_tags`: (index of the first, its tags dicts), folded
        # in by the first reader (a batch per flush, not a dict entry per sample, in the run)
        self._tag_runs: list[tuple[int, list[dict]]] | None = None
        self._instant: Instant | None = None  # a gauge's newest instant (`_settle`)

    def append(self, t: float, v: float, tags: dict | None = None) -> None:
        # (a value that is not a number is refused here, where it is emitted, as an
        # ``array('d')`` would: not later, when the tail is read)
        if v.__class__ is not float:
            v = v + 0.0 if v.__class__ is int else _double(v)
        if t.__class__ is not float:
            t = _double(t)
        self._tt.append(t)
        self._tv.append(v)
        if tags is not None:
            if self._tags is None:
                self._tags = {}
            self._tags[self._n + self._pending + len(self._tt) - 1] = tags

    def extend(self, t: np.ndarray, v: np.ndarray) -> None:
        """Append many samples at once (arrays, times in order). Frozen float64 arrays
        (read-only) are kept as given, others copied."""
        if len(self._tt):
            self._chunks.append(self._take_singles())
        t, v = _kept(t), _kept(v)
        self._chunks.append((t, v))
        self._pending += t.size

    def extend_tagged(self, t: np.ndarray, v: np.ndarray, tags: list[dict]) -> None:
        """`extend` with each sample's tags (``tags[i]``, a dict, for sample ``i``): kept
        as `append` keeps them (the dicts themselves, not copies)."""
        if len(tags) != len(t):
            raise ValueError(f"{len(t)} samples and {len(tags)} tags: one tags dict "
                             "per sample")
        first = len(self)
        self.extend(t, v)
        if self._tag_runs is None:
            self._tag_runs = []
        self._tag_runs.append((first, tags))

    def _fold_tags(self) -> dict[int, dict] | None:
        """`_tags` with the tagged batches folded in (before any index is read or moved)."""
        runs = self._tag_runs
        if runs:
            self._tag_runs = None
            tags = self._tags
            if tags is None:
                tags = self._tags = {}
            for first, batch in runs:
                tags.update(zip(range(first, first + len(batch)), batch, strict=True))
        return self._tags

    def _take_singles(self) -> tuple[np.ndarray, np.ndarray]:
        t, v = _column(self._tt), _column(self._tv)
        self._pending += t.size
        return t, v

    def compact(self) -> None:
        """Move the tail into numpy (the runtime's flush schedule: a list holds a float
        object per sample, 4x the memory of the numpy buffers)."""
        if len(self._tt) > 256:
            self._chunks.append(self._take_singles())

    def __len__(self) -> int:
        return self._n + self._pending + len(self._tt)

    def _flush(self) -> None:
        if self._tag_runs:
            self._fold_tags()
        if self._chunks:
            if len(self._tt):
                self._chunks.append(self._take_singles())
            new_t = np.concatenate([c[0] for c in self._chunks])
            new_v = np.concatenate([c[1] for c in self._chunks])
            self._chunks, self._pending = [], 0
        elif len(self._tt):
            new_t, new_v = _column(self._tt), _column(self._tv)
        else:
            return
        n = self._n
        if self.series_kind == "gauge":
            new_t, new_v, n = self._settle(new_t, new_v, n)
        k = new_t.size
        if n + k > self._bt.size:
            cap = max(1024, 2 * (n + k))
            bt, bv = np.empty(cap), np.empty(cap)
            bt[:n], bv[:n] = self._bt[:n], self._bv[:n]
            self._bt, self._bv = bt, bv
        self._bt[n : n + k] = new_t
        self._bv[n : n + k] = new_v
        self._n = n + k
        # Times should arrive in order; if not (e.g. a late emitter), restore order.
        lo = max(n - 1, 0)
        seg = self._bt[lo : n + k]
        if seg.size > 1 and bool((seg[1:] < seg[:-1]).any()):
            order = np.argsort(self._bt[: self._n], kind="stable")
            self._bt[: self._n] = self._bt[: self._n][order]
            self._bv[: self._n] = self._bv[: self._n][order]
            if self._tags:
                inv = np.empty_like(order)
                inv[order] = np.arange(order.size)
                self._tags = {int(inv[i]): tg for i, tg in self._tags.items()}

    def _settle(self, t: np.ndarray, v: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, int]:
        """A gauge's new records settled per instant (see `_settle`): the points to
        append, and where they go (one less when the newest point's instant continues)."""
        st = self._instant
        if st is None:
            st = self._instant = Instant()
        keep, drop_last = st.settle(t, v)
        if drop_last:
            n -= 1
            self._n = n
        tags = self._tags
        if tags:  # record i of this batch had index self._n(before) + i
            base = n + (1 if drop_last else 0)
            moved = {base + int(j): n + r for r, j in enumerate(keep.tolist())}
            self._tags = {moved.get(i, i) if i >= base else i: tg for i, tg in tags.items()
                          if i < n or i in moved}
        if keep.size == t.size:
            return t, v, n
        return t[keep], v[keep], n

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(times, values) as numpy views (valid until the next append+query)."""
        self._flush()
        return self._bt[: self._n], self._bv[: self._n]

    def tags_at(self, i: int) -> dict | None:
        tags = self._fold_tags()
        return None if tags is None else tags.get(i)

    def tagged(self, i0: int = 0, i1: int | None = None) -> dict[int, dict]:
        """The samples in ``[i0, i1)`` that carry tags: {index: tags} (sparse)."""
        self._flush()  # (a flush may reorder samples, and with them the indexes)
        tags = self._tags or {}
        hi = self._n if i1 is None else i1
        return {i: tg for i, tg in tags.items() if i0 <= i < hi}

    def tag_keys(self) -> set[str]:
        """Every tag key any sample of this series carries."""
        return {k for tg in (self._fold_tags() or {}).values() for k in tg}

    def tag_mask(self, i0: int, i1: int, where: dict[str, Any]) -> np.ndarray:
        """Boolean mask over [i0, i1): samples whose tags contain all of ``where``."""
        mask = np.zeros(i1 - i0, dtype=bool)
        tags = self._fold_tags()
        if tags:
            for i, tg in tags.items():
                if i0 <= i < i1 and all(tg.get(k) == val for k, val in where.items()):
                    mask[i - i0] = True
        return mask

    def tag_values(self, i0: int, i1: int, key: str) -> list[Any]:
        tags = self._fold_tags() or {}
        return [tags.get(i, {}).get(key) for i in range(i0, i1)]

    def nbytes(self) -> int:
        return 16 * (len(self._tt) + self._pending) + self._bt.nbytes + self._bv.nbytes

    def __repr__(self) -> str:
        return f"<MetricSeries {self.source}.{self.name} ({self.series_kind}) n={len(self)}>"


class MetricStore(SeriesMap):
    """Exact store of every metric sample (memory grows with the run).

    Attach with ``bus.attach_store(MetricStore())``; each metric topic gets a series and
    its ``emit`` becomes the series' ``append``.
    """

    kinds = frozenset({ObservationKind.METRIC})
    exact = True
    keeps_tags = True  # per-sample tags (`where`, `group_by` a tag key)

    def __init__(self) -> None:
        super().__init__()

    # -- bus seam ---------------------------------------------------------------------
    def _new_series(self, source: str, name: str, series_kind: str | None) -> Any:
        return MetricSeries(source, name, series_kind)

    def columns(self, info: Any) -> tuple[list, list]:
        """The series' tail lists (times, values), for a recording call to append to
        directly when nothing but this store listens (`Topic.columns`): floats, or ints
        within the float range; samples without tags only."""
        s = self.series_for(info.source, info.name, info.series_kind)
        return s._tt, s._tv

    def compact(self) -> None:
        """Move every series' tail into numpy (called on the runtime's flush schedule:
        bounded memory between reads)."""
        for s in self._series.values():
            s.compact()

    def time_bounds(self, series: list[MetricSeries]) -> tuple[float, float] | None:
        lo, hi = np.inf, -np.inf
        for s in series:
            t, _ = s.arrays()
            if t.size:
                lo, hi = min(lo, float(t[0])), max(hi, float(t[-1]))
        return None if lo > hi else (lo, hi)

    def nbytes(self) -> int:
        return sum(s.nbytes() for s in self._series.values())

    # -- answers ----------------------------------------------------------------------
    def raw(
        self, series: list[MetricSeries], start: float, end: float, where: dict | None = None
    ) -> list[tuple[float, str, str, float, dict | None]]:
        """Raw samples (time, source, name, value, tags) in [start, end), time-ordered."""
        rows = []
        for s in series:
            t, v = s.arrays()
            i0, i1 = int(np.searchsorted(t, start)), int(np.searchsorted(t, end))
            mask = s.tag_mask(i0, i1, where) if where else None
            for j in range(i0, i1):
                if mask is None or mask[j - i0]:
                    rows.append((float(t[j]), s.source, s.name, float(v[j]), s.tags_at(j)))
        rows.sort(key=lambda r: r[0])
        return rows

    def aggregate_windows(
        self,
        series: list[MetricSeries],
        specs: list[str],
        edges: list[float],
        *,
        weighting: str,
        counter: bool = False,
        hold_until: float | None = None,
    ) -> list[dict[str, float | None]] | None:
        """`aggregate` for every window ``[edges[i], edges[i+1])`` in one vectorized
        pass (same answers); None when this case is not vectorized (several gauges
        pooled, time-weighted quantiles): ask `aggregate` per window then."""
        e = np.asarray(edges, dtype=np.float64)
        if weighting == "time":
            if len(series) != 1:
                return None
            t, v = series[0].arrays()
            return window_gauge_aggregates(specs, t, v, e, hold_until)
        if len(series) == 1:
            t, v = series[0].arrays()
        else:
            parts = [s.arrays() for s in series]
            t = np.concatenate([p[0] for p in parts])
            v = np.concatenate([p[1] for p in parts])
            order = np.argsort(t, kind="stable")
            t, v = t[order], v[order]
        return window_sample_aggregates(specs, t, v, e, counter=counter)

    def aggregate(
        self,
        series: list[MetricSeries],
        specs: list[str],
        start: float,
        end: float,
        *,
        weighting: str,
        where: dict | None = None,
        counter: bool = False,
        hold_until: float | None = None,
    ) -> RangeAnswer:
        """Exact aggregates over the pooled samples of ``series`` in [start, end);
        ``hold_until`` (the clock) ends a gauge's last held value (see gauge_segments)."""
        ts, vs, segv, segw = [], [], [], []
        for s in series:
            t, v = s.arrays()
            if weighting == "time":
                sv, sw, i0, i1 = gauge_segments(t, v, start, end, hold_until)
                if where:
                    # A tag filter selects the time held from the changes carrying the
                    # tags, each to the next change whatever its tags; the value carried
                    # in is held from the change before the range (kept when it matches),
                    # so groups by a tag key partition the gauge's time.
                    m = s.tag_mask(i0, i1, where)
                    carry = sv.size - (i1 - i0)
                    head = s.tag_mask(i0 - 1, i0, where) if carry else np.zeros(0, dtype=bool)
                    keep = np.concatenate((head, m))
                    sv, sw = sv[keep], sw[keep]
                segv.append(sv)
                segw.append(sw)
            else:
                i0, i1 = int(np.searchsorted(t, start)), int(np.searchsorted(t, end))
            tt, vv = t[i0:i1], v[i0:i1]
            if where:
                m = s.tag_mask(i0, i1, where)
                tt, vv = tt[m], vv[m]
            ts.append(tt)
            vs.append(vv)
        vals = pooled_aggregates(specs, ts, vs, start, end, weighting=weighting,
                                 seg_values=segv, seg_weights=segw, counter=counter)
        return RangeAnswer(vals, exact=True)
