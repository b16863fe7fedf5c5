"""Each standard hop's own parent: the component span open in its request's context when
the request reached the station (a balancer's span of that very attempt, a client's),
recorded then, so a trace store never has to guess it from times.

A station calls `HopParents.arrived` on each arrival (only in a simulation with
components that can open spans: a model of standard components alone pays nothing but
one test per arrival). The spans of a station are made later (a completion, a drop, a
discard), each dated by its arrival: `parent_of` pairs them by (request id, arrival
time), two arrivals of one request at one instant in arrival order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from happysimulator.core.component_instrumentation import NO_SPAN_PARENT, OPEN_SPAN_KEY

__all__ = ["HopParents", "NO_PARENT"]

#: no component span was open: the hop's parent is its request's previous hop
NO_PARENT = NO_SPAN_PARENT
assert NO_PARENT == np.iinfo(np.int64).min
_INT64 = 2**63  # (ids strictly inside int64 are recorded: `odd_ids.is_int64_id`)


class HopParents:
    """The component parents of one station's arrivals not yet made into spans."""

    __slots__ = ("new", "_waiting")

    def __init__(self) -> None:
        #: request id, arrival ns, parent or `NO_PARENT`: three ints per arrival, in order
        #: (a component may append them itself: `ComponentInstrumentation.hops`; a
        #: parent None -- a closed outermost span left in the context -- is `NO_PARENT`)
        self.new: list[Any] = []
        self._waiting = np.empty((0, 3), dtype=np.int64)  # the same, not paired yet

    def arrived(self, request: Any, now_ns: int) -> None:
        """`request` reaches the station now (its context read as it is now)."""
        c = request._ctx
        if c.__class__ is not dict:
            # no context made yet (the request's, or the root's it links to; a traced
            # source's request has none): no span can be open in it
            if c is None or c._ctx is None:
                return
            c = request.context
        tid = c["id"]
        # (spans of other ids -- a str, an int beyond int64 -- keep their request's
        # chain: an int outside int64 is left out when packed, `_take_new`)
        if tid.__class__ is int:
            # (a closed outermost span leaves None: none open; made `NO_PARENT` when
            # packed, `_take_new`)
            self.new.extend((tid, now_ns, c.get(OPEN_SPAN_KEY, NO_PARENT)))

    def forget(self, items: list[Any]) -> None:
        """`items` (the waiting line's entries: a request, or a request and its arrival
        ns) left the station without a span (model code took them off the line): their
        arrivals are dropped, so a long run keeps no record of them."""
        keys = []
        for item in items:
            request, at = item if item.__class__ is tuple else (item, None)
            c = getattr(request, "_ctx", None)
            if c.__class__ is not dict:
                if c is None:
                    continue
                c = request.context
            tid = c["id"]
            if tid.__class__ is int and -_INT64 < tid < _INT64:
                keys.append((tid, at))
        w = self._take_new()
        if not keys or not w.size:
            return
        keep = np.ones(w.shape[0], dtype=bool)
        for tid, at in keys:
            hit = w[:, 0] == tid
            if at is not None:
                hit &= w[:, 1] == at
            rows = np.flatnonzero(hit & keep)
            if rows.size:  # (its latest arrival: the one that was waiting)
                keep[rows[-1]] = False
        self._waiting = w[keep]

    def _take_new(self) -> np.ndarray:
        if self.new:
            # (`np.fromiter`: ns times are ints past 2**30, which `struct` packs at 2-7x
            # its time, after copying the list twice for the star call)
            try:
                new = np.fromiter(self.new, np.int64, len(self.new))
            except (OverflowError, TypeError):  # (some ids are not int64 ints; a None parent)
                new = _int64_arrivals(self.new)
            new = new.reshape(-1, 3)
            if (new[:, 0] == NO_PARENT).any():  # (nor is the int64 minimum an id)
                new = new[new[:, 0] != NO_PARENT]
            self.new.clear()
            self._waiting = np.concatenate((self._waiting, new)) if self._waiting.size else new
        return self._waiting

    def parent_of(self, trace_id: int, arrival_ns: int) -> int | None:
        """The parent of the span of the arrival of request `trace_id` at `arrival_ns`
        (None: none recorded), taken out (one span made live)."""
        w = self._take_new()
        hit = np.flatnonzero((w[:, 0] == trace_id) & (w[:, 1] == arrival_ns))
        if not hit.size:
            return None
        parent = int(w[hit[0], 2])
        self._waiting = np.delete(w, hit[0], axis=0)
        return None if parent == NO_PARENT else parent

    def parents_of(self, trace_ids: np.ndarray, arrivals_ns: np.ndarray) -> np.ndarray | None:
        """`parent_of` for the spans made in a flush, in the order they were made, as a
        column (`NO_PARENT` for none); None when none has one. Vectorized: the k-th span
        of a (request, arrival) takes that key's k-th arrival."""
        if trace_ids.dtype == object:  # (some ids are not int64: `odd_ids`; no parents)
            good = np.fromiter((x.__class__ is int and -_INT64 < x < _INT64
                                for x in trace_ids), bool, trace_ids.size)
            at = np.flatnonzero(good)
            some = self.parents_of(trace_ids[at].astype(np.int64), arrivals_ns[at])
            if some is None:
                return None
            parents = np.full(trace_ids.size, NO_PARENT, dtype=np.int64)
            parents[at] = some
            return parents
        w = self._take_new()
        m = trace_ids.size
        if not m or not w.size:
            return None
        n = w.shape[0]
        if m <= n and np.array_equal(w[:m, 0], trace_ids) and np.array_equal(
                w[:m, 1], arrivals_ns):
            # the spans end in the order their requests arrived (a FIFO station one at
            # a time): the k-th span is the k-th arrival
            parents = w[:m, 2]
            self._waiting = w[m:]
            return parents if (parents != NO_PARENT).any() else None
        # arrivals and spans of one key side by side (arrivals first, each side in its
        # order): the k-th span of a key is at k past the key's arrivals
        tid = np.concatenate((w[:, 0], trace_ids))
        t = np.concatenate((w[:, 1], arrivals_ns))
        is_span = np.arange(n + m) >= n
        order = np.lexsort((is_span, t, tid))  # (stable: each side keeps its order)
        tid, t, is_span = tid[order], t[order], is_span[order]
        at = np.arange(n + m)
        head = np.ones(n + m, dtype=bool)
        head[1:] = (tid[1:] != tid[:-1]) | (t[1:] != t[:-1])
        first = np.maximum.accumulate(np.where(head, at, 0))  # the key's first row
        arrivals_before = np.cumsum(~is_span) - ~is_span  # arrivals before each row
        n_arrivals = arrivals_before - arrivals_before[first]  # of the key, before it
        spans = np.flatnonzero(is_span)
        k = at[spans] - first[spans] - n_arrivals[spans]  # the k-th span of its key
        ok = k < n_arrivals[spans]
        if not ok.any():
            return None
        taken = order[first[spans[ok]] + k[ok]]  # arrival rows (< n)
        parents = np.full(m, NO_PARENT, dtype=np.int64)
        parents[order[spans[ok]] - n] = w[taken, 2]
        keep = np.ones(n, dtype=bool)
        keep[taken] = False
        self._waiting = w[keep]
        return parents if (parents != NO_PARENT).any() else None

    def pending(self) -> int:
        """Arrivals whose span is not made yet (in service, waiting, or never ended)."""
        return self._take_new().shape[0]


def _int64_arrivals(flat: list[Any]) -> np.ndarray:
    """The arrivals (flat triples of ints; a parent may be None: none) of requests whose
    id is inside int64."""
    keep: list[int] = []
    for k in range(0, len(flat), 3):
        if -_INT64 < flat[k] < _INT64:
            p = flat[k + 2]
            keep.extend((flat[k], flat[k + 1], NO_PARENT if p is None else p))
    return np.array(keep, dtype=np.int64)
