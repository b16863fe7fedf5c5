"""Span store: spans by trace id and by time; trace trees and critical paths.

>>> from happysim_rx.observation import Span
>>> ts = TraceStore()
>>> ts.add(Span(1, 1, None, "Server", 0.0, 0.5)); ts.add(Span(1, 2, 1, "Sink", 0.5, 0.6))
>>> [s.entity for s in ts.critical_path(1)]
['Server', 'Sink']
"""

from __future__ import annotations

from collections import OrderedDict
from fnmatch import fnmatchcase
from typing import Any, NamedTuple

import numpy as np

from happysim_rx._gc import bulk_allocation
from happysim_rx.observation import ObservationKind, Span

__all__ = ["TraceStore", "SpanColumns"]

_INDEX_EVERY = 4096
# Spans handed over without ids (rows whose span_id is None) get ``trace_id * HOPS + hop``,
# ``hop`` counting the request's spans from 0, and the request's previous span as parent:
# ids that do not depend on when the store is read (a request's 1000th and later spans get
# negative ids).
HOPS = 1000


class SpanColumns(NamedTuple):
    """Spans without ids as equal-length lists, in causal order per trace: what an
    `add_lazy` materializer may return instead of rows (cheaper to build and to index)."""

    trace_ids: list[Any]
    entities: list[str]
    starts: list[float]
    ends: list[float]
    attributes: list[dict[str, Any] | None]


class _Lazy:
    __slots__ = ("records", "materialize", "trace_ids")

    def __init__(self, records: Any, materialize: Any, trace_ids: Any) -> None:
        self.records = records
        self.materialize = materialize
        self.trace_ids = trace_ids


class TraceStore:
    """All spans (or the spans of the newest ``max_traces`` traces when bounded)."""

    kinds = frozenset({ObservationKind.SPAN})
    exact = True

    def __init__(self, max_traces: int | None = None) -> None:
        self.max_traces = max_traces
        self._traces: OrderedDict[Any, list[Span]] = OrderedDict()
        self._n = 0
        # Spans arrive as Span records or, from batching emitters, as rows of Span's
        # fields. They are appended as they come (O(1), no per-span Python work on the
        # simulation's hot path) and indexed by trace lazily, on the first query after a
        # change, or every `_INDEX_EVERY` pending spans when bounded (to evict in time).
        self._pending: list[Any] = []
        self._pending_lazy = 0  # records in pending `_Lazy` chunks
        self._flat: list[Span] | None = None
        self._starts: np.ndarray | None = None  # cached sorted index by start
        self._order: np.ndarray | None = None
        self.evicted_traces = 0
        self._overflow = 0

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
                 trace_ids: Any = None) -> None:
        """``size`` spans to be made by ``materialize(records, skip)`` (rows as for
        `add_rows`, leaving out the traces in the array ``skip``) when the store is next
        read; chunks are materialized in the order they came. ``trace_ids()``: the rows'
        trace ids in row order (asked for only by a bounded store), which lets the store
        skip building traces it would evict anyway (it then waits for more before
        indexing: compact columns are cheap to hold, spans are not)."""
        self._pending.append(_Lazy(records, materialize, trace_ids))
        self._pending_lazy += size
        cap = self.max_traces
        if cap is not None and (len(self._pending) >= _INDEX_EVERY
                                or self._pending_lazy >= max(_INDEX_EVERY, 16 * cap)):
            self._index()

    def settle(self) -> list[Span]:
        """Materialize and index everything pending; returns the spans that were."""
        return self._index()

    def _index(self) -> list[Span]:
        if not self._pending:
            return []
        with bulk_allocation():
            return self._index_pending()

    def _index_pending(self) -> list[Span]:
        pending = self._pending
        cap = self.max_traces
        doomed = self._doomed(pending) if cap is not None else set()
        if any(type(item) is _Lazy for item in pending):
            self._pending_lazy = 0
            skip = np.fromiter(doomed, dtype=np.int64, count=len(doomed)) if all(
                type(t) is int for t in doomed) else np.empty(0, dtype=np.int64)
            items: list[Any] = []
            for item in pending:
                if type(item) is _Lazy:
                    made = item.materialize(item.records, skip)
                    if type(made) is SpanColumns:
                        items.append(made)
                    else:
                        items.extend(made)
                else:
                    items.append(item)
            pending.clear()
            pending.extend(items)
        traces = self._traces
        added = []
        n = 0
        for item in pending:
            if type(item) is SpanColumns:
                n += self._add_columns(item, doomed, added)
                continue
            if doomed and (item[0] if type(item) is tuple else item.trace_id) in doomed:
                continue  # a new trace that would be evicted by newer ones in this batch
            n += 1
            if type(item) is tuple:
                if item[1] is None:  # ids given here: the request's next hop
                    trace_id = item[0]
                    spans = traces.get(trace_id)
                    hop = len(spans) if spans else 0
                    if hop < HOPS:
                        span_id = trace_id * HOPS + hop
                    else:  # a request with more hops than HOPS: ids from a separate range
                        self._overflow += 1
                        span_id = -self._overflow
                    span = Span(trace_id, span_id, spans[-1].span_id if spans else None,
                                *item[3:])
                else:
                    span = Span(*item)
            else:
                span = item
            spans = traces.get(span.trace_id)
            if spans is None:
                spans = traces[span.trace_id] = []
                if cap is not None and len(traces) > cap:
                    _, old = traces.popitem(last=False)
                    self.evicted_traces += 1
                    self._n -= len(old)
            spans.append(span)
            added.append(span)
        self._n += n
        self.evicted_traces += len(doomed)
        pending.clear()
        self._flat = None
        return added

    def _add_columns(self, cols: SpanColumns, doomed: set[Any], added: list[Span]) -> int:
        """Index spans given as columns (ids and parents as for rows without ids)."""
        traces, cap = self._traces, self.max_traces
        get = traces.get
        n = 0
        for tid, entity, start, end, attrs in zip(*cols, strict=True):
            if doomed and tid in doomed:
                continue
            spans = get(tid)
            if spans is None:
                spans = traces[tid] = []
                if cap is not None and len(traces) > cap:
                    _, old = traces.popitem(last=False)
                    self.evicted_traces += 1
                    self._n -= len(old)
                span = Span(tid, tid * HOPS, None, entity, start, end, attrs)
            else:
                hop = len(spans)
                if hop < HOPS:
                    span_id = tid * HOPS + hop
                else:
                    self._overflow += 1
                    span_id = -self._overflow
                span = Span(tid, span_id, spans[-1].span_id, entity, start, end, attrs)
            spans.append(span)
            added.append(span)
            n += 1
        return n

    def _doomed(self, pending: list[Any]) -> set[Any]:
        """New traces in `pending` that newer traces in it would push out of a bounded
        store anyway (their spans are not built)."""
        traces = self._traces
        order: dict[Any, None] = {}
        for item in pending:
            if type(item) is _Lazy:
                if item.trace_ids is None:
                    return set()  # unknown until built: build everything
                ids = item.trace_ids()
                _, first = np.unique(ids, return_index=True)
                order.update(dict.fromkeys(ids[np.sort(first)].tolist()))
            else:
                order[item[0] if type(item) is tuple else item.trace_id] = None
        new = [tid for tid in order if tid not in traces]
        excess = len(new) - self.max_traces
        return set(new[:excess]) if excess > 0 else set()

    @property
    def _spans(self) -> list[Span]:
        self._index()
        flat = self._flat
        if flat is None:
            flat = self._flat = [s for spans in self._traces.values() for s in spans]
            self._starts = None
        return flat

    def __len__(self) -> int:
        self._index()
        return self._n

    def trace_ids(self) -> list[Any]:
        self._index()
        return list(self._traces)

    def trace(self, trace_id: Any) -> list[Span]:
        """Spans of one trace ordered by start time."""
        self._index()
        return sorted(self._traces.get(trace_id, ()), key=lambda s: (s.start, s.end))

    def entities(self) -> list[str]:
        return sorted({s.entity for s in self._spans})

    def between(self, start: float, end: float, entity: str = "*") -> list[Span]:
        """Spans whose *start* is in [start, end), by start time (O(log n) + k)."""
        spans = self._spans
        if self._starts is None:
            starts = np.fromiter((s.start for s in spans), float, len(spans))
            self._order = np.argsort(starts, kind="stable")
            self._starts = starts[self._order]
        assert self._order is not None
        i0, i1 = np.searchsorted(self._starts, [start, end])
        picked = (spans[j] for j in self._order[i0:i1])
        if entity == "*":
            return list(picked)
        return [s for s in picked if fnmatchcase(s.entity, entity)]

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

    def finish(self, now: float) -> None:
        pass
