"""Reads a `TraceStore` answers while span batches are still pending, without taking them
all in: one trace, the entities with spans, and a range or the first rows of one.

The spans a read returns belong to a few traces. Those traces are built apart, in a
small store of the same kind: their stored spans first (with their ids), then their
spans from each pending batch in order — the ids and parents `_index` would give, and
spans that start together by trace id, then span id. The batches must be able to look
traces up (``of_trace`` / ``of_traces``) and, for ranges, list each entity's trace ids
and starts (``by_entity``); an unbounded store only (the bound decides what is kept
while taking spans in). Anything else, and reads that would gather many traces, take
everything in as before; so does the ``_PENDING_READS``-th such read in a row (a reader
polling a long run pays for the whole index once, not a scan per read), and a read when
fewer spans are pending than taken in already.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import numpy as np

from happysim_rx.observation import Span
from happysim_rx.stores import _span_ids
from happysim_rx.stores._span_ingest import _Lazy

__all__ = ["PendingReads"]

_PENDING_TRACES_MAX = 4096
_PENDING_READS = 8


class PendingReads:
    """Mixed into `TraceStore`: the attributes below are its."""

    max_traces: int | None
    _pending: list[Any]
    _pending_lazy: int
    _other: dict[Any, list[Span]]
    _rank_of: dict[str, int]
    _tid: np.ndarray
    _ent: np.ndarray
    _start: np.ndarray
    _names: list[str]
    _pending_reads: int = 0  # range reads answered from pending batches since the index

    def _rows_of(self, trace_id: int) -> np.ndarray:
        raise NotImplementedError

    def _spans_at(self, rows: np.ndarray) -> list[Span]:
        raise NotImplementedError

    def _range_rows(self, start: float, end: float, entity: str) -> np.ndarray:
        raise NotImplementedError

    def _apart(self, rows: np.ndarray, batches: list[Any]) -> Any:
        """A store of this kind holding the stored `rows` (ids kept) and then the
        `SpanArrays` batches; None when a request there has more than ``HOPS`` spans
        (the later ones' ids depend on positions in the whole stream)."""
        one = type(self)()
        one._rank_of = dict(self._rank_of)  # (ties ordered as here)
        if rows.size:
            # encoded with `one`'s entity codes (ours would index its empty name list)
            one._append_blocks([one._rows_block(self._spans_at(rows), [], 0)])
            one._hop[:] = self._hop[rows]  # (handed over with the ids given here)
        blocks = [one._arrays_block(b, 0) for b in batches]
        one._append_blocks([b for b in blocks if b is not None])
        if one._tid.size > _span_ids.HOPS and int(
                np.unique(one._tid, return_counts=True)[1].max()) > _span_ids.HOPS:
            return None
        return one

    def _lazy_only(self, *hints: str) -> bool:
        return self.max_traces is None and all(
            type(item) is _Lazy and all(getattr(item, h) is not None for h in hints)
            for item in self._pending)

    def _trace_pending(self, trace_id: int) -> list[Span] | None:
        """One trace while batches are pending, without taking them in; None when that
        is not possible."""
        if not self._lazy_only("of_trace"):
            return None
        one = self._apart(self._rows_of(trace_id),
                          [item.of_trace(trace_id) for item in self._pending])
        return None if one is None else one.trace(trace_id)

    def _entities_pending(self) -> set[str] | None:
        """Names of the entities with a span among the pending batches (None: unknown
        without taking them in)."""
        if not self._pending or not self._lazy_only("by_entity"):
            return None
        return {name for item in self._pending for name, tids, _ in item.by_entity()
                if tids.size}

    def _between_pending(self, start: float, end: float, entity: str, limit: int | None,
                         keep: Any) -> tuple[list[Span], float | None] | None:
        """`between_first` while batches are pending, from the traces of the spans it
        returns only; None when not possible or not worth it."""
        if (not self._pending or keep is not None or self._other
                or self._pending_reads >= _PENDING_READS
                # (most spans taken in already: taking the rest in costs about as much)
                or self._pending_lazy < self._tid.size
                or not self._lazy_only("by_entity", "of_traces")):
            return None
        parts = []  # (trace ids, starts) of the pending spans of the range, per entity
        whole = start == -np.inf and end == np.inf
        for item in self._pending:
            for name, t, s in item.by_entity():
                if entity != "*" and not fnmatchcase(name, entity):
                    continue
                if not whole:
                    m = (s >= start) & (s < end)
                    t, s = t[m], s[m]
                if s.size:
                    parts.append((t, s))
        rows = self._range_rows(start, end, entity)  # stored ones, by start
        ends = [float(s.max()) for _, s in parts] + (
            [float(self._start[rows[-1]])] if rows.size else [])
        latest = max(ends) if ends else None
        if limit == 0:
            self._pending_reads += 1
            return [], latest
        if limit is not None:
            # only the first `limit` by start are returned: the traces of the spans
            # starting no later than the limit-th (ties with it included: they are
            # ordered by trace and span id); it is among each part's `limit` smallest starts
            firsts = [np.partition(s, limit - 1)[:limit] if s.size > limit else s
                      for _, s in parts] + [self._start[rows[:limit]]]
            lowest = np.concatenate(firsts)
            if lowest.size > limit:
                last = np.partition(lowest, limit - 1)[limit - 1]
                rows = rows[self._start[rows] <= last]
                parts = [(t[s <= last], s) for t, s in parts]
        p_tid = (np.concatenate([t for t, _ in parts]) if parts
                 else np.empty(0, dtype=np.int64))
        traces = np.unique(np.concatenate((self._tid[rows], p_tid.astype(np.int64))))
        if traces.size > _PENDING_TRACES_MAX:
            return None
        self._pending_reads += 1
        stored = (np.flatnonzero(np.isin(self._tid, traces)) if self._tid.size
                  else np.empty(0, dtype=np.int64))
        one = self._apart(stored, [item.of_traces(traces) for item in self._pending])
        if one is None:
            return None
        return one.between_first(start, end, entity, limit)[0], latest
