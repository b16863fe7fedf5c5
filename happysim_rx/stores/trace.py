"""Span store: spans by trace id and by time; trace trees and critical paths.

Spans are kept as columns (ids, entity codes, start and end times; attributes sparse),
never as one Python object per span: a `Span` is built only for what a read returns,
so the first ``trace(id)`` after a long run costs a sort of the trace-id column, not a
million objects.

>>> from happysim_rx.observation import Span
>>> ts = TraceStore()
>>> ts.add(Span(1, 1, None, "Server", 0.0, 0.5)); ts.add(Span(1, 2, 1, "Sink", 0.5, 0.6))
>>> [s.entity for s in ts.critical_path(1)]
['Server', 'Sink']
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any, NamedTuple

import numpy as np

from happysim_rx._gc import return_free_memory
from happysim_rx.observation import ObservationKind, Span
from happysim_rx.stores._trace_bound import TraceBound

__all__ = ["COMPONENT_SPAN_BASE", "TraceStore", "SpanColumns", "SpanArrays"]

_INDEX_EVERY = 4096
# Spans handed over without ids (rows whose span_id is None) get ``trace_id * HOPS + hop``,
# ``hop`` counting the request's spans from 0, and the request's previous span as parent:
# ids that do not depend on when the store is read (a request's 1000th and later spans get
# negative ids).
HOPS = 1000
_NONE = np.iinfo(np.int64).min  # "no id" in the id columns: a parent of None / id to assign
# Ids from COMPONENT_SPAN_BASE up are given by the components that record their own spans
# (with their parents): those spans form their own tree and stay out of the chain of
# the spans without ids, which keeps linking the standard hops (source, server, sink).
COMPONENT_SPAN_BASE = 1 << 62


class SpanColumns(NamedTuple):
    """Spans without ids as equal-length lists, in causal order per trace: what an
    `add_lazy` materializer may return instead of rows."""

    trace_ids: list[Any]
    entities: list[str]
    starts: list[float]
    ends: list[float]
    attributes: list[dict[str, Any] | None]


class SpanArrays(NamedTuple):
    """Spans without ids as numpy columns, in causal order per trace (the cheapest form
    an `add_lazy` materializer can return). ``entities`` index into ``names``;
    ``attributes`` are sparse columns ``(rows, key, values)``: span ``rows[i]`` has
    attribute ``key`` = ``values[i]``."""

    trace_ids: np.ndarray
    entities: np.ndarray
    names: list[str]
    starts: np.ndarray
    ends: np.ndarray
    attributes: list[tuple[np.ndarray, str, np.ndarray]]


def _in_order(spans: list[Span]) -> list[Span]:
    """Spans by start time, then end; in a trace with component spans, spans starting
    together are put parents first (then by end)."""
    if not any(type(s.span_id) is int and s.span_id >= COMPONENT_SPAN_BASE for s in spans):
        return sorted(spans, key=lambda s: (s.start, s.end))
    parent = {s.span_id: s.parent_id for s in spans}

    def depth(s: Span) -> int:
        d, p = 0, s.parent_id
        while p is not None and p in parent and d < len(spans):
            d, p = d + 1, parent[p]
        return d

    return sorted(spans, key=lambda s: (s.start, depth(s), s.end))


class _Lazy:
    __slots__ = ("records", "materialize", "size", "of_trace")

    def __init__(self, records: Any, materialize: Any, size: int, of_trace: Any) -> None:
        self.records, self.materialize, self.size = records, materialize, size
        self.of_trace = of_trace


def _is_id(x: Any) -> bool:
    return type(x) is int and -(2**63) < x < 2**63


class TraceStore(TraceBound):
    """All spans (or the spans of the newest ``max_traces`` traces when bounded).

    Integer ids (what the simulation produces) live in the columns; spans with other
    ids (anything hashable) are kept as `Span` objects beside them.
    """

    kinds = frozenset({ObservationKind.SPAN})
    exact = True

    def __init__(self, max_traces: int | None = None) -> None:
        self.max_traces = max_traces
        # Spans arrive as Span records, rows of Span's fields or lazy column batches and
        # are appended as they come (O(1) on the simulation's hot path); they are put in
        # the columns on the first read after a change, or every `_INDEX_EVERY` pending
        # items when bounded (to evict in time).
        self._pending: list[Any] = []
        self._pending_lazy = 0  # spans in pending `_Lazy` batches
        z = np.empty(0, dtype=np.int64)
        self._tid, self._sid, self._pid = z, z, z
        self._ent = np.empty(0, dtype=np.int32)
        self._start, self._end = np.empty(0), np.empty(0)
        self._names: list[str] = []  # entity code -> name
        self._codes: dict[str, int] = {}
        self._attrs: dict[int, dict[str, Any]] = {}  # row -> attributes (from rows/Spans)
        self._attr_cols: list[tuple[np.ndarray, str, np.ndarray]] = []  # sorted rows
        self._other: dict[Any, list[Span]] = {}  # traces with non-integer ids
        self._by_tid: tuple[np.ndarray, np.ndarray] | None = None  # (order, sorted ids)
        self._scanned = False  # a lookup scanned the ids since the index was dropped
        self._by_start: tuple[np.ndarray, np.ndarray] | None = None
        self.evicted_traces = 0
        self._overflow = 0
        self._components = False  # a component span (id >= COMPONENT_SPAN_BASE) stored

    # -- writing ------------------------------------------------------------------------
    def appender(self, info: Any) -> Any:
        pending = self._pending
        bounded = self.max_traces is not None
        index = self._index

        def append(t: float, span: Span, tags: Any = None) -> None:
            pending.append(span)
            if bounded and len(pending) >= _INDEX_EVERY:
                index()

        return append

    def add(self, span: Span) -> None:
        self._pending.append(span)
        if self.max_traces is not None and len(self._pending) >= _INDEX_EVERY:
            self._index()

    def add_rows(self, rows: list[tuple]) -> None:
        """Many spans at once, each a tuple of `Span`'s fields in order."""
        self._pending.extend(rows)
        if self.max_traces is not None and len(self._pending) >= _INDEX_EVERY:
            self._index()

    def add_lazy(self, records: Any, materialize: Any, size: int,
                 trace_ids: Any = None, of_trace: Any = None) -> None:
        """``size`` spans to be made by ``materialize(records, skip)`` (`SpanArrays`,
        `SpanColumns` or rows as for `add_rows`; ``skip`` is an empty id array: columns
        are cheap enough to build for traces a bounded store then evicts) when the store
        is next read; batches are taken in the order they came. ``of_trace(trace_id)``,
        if given, returns the `SpanArrays` of one trace, which lets ``trace(id)`` answer
        without building the rest. ``trace_ids`` is accepted and not needed."""
        self._pending.append(_Lazy(records, materialize, size, of_trace))
        self._pending_lazy += size
        cap = self.max_traces
        if cap is not None and (len(self._pending) >= _INDEX_EVERY
                                or self._pending_lazy >= max(_INDEX_EVERY, 16 * cap)):
            self._index()

    def settle(self) -> list[Span]:
        """Take in everything pending; returns the new spans as `Span` records."""
        first = self._tid.size
        added_other = self._index(evict=False)
        new = self._spans_at(np.arange(first, self._tid.size))
        if self.max_traces is not None:
            self._evict()
        return [*new, *added_other]

    # -- indexing -----------------------------------------------------------------------
    def _index(self, evict: bool = True) -> list[Span]:
        """Move pending spans into the columns (ids assigned, the bound enforced unless
        ``evict`` is False); returns the spans with non-integer ids that were added."""
        if not self._pending:
            return []
        pending = self._pending[:]
        self._pending.clear()  # in place: `appender` closures hold this list
        self._pending_lazy = 0
        blocks: list[Any] = []
        rows: list[Any] = []
        others: list[Span] = []
        for item in pending:
            if type(item) is not _Lazy:
                rows.append(item)
                continue
            if rows:
                blocks.append(self._rows_block(rows, others))
                rows = []
            made = item.materialize(item.records, np.empty(0, dtype=np.int64))
            if type(made) is SpanArrays:
                blocks.append(made)
            elif type(made) is SpanColumns:
                blocks.append(self._rows_block(
                    [(t, None, None, e, a, b, at) for t, e, a, b, at in zip(*made, strict=True)],
                    others))
            else:
                blocks.append(self._rows_block(list(made), others))
        if rows:
            blocks.append(self._rows_block(rows, others))
        blocks = [b for b in blocks if b is not None]
        if evict and self.max_traces is not None and not others and blocks and all(
                type(b) is SpanArrays for b in blocks):
            blocks, skipped = self._drop_doomed(blocks)
            self.evicted_traces += skipped
        self._append_blocks(blocks)
        if len(pending) > 1:
            return_free_memory()  # the build's temporaries (not per live span)
        added_other = self._add_others(others)
        if evict and self.max_traces is not None:
            self._evict()
        return added_other

    def _code(self, name: str) -> int:
        code = self._codes.get(name)
        if code is None:
            code = self._codes[name] = len(self._names)
            self._names.append(name)
        return code

    def _rows_block(self, rows: list[Any], others: list[Span]) -> tuple | None:
        """Rows and `Span`s (few: live streams, hand-made spans) as a block of columns
        ``(tid, sid, pid, entity codes, start, end, {offset: attributes})``; those with
        non-integer ids go to `others`."""
        tid, sid, pid, ent, start, end = [], [], [], [], [], []
        attrs: dict[int, dict[str, Any]] = {}
        for item in rows:
            t, s, p, e, a, b, at = (item if type(item) is tuple
                                    else (item.trace_id, item.span_id, item.parent_id,
                                          item.entity, item.start, item.end,
                                          item.attributes))
            if not (_is_id(t) and (s is None or _is_id(s)) and (p is None or _is_id(p))):
                others.append(item if type(item) is Span else Span(*item))
                continue
            if at is not None:
                attrs[len(tid)] = at
            tid.append(t)
            sid.append(_NONE if s is None else s)
            pid.append(_NONE if p is None else p)
            ent.append(self._code(e))
            start.append(a)
            end.append(b)
        if not tid:
            return None
        return (np.array(tid, dtype=np.int64), np.array(sid, dtype=np.int64),
                np.array(pid, dtype=np.int64), np.array(ent, dtype=np.int32),
                np.array(start, dtype=np.float64), np.array(end, dtype=np.float64), attrs)

    def _append_blocks(self, blocks: list[Any]) -> None:
        if not blocks:
            return
        base = self._tid.size
        cols: list[list[np.ndarray]] = [[], [], [], [], [], []]
        n = base
        for b in blocks:
            if type(b) is SpanArrays:
                k = b.trace_ids.size
                codes = np.array([self._code(nm) for nm in b.names], dtype=np.int32)
                none = np.full(k, _NONE, dtype=np.int64)
                parts = (b.trace_ids.astype(np.int64, copy=False), none, none,
                         codes[b.entities] if k else np.empty(0, np.int32),
                         np.asarray(b.starts, dtype=np.float64),
                         np.asarray(b.ends, dtype=np.float64))
                for rows_, key, values in b.attributes:
                    self._attr_cols.append((rows_.astype(np.int64) + n, key, values))
            else:
                *parts, attrs = b
                k = parts[0].size
                for off, a in attrs.items():
                    self._attrs[n + off] = a
            for col, part in zip(cols, parts, strict=True):
                col.append(part)
            n += k
        tid, sid, pid, ent, start, end = (np.concatenate(c) for c in cols)
        by_tid = self._assign_ids(tid, sid, pid)
        if not self._components and (sid >= COMPONENT_SPAN_BASE).any():
            self._components = True
        self._tid = np.concatenate((self._tid, tid))
        self._sid = np.concatenate((self._sid, sid))
        self._pid = np.concatenate((self._pid, pid))
        self._ent = np.concatenate((self._ent, ent))
        self._start = np.concatenate((self._start, start))
        self._end = np.concatenate((self._end, end))
        # the new block's trace-id order is the whole store's when it was empty (saves
        # the bounded store's eviction a sort)
        self._by_tid = by_tid if base == 0 else None
        self._by_start = None
        self._scanned = False
        if self._components:
            self._join_component_spans(np.unique(tid))

    def _assign_ids(
        self, tid: np.ndarray, sid: np.ndarray, pid: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Give the new spans without ids (``sid == _NONE``) ``trace_id * HOPS + hop`` and
        the previous span of their request as parent, in place (vectorized: a stable
        sort of the new trace ids, and the stored ones' index). Returns that sort
        (`_tid_index` of the new spans) when it made one."""
        todo = sid == _NONE
        if not todo.any():
            return None
        if not todo.all() and (sid >= COMPONENT_SPAN_BASE).any():
            # chain only the spans without ids, among themselves
            rows = np.flatnonzero(todo)
            sub_sid, sub_pid = sid[rows], pid[rows]
            self._chain(tid[rows], sub_sid, sub_pid)
            sid[rows], pid[rows] = sub_sid, sub_pid
            return None
        return self._chain(tid, sid, pid)

    def _chain(self, tid: np.ndarray, sid: np.ndarray,
               pid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        todo = sid == _NONE
        order = np.argsort(tid, kind="stable")
        st = tid[order]
        k = st.size
        head = np.ones(k, dtype=bool)
        head[1:] = st[1:] != st[:-1]
        starts = np.flatnonzero(head)
        group = np.cumsum(head) - 1
        rank = np.arange(k) - starts[group]
        # spans of the same requests stored before this batch
        before = np.zeros(k, dtype=np.int64)
        last_sid = np.full(k, _NONE, dtype=np.int64)
        if self._tid.size:
            s_order, s_sorted = self._tid_index()
            if self._components:
                keep = self._sid[s_order] < COMPONENT_SPAN_BASE
                s_order, s_sorted = s_order[keep], s_sorted[keep]
            lo = np.searchsorted(s_sorted, st, "left")
            hi = np.searchsorted(s_sorted, st, "right")
            before = hi - lo
            has = before > 0
            last_sid[has] = self._sid[s_order[hi[has] - 1]]
        hop = before + rank
        sorted_todo = todo[order]
        new_sid = st * HOPS + hop
        over = sorted_todo & (hop >= HOPS)
        if over.any():  # ids from a separate range, in arrival order
            rows_over = np.sort(order[over])
            ids = -(self._overflow + 1 + np.arange(rows_over.size))
            self._overflow += rows_over.size
            tmp = np.empty(k, dtype=np.int64)
            tmp[order] = new_sid
            tmp[rows_over] = ids
            new_sid = tmp[order]
        sorted_sid = np.where(sorted_todo, new_sid, sid[order])
        prev = np.empty(k, dtype=np.int64)
        prev[1:] = sorted_sid[:-1]
        prev[head] = last_sid[head]
        sid[order] = sorted_sid
        pid[order[sorted_todo]] = prev[sorted_todo]
        return order, st

    def _join_component_spans(self, trace_ids: np.ndarray) -> None:
        """Join the two kinds of spans of traces that have both: a span without id whose
        chain parent lies outside the innermost component span enclosing it becomes
        that component span's child (the server a balancer sent the request to), and a
        component span without parent becomes the child of the latest span without id
        that began before it outside any component span (the source that made the
        request). Traces without component spans are left as they are."""
        order, st = self._tid_index()
        sid, pid, start, end = self._sid, self._pid, self._start, self._end
        lo = np.searchsorted(st, trace_ids, "left")
        hi = np.searchsorted(st, trace_ids, "right")
        for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
            rows = order[a:b]
            if b - a < 2 or not (sid[rows] >= COMPONENT_SPAN_BASE).any():
                continue
            self._join_one(rows.tolist(), sid, pid, start, end)

    @staticmethod
    def _join_one(rows: list[int], sid: np.ndarray, pid: np.ndarray, start: np.ndarray,
                  end: np.ndarray) -> None:
        comp = [r for r in rows if sid[r] >= COMPONENT_SPAN_BASE]
        plain = [r for r in rows if sid[r] < COMPONENT_SPAN_BASE]
        by_id = {int(sid[r]): r for r in rows}
        depth: dict[int, int] = {}

        def comp_depth(r: int) -> int:
            d, seen, cur = 0, 0, r
            while seen < len(rows):
                p = by_id.get(int(pid[cur]))
                if p is None or sid[p] < COMPONENT_SPAN_BASE:
                    break
                d, cur, seen = d + 1, p, seen + 1
            return d

        for r in comp:
            depth[r] = comp_depth(r)

        def inside(r: int, c: int) -> bool:
            return start[c] <= start[r] and end[r] <= end[c] and end[r] > start[c]

        def innermost(r: int) -> int | None:
            best = None
            for c in comp:
                if inside(r, c) and (best is None or depth[c] > depth[best]
                                     or (depth[c] == depth[best] and start[c] > start[best])):
                    best = c
            return best

        enclosed: set[int] = set()
        for r in sorted(plain, key=lambda r: (start[r], end[r])):
            c = innermost(r)
            if c is None:
                continue
            enclosed.add(r)
            parent = by_id.get(int(pid[r]))
            if parent is None or not inside(parent, c):  # the chain link leaves c
                pid[r] = sid[c]
        roots = [r for r in comp if int(pid[r]) == _NONE or by_id.get(int(pid[r])) is None]
        outer = [r for r in plain if r not in enclosed]
        for r in roots:
            before = [p for p in outer if start[p] <= start[r]]
            if before:
                pid[r] = sid[max(before, key=lambda p: (start[p], end[p]))]

    def _add_others(self, spans: list[Span]) -> list[Span]:
        """Spans with non-integer ids: kept per trace as records (ids as for rows)."""
        added = []
        for span in spans:
            spans_ = self._other.setdefault(span.trace_id, [])
            if span.span_id is None:  # ids from the overflow range (not multiples)
                self._overflow += 1
                span = Span(span.trace_id, -self._overflow,
                            spans_[-1].span_id if spans_ else None, span.entity,
                            span.start, span.end, span.attributes)
            spans_.append(span)
            added.append(span)
        return added

    def _tid_index(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows in trace-id order, stable within a trace; the sorted trace ids)."""
        if self._by_tid is None:
            order = np.argsort(self._tid, kind="stable")
            self._by_tid = (order, self._tid[order])
        return self._by_tid

    def _first_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(trace ids in order of first appearance, the row where each first appears)."""
        order, st = self._tid_index()
        if not st.size:
            return st, st
        head = np.ones(st.size, dtype=bool)
        head[1:] = st[1:] != st[:-1]
        firsts = order[head]
        by_first = np.argsort(firsts, kind="stable")
        return st[head][by_first], firsts[by_first]

    # -- reading ------------------------------------------------------------------------
    def _attributes(self, row: int) -> dict[str, Any] | None:
        return self._attributes_of(np.array([row], dtype=np.int64))[0]

    def _attributes_of(self, rows: np.ndarray) -> list[dict[str, Any] | None]:
        """Attributes of the given rows, in that order: one vectorized lookup per
        attribute column, a dict built only for the rows that have attributes."""
        rl = rows.tolist()
        attrs = self._attrs
        out: list[dict[str, Any] | None] = (
            [attrs.get(r) for r in rl] if attrs else [None] * len(rl))
        for rows_, key, values in self._attr_cols:
            if not rows_.size or not rows.size:
                continue
            idx = np.searchsorted(rows_, rows)
            hit = idx < rows_.size
            hit[hit] = rows_[idx[hit]] == rows[hit]
            at = np.flatnonzero(hit)
            if not at.size:
                continue
            vals = values[idx[at]]
            got = (vals.tolist() if vals.dtype != object
                   else [v.item() if isinstance(v, np.generic) else v for v in vals])
            for j, v in zip(at.tolist(), got, strict=True):
                a = out[j]
                out[j] = {**(a or {}), key: v}
        return out

    def _spans_at(self, rows: np.ndarray) -> list[Span]:
        """`Span` records of the given rows, in that order."""
        if not rows.size:
            return []
        names = self._names
        tid, sid, pid = self._tid[rows].tolist(), self._sid[rows].tolist(), self._pid[
            rows].tolist()
        ent, start, end = self._ent[rows].tolist(), self._start[rows].tolist(), self._end[
            rows].tolist()
        has_attrs = bool(self._attrs) or bool(self._attr_cols)
        attrs = self._attributes_of(rows) if has_attrs else [None] * len(tid)
        return [Span(t, s, None if p == _NONE else p, names[e], a, b, at)
                for t, s, p, e, a, b, at in zip(tid, sid, pid, ent, start, end, attrs,
                                                strict=True)]

    def _flat_order(self) -> np.ndarray:
        """Rows grouped by trace (traces in order of first appearance), arrival order
        within a trace."""
        order, st = self._tid_index()
        if not st.size:
            return order
        head = np.ones(st.size, dtype=bool)
        head[1:] = st[1:] != st[:-1]
        first_of_group = order[head][np.cumsum(head) - 1]  # per sorted row
        return order[np.argsort(first_of_group, kind="stable")]

    def spans(self) -> list[Span]:
        """Every span as a record (grouped by trace, traces in order of first
        appearance): builds one object per span, so for small stores and tests."""
        self._index()
        out = self._spans_at(self._flat_order())
        for spans_ in self._other.values():
            out.extend(spans_)
        return out

    _spans = property(spans)

    def __len__(self) -> int:
        self._index()
        return int(self._tid.size) + sum(len(v) for v in self._other.values())

    def trace_ids(self) -> list[Any]:
        """Trace ids in order of first appearance."""
        self._index()
        return [*self._first_rows()[0].tolist(), *self._other]

    def trace(self, trace_id: Any) -> list[Span]:
        """Spans of one trace ordered by start time."""
        if self._pending and _is_id(trace_id) and not self._scanned:
            # the first lookup scans the pending batches; a second one takes them in
            # (so that looking up many traces does not scan them each time)
            self._scanned = True
            found = self._trace_pending(trace_id)
            if found is not None:
                return found
        self._index()
        spans: list[Span] = list(self._other.get(trace_id, ()))
        if _is_id(trace_id) and self._tid.size:
            spans = self._spans_at(self._rows_of(trace_id)) + spans
        return _in_order(spans)

    def _rows_of(self, trace_id: int) -> np.ndarray:
        """Rows of one trace in arrival order: the first lookup after a change scans the
        id column (a few ms for 10^6 spans, no sort); the next builds the trace-id index
        (one sort), so that looking up every trace stays O(n log n)."""
        if self._by_tid is None:
            if not self._scanned:
                self._scanned = True
                return np.flatnonzero(self._tid == trace_id)
            self._tid_index()
        order, st = self._by_tid
        i0, i1 = np.searchsorted(st, [trace_id, trace_id + 1])
        return order[i0:i1]

    def _trace_pending(self, trace_id: int) -> list[Span] | None:
        """One trace while batches are pending, without taking them in: the stored
        spans of the trace, then its spans from each batch, ids given as `_index`
        would. None when that is not possible (rows pending, a bounded store, a batch
        that cannot look up one trace, a request of more than HOPS spans)."""
        if self.max_traces is not None or not all(
                type(item) is _Lazy and item.of_trace is not None for item in self._pending):
            return None
        one = TraceStore()
        rows = self._rows_of(trace_id)
        if rows.size:
            # encoded with `one`'s entity codes (ours would index its empty name list)
            one._append_blocks([one._rows_block(self._spans_at(rows), [])])
        one._append_blocks([item.of_trace(trace_id) for item in self._pending])
        if one._tid.size > HOPS:
            return None
        return one.trace(trace_id)

    def durations(self) -> list[tuple[float, Any]]:
        """``(last end - first start, trace id)`` of every trace, in one vectorized pass
        (what a per-trace loop over `trace` would compute, without building spans)."""
        self._index()
        out: list[tuple[float, Any]] = []
        if self._tid.size:
            order, st = self._tid_index()
            head = np.ones(st.size, dtype=bool)
            head[1:] = st[1:] != st[:-1]
            at = np.flatnonzero(head)
            ends = np.maximum.reduceat(self._end[order], at)
            starts = np.minimum.reduceat(self._start[order], at)
            out = list(zip((ends - starts).tolist(), st[at].tolist(), strict=True))
        for tid, spans in self._other.items():
            out.append((max(x.end for x in spans) - min(x.start for x in spans), tid))
        return out

    def edges(self) -> list[tuple[str, str, int]]:
        """``(from entity, to entity, requests)``: each hop a request made, counted over
        the spans kept (a span and its parent span), in first-seen order. Incremental:
        a call costs the spans added since the last one (all of them after an
        eviction)."""
        self._index()
        n = self._tid.size
        cache = self.__dict__.get("_edge_cache")
        if cache is None or cache[0] > n or cache[4] != self.evicted_traces:
            z = np.empty(0, dtype=np.int64)
            cache = (0, {}, z, z, self.evicted_traces)
        done, counts, s_sid, s_row, evicted = cache
        if done < n:
            new = np.arange(done, n, dtype=np.int64)
            nsid = self._sid[new]
            order = np.argsort(nsid, kind="stable")
            pos = np.searchsorted(s_sid, nsid[order])
            s_sid = np.insert(s_sid, pos, nsid[order])
            s_row = np.insert(s_row, pos, new[order])
            pid = self._pid[new]
            child = new[pid != _NONE]
            parent = self._pid[child]
            if child.size:
                at = np.minimum(np.searchsorted(s_sid, parent), s_sid.size - 1)
                found = s_sid[at] == parent
                src = self._ent[s_row[at[found]]].astype(np.int64)
                dst = self._ent[child[found]].astype(np.int64)
                width = max(len(self._names), 1)
                pairs = src * width + dst
                uniq, first, cnt = np.unique(pairs, return_index=True, return_counts=True)
                for k in np.argsort(first, kind="stable").tolist():
                    key = (int(uniq[k]) // width, int(uniq[k]) % width)
                    counts[key] = counts.get(key, 0) + int(cnt[k])
        self.__dict__["_edge_cache"] = (n, counts, s_sid, s_row, evicted)
        names = self._names
        return [(names[a], names[b], c) for (a, b), c in counts.items()]

    def entities(self) -> list[str]:
        self._index()
        # a count per code, O(n): cheaper than np.unique's sort on every query
        seen = np.bincount(self._ent, minlength=len(self._names)) if self._ent.size else []
        present = {self._names[c] for c, k in enumerate(seen) if k}
        present.update(s.entity for spans in self._other.values() for s in spans)
        return sorted(present)

    def between(self, start: float, end: float, entity: str = "*") -> list[Span]:
        """Spans whose *start* is in [start, end), by start time, spans starting at the
        same time in the order they came (O(log n) + k)."""
        return self.between_first(start, end, entity)[0]

    def between_first(self, start: float, end: float, entity: str = "*",
                      limit: int | None = None, keep: Any = None
                      ) -> tuple[list[Span], float | None]:
        """The first ``limit`` spans (all when None) of ``between(start, end, entity)``
        for which ``keep(span)`` holds (all when None), and the latest start among all
        spans of the range and entity (None when there are none): spans are built only
        until ``limit`` are kept.

        >>> ts = TraceStore()
        >>> for i in range(5): ts.add(Span(i, 1, None, "Server", float(i), i + 0.5))
        >>> spans, latest = ts.between_first(1.0, 10.0, limit=2)
        >>> [s.start for s in spans], latest
        ([1.0, 2.0], 4.0)
        """
        self._index()
        if self._by_start is None:  # ties by start keep the order spans came in
            order = np.argsort(self._start, kind="stable")
            if order.size < 2**31:
                order = order.astype(np.int32)  # an index kept for every span: compact
            self._by_start = (order, self._start[order])
        order, starts = self._by_start
        i0, i1 = np.searchsorted(starts, [start, end])
        rows = order[i0:i1]
        if entity != "*":
            codes = [c for c, nm in enumerate(self._names) if fnmatchcase(nm, entity)]
            rows = rows[np.isin(self._ent[rows], codes)]
        # rows are in start order: the last one starts latest
        latest = float(self._start[rows[-1]]) if rows.size else None
        if limit is None:
            out = self._spans_at(rows)
            if keep is not None:
                out = [s for s in out if keep(s)]
        elif keep is None:
            out = self._spans_at(rows[:limit])
        else:  # in growing chunks, until `limit` are kept
            out, i, step = [], 0, 2 * limit + 2
            while len(out) < limit and i < rows.size:
                out += [s for s in self._spans_at(rows[i:i + step]) if keep(s)]
                i, step = i + step, 2 * step
        if self._other:
            extra = [s for spans in self._other.values() for s in spans
                     if start <= s.start < end
                     and (entity == "*" or fnmatchcase(s.entity, entity))]
            if extra:
                latest = max([s.start for s in extra]
                             + ([] if latest is None else [latest]))
                if keep is not None:
                    extra = [s for s in extra if keep(s)]
                # a stable merge: the first `limit` of the whole come from the first
                # `limit` of each part
                out = sorted(out + extra, key=lambda s: s.start)
        return (out if limit is None else out[:limit]), latest

    def tree(self, trace_id: Any) -> list[dict[str, Any]]:
        """Nested dicts ``{span..., "children": [...]}``, roots first."""
        spans = self.trace(trace_id)
        nodes = {s.span_id: {**s.to_dict(), "children": []} for s in spans}
        roots = []
        for s in spans:
            parent = nodes.get(s.parent_id) if s.parent_id is not None else None
            (parent["children"] if parent is not None else roots).append(nodes[s.span_id])
        return roots

    def critical_path(self, trace_id: Any) -> list[Span]:
        """Root-to-leaf chain that follows, at each hop, the child that ends last."""
        spans = self.trace(trace_id)
        if not spans:
            return []
        children: dict[Any, list[Span]] = {}
        ids = {s.span_id for s in spans}
        roots = []
        for s in spans:
            if s.parent_id is None or s.parent_id not in ids:
                roots.append(s)
            else:
                children.setdefault(s.parent_id, []).append(s)
        node = max(roots, key=lambda s: s.end)
        path = [node]
        while children.get(node.span_id):
            node = max(children[node.span_id], key=lambda s: s.end)
            path.append(node)
        return path

    def nbytes(self) -> int:
        """Bytes held by the span columns (attributes and non-integer traces aside)."""
        return sum(a.nbytes for a in (self._tid, self._sid, self._pid, self._ent,
                                      self._start, self._end))

    def finish(self, now: float) -> None:
        pass
