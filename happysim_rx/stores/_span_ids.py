"""Span ids and parents: what a `TraceStore` gives the spans handed over without ids.

A span without id gets ``trace_id * HOPS + hop`` (``hop`` counts its request's spans kept
so far, from 0); a request's 1000th and later spans, and spans of non-integer traces, get
``-(1 + p)``, ``p`` the span's position in the stream of spans the store was handed
(every span counts, kept or not). A request's chain follows the order its spans *ended*
(end, then start, then the entity's rank: the source that made the request before a
visit, a visit before the sink -- ``SpanArrays.ranks``; ties left in the order they
came), not the order they reached the store: a
station's spans come at its recorder's flush, a user entity's `record_span` at once, and
a live subscriber or a bounded store's intake may take the latter in first; so its ids
are dealt in that order (the k-th to end gets the k-th id) and each span's parent is the
one that ended before it (`_rechain` redoes a stored chain when a span comes late). The
tree is a function of the spans, never of who listens or when the store is read. A
span without id
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
_SCAN_ROWS = 4096  # rows after the trace-id index scanned at an intake, before a merge
_NONE = np.iinfo(np.int64).min  # "no id" in the id columns: a parent of None / id to assign
# Ids from COMPONENT_SPAN_BASE up are given by the components that record their own spans
# (with their parents): those spans form their own tree and stay out of the chain of
# the spans without ids, which keeps linking the standard hops (source, server, sink).
COMPONENT_SPAN_BASE = 1 << 62
_VISIT = 1  # the rank of an entity no batch gave one (a user entity's `record_span`)


class SpanIds:
    """Mixed into `TraceStore`: the column attributes below are its."""

    _tid: np.ndarray
    _sid: np.ndarray
    _pid: np.ndarray
    _start: np.ndarray
    _end: np.ndarray
    _hop: np.ndarray  # the span got its id here (recorded without one)
    _ent: np.ndarray
    _names: list[str]
    _rank_of: dict[str, int]  # entity -> its rank in a tie (see the module docstring)
    _rank_table: np.ndarray | None = None  # entity code -> rank (made on use)
    _components: bool
    _other: dict[Any, list[Span]]

    _by_tid: tuple[np.ndarray, np.ndarray] | None

    def _tid_index(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _learn_ranks(self, names: list[str], ranks: list[int]) -> None:
        """Entities' ranks in a tie, as a batch of their spans gives them."""
        for name, rank in zip(names, ranks, strict=True):
            if self._rank_of.get(name, _VISIT) != rank:
                self._rank_of[name] = int(rank)
                self._rank_table = None

    def _ranks(self, ent: np.ndarray) -> np.ndarray:
        """The rank of each of these entity codes."""
        table = self._rank_table
        if table is None or table.size < len(self._names):
            table = self._rank_table = np.array(
                [self._rank_of.get(n, _VISIT) for n in self._names], dtype=np.int8)
        return table[ent]

    def _assign_ids(
        self, tid: np.ndarray, sid: np.ndarray, pid: np.ndarray, pos: np.ndarray,
        start: np.ndarray, end: np.ndarray, ent: np.ndarray
    ) -> tuple[tuple[np.ndarray, np.ndarray] | None, np.ndarray]:
        """Give the new spans without ids (``sid == _NONE``) ``trace_id * HOPS + hop`` and
        the previous span of their request as parent, in place, in the order they came
        (vectorized: a stable sort of the new trace ids, and the stored ones' index).
        Returns that sort (`_tid_index` of the new spans) when it made one, and the
        trace ids whose chains `_rechain` must put in the order their spans ended:
        those of new spans without ids that had spans stored already or whose new
        spans did not come in that order."""
        todo = sid == _NONE
        none = np.empty(0, dtype=np.int64)
        if not todo.any():
            return None, none
        rank = self._ranks(ent)
        if not todo.all() and (sid >= COMPONENT_SPAN_BASE).any():
            # chain only the spans without ids, among themselves
            rows = np.flatnonzero(todo)
            sub_sid, sub_pid = sid[rows], pid[rows]
            _, cross = self._chain(tid[rows], sub_sid, sub_pid, pos[rows], start[rows],
                                   end[rows], rank[rows])
            sid[rows], pid[rows] = sub_sid, sub_pid
            return None, cross
        return self._chain(tid, sid, pid, pos, start, end, rank)

    def _chain(self, tid: np.ndarray, sid: np.ndarray, pid: np.ndarray,
               pos: np.ndarray, start: np.ndarray, end: np.ndarray, tie: np.ndarray
               ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
        # (``tie``: each span's entity rank, see the module docstring)
        if tid.size == 1:
            return self._chain_one(tid, sid, pid, pos, start, end, tie)
        todo = sid == _NONE
        stable = np.argsort(tid, kind="stable")
        st = tid[stable]
        k = st.size
        head = np.ones(k, dtype=bool)
        head[1:] = st[1:] != st[:-1]
        order = stable
        starts = np.flatnonzero(head)
        group = np.cumsum(head) - 1
        rank = np.arange(k) - starts[group]
        # spans of the same requests stored before this batch, and the latest of each
        # request's (by end, start, rank, arrival: the tail of its chain)
        before = np.zeros(k, dtype=np.int64)
        last_sid = np.full(k, _NONE, dtype=np.int64)
        late = np.zeros(k, dtype=bool)  # a new span ended before its request's tail
        if self._tid.size:
            rows = self._stored_rows(st[head])
            if self._components:
                rows = rows[self._sid[rows] < COMPONENT_SPAN_BASE]
            if rows.size:
                rt = self._tid[rows]
                # by trace, then (end, start, rank, row): each trace's last is its tail
                o = np.lexsort((rows, self._ranks(self._ent[rows]), self._start[rows],
                                self._end[rows], rt))
                rows, rt = rows[o], rt[o]
                cnt = (np.searchsorted(rt, st[head], "right")
                       - np.searchsorted(rt, st[head], "left"))
                before = cnt[group]
                at = np.flatnonzero(head & (before > 0))
                tail = rows[np.searchsorted(rt, st[at], "right") - 1]
                last_sid[at] = self._sid[tail]
                first = order[at]  # (a request's new spans in order: else `back` below)
                te, ts, tr = self._end[tail], self._start[tail], self._ranks(self._ent[tail])
                late[at] = _before(end[first], start[first], tie[first], te, ts, tr)
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
        e, s, r = end[order], start[order], tie[order]
        back = _before(e[1:], s[1:], r[1:], e[:-1], s[:-1], r[:-1]) & ~head[1:]
        # traces whose chains are not in the order their spans ended: the new spans
        # of a request did not come in that order, or one ended before the request's
        # stored tail (nearly never: a read hands over what ended before it)
        mark = late
        mark[1:] |= back
        redo = st[mark]  # (sorted: deduplicated in one pass)
        if redo.size > 1:
            redo = redo[np.concatenate(([True], redo[1:] != redo[:-1]))]
        return (stable, st), redo

    def _chain_one(self, tid: np.ndarray, sid: np.ndarray, pid: np.ndarray,
                   pos: np.ndarray, start: np.ndarray, end: np.ndarray, rank: np.ndarray
                   ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
        """`_chain` of an intake of one span (a live subscriber's settle after each
        span), in scalars: the same ids, parent and chains to redo."""
        rows = self._stored_rows(tid)
        if self._components and rows.size:
            rows = rows[self._sid[rows] < COMPONENT_SPAN_BASE]
        late = False
        last = _NONE
        if rows.size:
            e, s_ = self._end, self._start
            rk = dict(zip(rows.tolist(), self._ranks(self._ent[rows]).tolist(), strict=True))
            tail = max(rows.tolist(), key=lambda r: (e[r], s_[r], rk[r], r))
            last = int(self._sid[tail])
            late = bool(_before(end[0], start[0], rank[0], e[tail], s_[tail], rk[tail]))
        if sid[0] == _NONE:
            hop = rows.size
            # (in int64, as the vectorized path: a huge id wraps the same way)
            sid[0] = (tid * HOPS + hop)[0] if hop < HOPS else -(1 + int(pos[0]))
            if pid[0] == _NONE:
                pid[0] = last
        return ((np.zeros(1, dtype=np.intp), tid.copy()),
                tid.copy() if late else np.empty(0, dtype=np.int64))

    def _stored_rows(self, trace_ids: np.ndarray) -> np.ndarray:
        """The stored rows of these traces (sorted, distinct ids): from the trace-id
        index kept (`_by_tid`, which may cover the rows before the last intakes only)
        and a scan of the rows after it, merged in once they pass ``_SCAN_ROWS``: an
        intake of a few spans costs its own traces, not a sort of the store."""
        n = self._tid.size
        if not trace_ids.size or not n:
            return np.empty(0, dtype=np.int64)
        pre = self._by_tid
        if pre is None or n - pre[0].size > _SCAN_ROWS:
            pre = self._tid_index()
        p_order, p_sorted = pre
        m = p_order.size
        lo = np.searchsorted(p_sorted, trace_ids, "left")
        lens = np.searchsorted(p_sorted, trace_ids, "right") - lo
        idx = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens - lo, lens)
        rows = p_order[idx]
        if m < n:
            rest = self._tid[m:]
            at = np.minimum(np.searchsorted(trace_ids, rest), trace_ids.size - 1)
            rows = np.concatenate((rows, m + np.flatnonzero(trace_ids[at] == rest)))
        return rows

    def _rechain(self, trace_ids: np.ndarray) -> None:
        """Put the chains of these traces in the order their spans ended (end, then
        start, then rank; ties in the order they came): the order a stream handing
        every span over when it ends gives them, whatever order and take-ins they came
        in (a station's span reaches the store at its recorder's flush, a user entity's
        at once, and a live subscriber's settle or a bounded store's intake may take the
        latter in first). The ids the store gave (``_hop``) are dealt again in that order, the
        same set (a trace's ``trace * HOPS + hop`` ascending, then the overflow ids by
        stream position), and each such span's parent is the span before it; a parent
        recorded with a span, and spans handed over with ids, stay as they came."""
        rows = self._stored_rows(trace_ids)
        rows = rows[self._sid[rows] < COMPONENT_SPAN_BASE]
        if rows.size < 2:
            return
        rows = rows[np.lexsort((self._ranks(self._ent[rows]), self._start[rows],
                                self._end[rows], self._tid[rows]))]
        tid, sid, pid = self._tid[rows], self._sid[rows], self._pid[rows]
        hop = self._hop[rows]
        new_sid = sid.copy()
        # the k-th hop of a trace in time order gets the trace's k-th id (both orders
        # group the traces alike); overflow ids are -(1 + position): after, by position
        h_sid, h_tid = sid[hop], tid[hop]
        neg = h_sid < 0
        new_sid[hop] = h_sid[np.lexsort((np.where(neg, -h_sid, h_sid), neg, h_tid))]
        head = np.ones(tid.size, dtype=bool)
        head[1:] = tid[1:] != tid[:-1]
        prev = np.empty(tid.size, dtype=np.int64)
        prev[1:] = new_sid[:-1]
        prev[head] = _NONE
        new_pid = np.where(hop & (pid < COMPONENT_SPAN_BASE), prev, pid)
        if np.array_equal(new_sid, sid) and np.array_equal(new_pid, pid):
            return
        self._sid[rows] = new_sid
        self._pid[rows] = new_pid
        self.__dict__.pop("_edge_cache", None)  # (counted from the old ids and parents)

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
        found = self._stored_rows(trace_ids)
        sid, pid, start, end = self._sid, self._pid, self._start, self._end
        order = found[np.argsort(self._tid[found], kind="stable")]
        st = self._tid[order]
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


def _before(e: Any, s: Any, r: Any, e0: Any, s0: Any, r0: Any) -> Any:
    """Whether a span (end e, start s, rank r) comes before another (e0, s0, r0) in a
    request's chain (scalars or arrays)."""
    return (e < e0) | ((e == e0) & ((s < s0) | ((s == s0) & (r < r0))))
