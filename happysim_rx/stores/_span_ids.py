"""Span ids and parents: what a `TraceStore` gives the spans handed over without ids.

A span without id gets ``trace_id * HOPS + hop`` (``hop`` counts its request's spans kept
so far, from 0) and the request's previous span as parent; a request's 1000th and later
spans, and spans of non-integer traces, get ``-(1 + p)``, ``p`` the span's position in the
stream of spans the store was handed (every span counts, kept or not): ids that depend on
the spans and their order only, never on when the store is read. A span without id
handed over with a parent (a station's hop, whose parent is the component span open in
its request's context when the request arrived) keeps that parent. Component spans (ids
from `COMPONENT_SPAN_BASE` up, with their own parents) are joined to that chain: one
recorded without parent becomes the child of its request's latest hop outside every
component span that began no later than it (see `_join_component_spans`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from happysim_rx.observation import Span

__all__ = ["HOPS", "COMPONENT_SPAN_BASE", "SpanIds"]

HOPS = 1000
_NONE = np.iinfo(np.int64).min  # "no id" in the id columns: a parent of None / id to assign
# Ids from COMPONENT_SPAN_BASE up are given by the components that record their own spans
# (with their parents): those spans form their own tree and stay out of the chain of
# the spans without ids, which keeps linking the standard hops (source, server, sink).
COMPONENT_SPAN_BASE = 1 << 62


class SpanIds:
    """Mixed into `TraceStore`: the column attributes below are its."""

    _tid: np.ndarray
    _sid: np.ndarray
    _pid: np.ndarray
    _start: np.ndarray
    _end: np.ndarray
    _components: bool
    _other: dict[Any, list[Span]]

    def _tid_index(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _assign_ids(
        self, tid: np.ndarray, sid: np.ndarray, pid: np.ndarray, pos: np.ndarray
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
            self._chain(tid[rows], sub_sid, sub_pid, pos[rows])
            sid[rows], pid[rows] = sub_sid, sub_pid
            return None
        return self._chain(tid, sid, pid, pos)

    def _chain(self, tid: np.ndarray, sid: np.ndarray, pid: np.ndarray,
               pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
        if over.any():  # ids from a separate range: by stream position
            new_sid[over] = -(1 + pos[order[over]])
        sorted_sid = np.where(sorted_todo, new_sid, sid[order])
        prev = np.empty(k, dtype=np.int64)
        prev[1:] = sorted_sid[:-1]
        prev[head] = last_sid[head]
        sid[order] = sorted_sid
        rows = order[sorted_todo]
        own = pid[rows]  # a parent recorded with the span (a hop's component span) stays
        pid[rows] = np.where(own == _NONE, prev[sorted_todo], own)
        return order, st

    def _join_component_spans(self, trace_ids: np.ndarray) -> None:
        """Join the two kinds of spans of traces that have both. A standard hop (a span
        without id) already has its parent: the component span open in its request's
        context when the request reached it (recorded with it: a balancer's span of that
        very attempt), else its request's previous hop. A component span recorded
        without parent (the outermost, e.g. a client's) becomes the child of the latest
        hop of its request that began no later than it and is outside every component
        span -- no component parent, nor a hop chained under one (the source that made
        the request, not the sink an earlier attempt reached). That choice is made again at every take-in, from
        what is stored, so it does not depend on the order the spans came in."""
        order, st = self._tid_index()
        sid, pid, start, end = self._sid, self._pid, self._start, self._end
        lo = np.searchsorted(st, trace_ids, "left")
        hi = np.searchsorted(st, trace_ids, "right")
        for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
            rows = order[a:b]
            if b - a < 2:
                continue
            comp = sid[rows] >= COMPONENT_SPAN_BASE
            if not comp.any():
                continue
            self._join_one(rows, comp, sid, pid, start, end)

    @staticmethod
    def _join_one(rows: np.ndarray, comp: np.ndarray, sid: np.ndarray, pid: np.ndarray,
                  start: np.ndarray, end: np.ndarray) -> None:
        # (a component's own parent is a component id: anything below is none, or one
        # this join gave it before)
        own = pid[rows] >= COMPONENT_SPAN_BASE
        roots = rows[comp & ~own]
        if not roots.size:
            return
        outside = ~comp & ~own
        outer = rows[outside]  # hops without component parent
        if not outer.size:
            pid[roots] = _NONE
            return
        chosen, found = SpanIds._latest_before(outer, roots, sid, start, end)
        if (pid[chosen[0]] != _NONE and found[0] if roots.size == 1
                else (pid[chosen[found]] != _NONE).any()):
            # a chosen hop has a parent: it may be chained under a hop inside a component
            # span (the sink a balanced attempt reached), so inside it too; a retry sent
            # after that attempt's sink began is the child of the request's source, not
            # of that sink (rare: commonly the choice is the source, with no parent)
            ids, parents = sid[rows].tolist(), pid[rows].tolist()
            inside = {i for i, o in zip(ids, outside.tolist(), strict=True) if not o}
            grew = True
            while grew:
                grew = False
                for i, p in zip(ids, parents, strict=True):
                    if p in inside and i not in inside:
                        inside.add(i)
                        grew = True
            outer = rows[np.fromiter((i not in inside for i in ids), bool, len(ids))]
            if not outer.size:
                pid[roots] = _NONE
                return
            chosen, found = SpanIds._latest_before(outer, roots, sid, start, end)
        pid[roots] = np.where(found, sid[chosen], _NONE)

    @staticmethod
    def _latest_before(outer: np.ndarray, roots: np.ndarray, sid: np.ndarray,
                       start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each root, the row of the latest hop of `outer` by (start, end, id) among
        those beginning no later than it, and whether there is one."""
        outer = outer[np.lexsort((sid[outer], end[outer], start[outer]))]
        at = np.searchsorted(start[outer], start[roots], "right") - 1
        return outer[np.maximum(at, 0)], at >= 0

    def _add_others(self, spans: list[tuple[int, Span]]) -> list[Span]:
        """Spans with non-integer ids, as ``(stream position, span)``: kept per trace as
        records (ids as for rows)."""
        added = []
        for p, span in spans:
            spans_ = self._other.setdefault(span.trace_id, [])
            if span.span_id is None:  # ids from the overflow range (not multiples)
                span = Span(span.trace_id, -(1 + p),
                            spans_[-1].span_id if spans_ else None, span.entity,
                            span.start, span.end, span.attributes)
            spans_.append(span)
            added.append(span)
        return added
