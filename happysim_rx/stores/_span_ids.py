"""Span ids and parents: what a `TraceStore` gives the spans handed over without ids.

A span without id gets ``trace_id * HOPS + hop`` (``hop`` counts its request's spans kept
so far, from 0) and the request's previous span as parent; a request's 1000th and later
spans, and spans of non-integer traces, get ``-(1 + p)``, ``p`` the span's position in the
stream of spans the store was handed (every span counts, kept or not): ids that depend on
the spans and their order only, never on when the store is read. Component spans (ids
from `COMPONENT_SPAN_BASE` up, with their own parents) are joined to that chain.
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
