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
from typing import Any

import numpy as np

from happysim_rx.observation import ObservationKind, Span
from happysim_rx.stores._span_ids import _NONE, COMPONENT_SPAN_BASE, HOPS
from happysim_rx.stores._span_ingest import SpanArrays, SpanColumns, SpanIngest, _is_id
from happysim_rx.stores._span_pending import PendingReads

__all__ = ["COMPONENT_SPAN_BASE", "HOPS", "TraceStore", "SpanColumns", "SpanArrays"]


def _in_order(spans: list[Span]) -> list[Span]:
    """Spans by start time, then end (spans tying on both: parents first, so the order
    does not depend on the order they came in); in a trace with component spans, spans
    starting together are put parents first (then by end)."""
    if not any(type(s.span_id) is int and s.span_id >= COMPONENT_SPAN_BASE for s in spans):
        out = sorted(spans, key=lambda s: (s.start, s.end))
        if all((a.start, a.end) != (b.start, b.end)
               for a, b in zip(out, out[1:], strict=False)):
            return out
    parent = {s.span_id: s.parent_id for s in spans}

    def depth(s: Span) -> int:
        d, p = 0, s.parent_id
        while p is not None and p in parent and d < len(spans):
            d, p = d + 1, parent[p]
        return d

    if not any(type(s.span_id) is int and s.span_id >= COMPONENT_SPAN_BASE for s in spans):
        return sorted(spans, key=lambda s: (s.start, s.end, depth(s)))
    return sorted(spans, key=lambda s: (s.start, depth(s), s.end))


class TraceStore(PendingReads, SpanIngest):
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
        self._hop = np.empty(0, dtype=bool)  # the span got its id here
        self._bufs: tuple[np.ndarray, ...] | None = None  # what the columns are views of
        self._ent = np.empty(0, dtype=np.int32)
        self._start, self._end = np.empty(0), np.empty(0)
        self._names: list[str] = []  # entity code -> name
        self._codes: dict[str, int] = {}
        self._attrs: dict[int, dict[str, Any]] = {}  # row -> attributes (from rows/Spans)
        #: entity -> the attribute keys any span of it handed over carried (evicted or
        #: dropped by the bound included: what a span query may filter or group on)
        self._attr_keys: dict[str, set[str]] = {}
        self._rank_of: dict[str, int] = {}  # entity -> its rank in a tie (`_span_ids`)
        self._attr_cols: list[tuple[np.ndarray, str, np.ndarray]] = []  # sorted rows
        self._other: dict[Any, list[Span]] = {}  # traces with non-integer ids
        self._by_tid: tuple[np.ndarray, np.ndarray] | None = None  # (order, sorted ids)
        self._scanned = False  # a lookup scanned the ids since the index was dropped
        self._by_start: tuple[np.ndarray, np.ndarray] | None = None
        self._seen = 0
        self._components = False  # a component span (id >= COMPONENT_SPAN_BASE) stored

    def _tid_index(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows in trace-id order, stable within a trace; the sorted trace ids). The
        index kept (`_by_tid`) may cover the rows up to some point only (intakes
        append rows after it): the later rows are merged in (a sort of those, and one
        pass), not the whole column sorted again."""
        n = self._tid.size
        if self._by_tid is None:
            order = np.argsort(self._tid, kind="stable")
            self._by_tid = (order, self._tid[order])
        elif self._by_tid[0].size < n:
            p_order, p_sorted = self._by_tid
            m = p_order.size
            t_order = m + np.argsort(self._tid[m:], kind="stable")
            t_sorted = self._tid[t_order]
            # (after the equal ids of the index: later rows, so still stable)
            at = np.searchsorted(p_sorted, t_sorted, "right")
            self._by_tid = (np.insert(p_order, at, t_order), np.insert(p_sorted, at, t_sorted))
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
            # (copies: components share one attributes dict between spans, and a reader
            # may edit the span it is given)
            [a if (a := attrs.get(r)) is None else dict(a) for r in rl] if attrs
            else [None] * len(rl))
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
        if self._by_tid is None or self._by_tid[0].size < self._tid.size:
            if not self._scanned:
                self._scanned = True
                return np.flatnonzero(self._tid == trace_id)
        order, st = self._tid_index()
        i0, i1 = np.searchsorted(st, [trace_id, trace_id + 1])
        return order[i0:i1]

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
        """Names of the entities with at least one span kept."""
        pending = self._entities_pending()
        if pending is None:
            self._index()
        # a count per code, O(n): cheaper than np.unique's sort on every query
        seen = np.bincount(self._ent, minlength=len(self._names)) if self._ent.size else []
        present = {self._names[c] for c, k in enumerate(seen) if k} | (pending or set())
        present.update(s.entity for spans in self._other.values() for s in spans)
        return sorted(present)

    def attribute_keys(self, entity: str = "*") -> set[str]:
        """The attribute keys carried by any span of `entity` (a glob) handed to the
        store so far, those evicted or dropped by the bound included.

        >>> ts = TraceStore()
        >>> ts.add(Span(1, None, None, "LB", 0.0, 0.1, {"backend": "S0"}))
        >>> sorted(ts.attribute_keys("L*")), sorted(ts.attribute_keys("Sink"))
        (['backend'], [])
        """
        self._index()
        return {k for e, keys in self._attr_keys.items() if fnmatchcase(e, entity)
                for k in keys}

    def attribute_keys_by_entity(self) -> dict[str, set[str]]:
        """entity -> `attribute_keys` of it (entities whose spans carried none left out)."""
        self._index()
        return {e: set(keys) for e, keys in self._attr_keys.items() if keys}

    def between(self, start: float, end: float, entity: str = "*") -> list[Span]:
        """Spans whose *start* is in [start, end), by start time, spans starting at the
        same time by trace id, then span id (O(log n) + k)."""
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
        got = self._between_pending(start, end, entity, limit, keep)
        if got is not None:
            return got
        self._index()
        rows = self._range_rows(start, end, entity)
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

    def columns_between(self, start: float, end: float, entity: str = "*"
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """``between(start, end, entity)`` as columns, in the same order, without
        building a span: ``(starts, durations, entity codes, names)`` (``names[code]``
        is a span's entity). What aggregates over spans read.

        >>> ts = TraceStore()
        >>> for i in range(3): ts.add(Span(i, 1, None, "Server", float(i), i + 0.5))
        >>> starts, durations, codes, names = ts.columns_between(1.0, 10.0)
        >>> starts.tolist(), durations.tolist(), [names[c] for c in codes]
        ([1.0, 2.0], [0.5, 0.5], ['Server', 'Server'])
        """
        self._index()
        rows = self._range_rows(start, end, entity)
        starts = self._start[rows]
        durations = self._end[rows] - starts
        codes = self._ent[rows].astype(np.intp)
        names = list(self._names)
        extra = [s for spans in self._other.values() for s in spans
                 if start <= s.start < end and (entity == "*" or fnmatchcase(s.entity, entity))]
        if extra:  # merged by start as `between_first` merges them (stable: stored first)
            code_of = {n: c for c, n in enumerate(names)}
            for s in extra:
                code_of.setdefault(s.entity, len(code_of))
            names = list(code_of)
            starts = np.concatenate([starts, [s.start for s in extra]])
            durations = np.concatenate([durations, [s.duration for s in extra]])
            codes = np.concatenate([codes, [code_of[s.entity] for s in extra]]).astype(np.intp)
            order = np.argsort(starts, kind="stable")
            starts, durations, codes = starts[order], durations[order], codes[order]
        return starts, durations, codes, names

    def _range_rows(self, start: float, end: float, entity: str) -> np.ndarray:
        """Stored rows of `entity` (a glob) starting in [start, end), by start (ties by
        trace id, then span id)."""
        if self._by_start is None:
            # ties by start (a request's source, client and balancer spans begin at one
            # instant) by trace id, then span id: the order spans came in depends on
            # when the run was paused (a component's span comes as it ends, a station's
            # at a flush), and a `limit` or `first` over a tie must not
            order = np.lexsort((self._sid, self._tid, self._start))
            if order.size < 2**31:
                order = order.astype(np.int32)  # an index kept for every span: compact
            self._by_start = (order, self._start[order])
        order, starts = self._by_start
        i0, i1 = np.searchsorted(starts, [start, end])
        rows = order[i0:i1]
        if entity != "*":
            codes = [c for c, nm in enumerate(self._names) if fnmatchcase(nm, entity)]
            rows = rows[np.isin(self._ent[rows], codes)]
        return rows

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
        cols = (self._tid, self._sid, self._pid, self._hop, self._ent, self._start,
                self._end)
        # (the buffers the columns are views of, their room for later intakes included)
        return sum((a.base if a.base is not None else a).nbytes for a in cols)

    def finish(self, now: float) -> None:
        pass
