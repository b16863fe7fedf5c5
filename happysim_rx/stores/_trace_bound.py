"""The bound of a `TraceStore(max_traces=N)`: keep the newest N traces, whole.

Traces rank by first appearance. New span batches lose the traces the bound would evict
right after they are added before their ids and columns are built (`_drop_doomed`);
stored traces beyond the bound are cut from the columns (`_evict`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from happysim_rx.stores.trace import SpanArrays


def _hops() -> int:
    from happysim_rx.stores import trace  # (the span-id scheme's constant lives there)

    return trace.HOPS


class TraceBound:
    """Mixed into `TraceStore`: the column attributes below are its."""

    max_traces: int | None
    evicted_traces: int
    _other: dict[Any, list]
    _tid: np.ndarray
    _sid: np.ndarray
    _pid: np.ndarray
    _ent: np.ndarray
    _start: np.ndarray
    _end: np.ndarray
    _attrs: dict[int, dict[str, Any]]
    _attr_cols: list[tuple[np.ndarray, str, np.ndarray]]
    _by_tid: tuple[np.ndarray, np.ndarray] | None
    _by_start: tuple[np.ndarray, np.ndarray] | None
    _scanned: bool

    def _tid_index(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    #: the latest start of a span the bound evicted (-inf: none was)
    _evicted_start: float = -float("inf")

    def _note_evicted(self, starts: np.ndarray) -> None:
        if starts.size:
            self._evicted_start = max(self._evicted_start, float(starts.max()))

    def complete_from(self, now: float | None = None) -> float:
        """Every span starting at or after this time is kept (-inf: none was evicted):
        answers about earlier starts would miss the evicted traces.

        It is the first kept start after the newest evicted one, not the float just
        after it (a range stated to start one ulp after an instant reads as that
        instant, whose evicted spans it does not count); spans starting in between have
        not ended yet, so nobody has seen them. With no kept span starting later, the
        store is complete from `now` (when given and later), else from the float just
        after the evicted start."""
        self._index()
        d = self._evicted_start
        if d == -float("inf"):
            return d
        later = self._start[self._start > d]
        firsts = [s.start for spans in self._other.values() for s in spans if s.start > d]
        if later.size:
            firsts.append(float(later.min()))
        if firsts:
            return min(firsts)
        return now if now is not None and now > d else float(np.nextafter(d, np.inf))

    def _drop_doomed(self, blocks: list[SpanArrays]) -> tuple[list[SpanArrays], int]:
        """The new spans without the traces the bound evicts right after they are added
        (the oldest by first appearance over stored and new spans), and how many traces
        only these blocks held: what `_evict` would leave, without building the ids and
        columns of spans it drops (a bounded store takes in ~16x its bound at a time).
        The traces of stored spans are left to `_evict`. Nothing is dropped when a
        doomed trace has ``HOPS`` spans or more (their ids would advance the overflow
        counter)."""
        cap = self.max_traces
        assert cap is not None
        room = cap - min(len(self._other), cap)
        base = self._tid.size
        new = np.concatenate([b.trace_ids.astype(np.int64, copy=False) for b in blocks])
        tids = np.concatenate((self._tid, new)) if base else new
        order = np.argsort(tids, kind="stable")
        st = tids[order]
        if not st.size:
            return blocks, 0
        head = np.ones(st.size, dtype=bool)
        head[1:] = st[1:] != st[:-1]
        heads = np.flatnonzero(head)
        excess = heads.size - room
        if excess <= 0:
            return blocks, 0
        firsts = order[heads]  # each trace's first row (stable sort)
        rank = np.empty(heads.size, dtype=np.int64)
        rank[np.argsort(firsts, kind="stable")] = np.arange(heads.size)
        doomed = rank < excess
        counts = np.diff(np.append(heads, st.size))
        if bool((counts[doomed] >= _hops()).any()):
            return blocks, 0
        drop = np.empty(st.size, dtype=bool)
        drop[order] = doomed[np.cumsum(head) - 1]
        drop_new = drop[base:]
        if not drop_new.any():
            return blocks, 0
        starts = np.concatenate([b.starts for b in blocks])
        self._note_evicted(starts[drop_new])
        out, off = [], 0
        for b in blocks:
            k = b.trace_ids.size
            keep = ~drop_new[off:off + k]
            off += k
            if keep.all():
                out.append(b)
                continue
            new_row = np.cumsum(keep) - 1
            attrs = []
            for rows_, key, values in b.attributes:
                m = keep[rows_]
                if m.any():
                    attrs.append((new_row[rows_[m]], key, values[m]))
            # (a block left empty still registers its entity names, as it would have)
            out.append(b._replace(trace_ids=b.trace_ids[keep], entities=b.entities[keep],
                                  starts=b.starts[keep], ends=b.ends[keep], attributes=attrs))
        return out, int(np.count_nonzero(doomed & (firsts >= base)))

    def _evict(self) -> None:
        """Keep the newest ``max_traces`` traces (by first appearance), whole."""
        cap = self.max_traces
        assert cap is not None
        while len(self._other) > cap:  # non-integer ids: oldest first
            gone = self._other.pop(next(iter(self._other)))
            self._note_evicted(np.array([sp.start for sp in gone], dtype=np.float64))
            self.evicted_traces += 1
        room = cap - len(self._other)
        order, st = self._tid_index()
        if not st.size:
            return
        # traces (groups of equal ids in `st`) ranked by first appearance: no sort of
        # the rows beyond the index, and no membership test (np.isin sorts again)
        head = np.ones(st.size, dtype=bool)
        head[1:] = st[1:] != st[:-1]
        excess = int(np.count_nonzero(head)) - room
        if excess <= 0:
            return
        firsts = order[head]
        rank = np.empty(firsts.size, dtype=np.int64)
        rank[np.argsort(firsts, kind="stable")] = np.arange(firsts.size)
        keep_sorted = (rank >= excess)[np.cumsum(head) - 1]
        keep = np.empty(st.size, dtype=bool)
        keep[order] = keep_sorted
        self.evicted_traces += excess
        self._note_evicted(self._start[~keep])
        new_row = np.cumsum(keep) - 1
        self._tid, self._sid, self._pid = self._tid[keep], self._sid[keep], self._pid[keep]
        self._ent, self._start, self._end = self._ent[keep], self._start[keep], self._end[keep]
        self._attrs = {int(new_row[r]): a for r, a in self._attrs.items() if keep[r]}
        cols = []
        for rows_, key, values in self._attr_cols:
            m = keep[rows_]
            if m.any():
                cols.append((new_row[rows_[m]], key, values[m]))
        self._attr_cols = cols
        # the kept rows' index, renumbered (still stable within each trace)
        self._by_tid = (new_row[order[keep_sorted]], st[keep_sorted])
        self._by_start = None
        self._scanned = False
