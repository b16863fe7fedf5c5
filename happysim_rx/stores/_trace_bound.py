"""The bound of a `TraceStore(max_traces=N)`: keep the newest N traces, whole.

"Newest" is by trace id. Integer trace ids are what the simulation produces: a request's
id comes from the simulation's context counter when the request is created, so the
newest N traces are those of the N requests created last. At any read the store holds

    the N largest ids among the traces with a span handed over so far,
    each with every span of it handed over so far

(all of them while there are at most N). That is a function of the *set* of spans handed
over, not of their order, nor of when the store was read, the run paused or a batch
flushed: a span of a kept trace was kept when it came (the smallest kept id, the floor,
only rises), and a trace below the floor never comes back (as a new, partial trace or
otherwise). Memory is flat: the kept ids are the state. A station's spans reach the store
at each flush and a component's (Client, LoadBalancer) when the span ends, so the order
of hand-over does depend on when a run was paused; what is kept does not.

Spans with other trace ids (anything hashable: spans fed from outside) have no creation
order, so they are bounded apart, by arrival: the store keeps at most N such traces too,
the N whose first span came last. That rule is decided span by span in the order spans
came (never by when the store is read): a span of a kept trace is kept; one of a trace
the store evicted and still remembers is dropped; any other begins the newest trace,
evicting the oldest beyond N, whole. The store remembers the ids of the last
``N + max(4 N, 1024)`` such traces it began; a span of one begun longer ago begins it
anew (partial). Neither kind ever evicts the other.

`evicted_traces` counts the traces the store held and then evicted, span by span in the
order spans came: an integer trace counts when it was among the N largest ids when its
first span came (a trace whose spans all came below the floor was never held and does
not count). Every span the bound drops or evicts moves `complete_from` past its start, so
what the store says it holds completely stays true.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: other-id traces remembered after their eviction (besides the N kept): max(FACTOR N, MIN)
REMEMBER_FACTOR = 4
REMEMBER_MIN = 1024


def earlier_greater(x: np.ndarray) -> np.ndarray:
    """For each ``x[i]``, how many of ``x[:i]`` are greater (distinct values): a bottom-up
    merge count, ``log2(len)`` vectorized passes.

    >>> earlier_greater(np.array([5, 1, 4, 9, 2])).tolist()
    [0, 1, 1, 0, 3]
    """
    n = x.size
    out = np.zeros(n, dtype=np.int64)
    if n < 2 or bool((x[1:] > x[:-1]).all()):
        return out  # (ids nearly always come in order)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(x, kind="stable")] = np.arange(n)
    pos = np.arange(n)
    width = 1
    while width < n:
        # pairs of adjacent blocks of `width` positions: each right-block element
        # against the left block of its pair
        pair, right = pos // (2 * width), (pos // width) % 2 == 1
        left_keys = np.sort(pair[~right] * n + rank[~right])
        r_at = np.flatnonzero(right)
        key = pair[r_at] * n + rank[r_at]
        below_or_eq = np.searchsorted(left_keys, key, side="right")
        left_end = np.searchsorted(left_keys, (pair[r_at] + 1) * n, side="left")
        out[r_at] += left_end - below_or_eq
        width *= 2
    return out


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

    def _index(self) -> Any:
        raise NotImplementedError

    #: the latest start of a span the bound evicted or dropped (-inf: none was)
    _evicted_start: float = -float("inf")
    #: the kept integer trace ids, sorted (at most N; the first is the floor when N)
    _kept: np.ndarray = np.empty(0, dtype=np.int64)
    #: other-id traces begun so far (a trace's rank is the count when it began; kept:
    #: the last N) and the remembered ones' ranks, by id
    _begun_other: int = 0
    _mem_other: dict[Any, int] | None = None

    @property
    def _remembered(self) -> int:
        """How many of the last other-id traces begun are remembered (kept or evicted)."""
        cap = self.max_traces
        assert cap is not None
        return cap + max(REMEMBER_FACTOR * cap, REMEMBER_MIN)

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
        if self.max_traces is None:
            return -float("inf")  # (nothing is evicted: no need to take pending spans in)
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

    # -- the rule -------------------------------------------------------------------------
    def _bound(self, tids: np.ndarray, other_at: list[tuple[int, Any]]) -> tuple[
            np.ndarray, np.ndarray]:
        """Apply the rule to a batch: ``tids`` the integer trace ids of its spans in
        stream order, ``other_at`` the ``(index among all the batch's spans, trace id)``
        of its spans with other ids, indices ascending. Evicts the stored traces the
        batch pushes out and returns which of the batch's integer-id spans to keep and
        which of its other spans to keep (booleans, in the order given)."""
        keep = self._bound_ids(tids) if tids.size else np.zeros(0, dtype=bool)
        keep_other = (self._bound_others([k for _, k in other_at]) if other_at
                      else np.zeros(0, dtype=bool))
        return keep, keep_other

    def _bound_ids(self, tids: np.ndarray) -> np.ndarray:
        """The integer-id rule: the N largest ids seen so far are kept."""
        cap = self.max_traces
        assert cap is not None
        kept = self._kept
        if cap <= 0:  # (keeps nothing)
            return np.zeros(tids.size, dtype=bool)
        full = kept.size >= cap
        # ids below the floor are dropped at once (seen before or not: either way not
        # among the N largest)
        cand = tids[tids >= kept[0]] if full else tids
        if not cand.size:
            return np.zeros(tids.size, dtype=bool)
        ids, first = np.unique(cand, return_index=True)  # (first: where each first is)
        at = np.minimum(np.searchsorted(kept, ids), max(kept.size - 1, 0))
        fresh = kept[at] != ids if kept.size else np.ones(ids.size, dtype=bool)
        new, first = ids[fresh], first[fresh]
        if not new.size:  # only kept traces: nothing changes
            return tids >= kept[0] if full else np.ones(tids.size, dtype=bool)
        both = np.concatenate((kept, new))
        if kept.size and new[0] < kept[-1]:
            both.sort(kind="stable")  # (two sorted runs)
        new_kept = both[-cap:].copy()  # (not a view of the batch's ids)
        if new_kept.size < cap:  # fewer than N traces so far: all kept
            self._kept = new_kept
            return np.ones(tids.size, dtype=bool)
        floor = int(new_kept[0])
        lost = int(np.searchsorted(kept, floor))  # held, now below the floor
        self.evicted_traces += lost + self._held_in_batch(kept, new, first, floor)
        if lost:
            self._evict_stored(floor)
        self._kept = new_kept
        return tids >= floor

    def _held_in_batch(self, kept: np.ndarray, new: np.ndarray, first: np.ndarray,
                       floor: int) -> int:
        """How many of the traces this batch begins (``new``: their ids, sorted, not in
        ``kept``; ``first``: where each first came in the batch) are below the new floor
        but were held on the way: among the N largest ids seen when their first span
        came."""
        if not new.size or new[0] >= floor:
            return 0
        seq = new[np.argsort(first)]  # in order of first span
        low = seq < floor
        # earlier ids at or above the new floor are all greater: a running count; the
        # lost ones among themselves: counted (nearly always in order: none)
        greater = (np.cumsum(~low) - ~low)[low]
        lost = seq[low]
        if not bool((lost[1:] > lost[:-1]).all()):
            if lost.size <= 512:  # few: all pairs at once
                greater += np.tril(lost[None, :] > lost[:, None], -1).sum(axis=1)
            else:
                greater += earlier_greater(lost)
        larger = kept.size - np.searchsorted(kept, lost, side="right") + greater
        return int((larger < self.max_traces).sum())

    def _evict_stored(self, floor: int) -> None:
        """Evict the stored integer traces below ``floor``, whole (a pass over the id
        column: no sort)."""
        keep = self._tid >= floor
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
        if self._by_tid is not None:  # the kept rows' index, renumbered (still stable)
            order, st = self._by_tid
            cut = int(np.searchsorted(st, floor))
            self._by_tid = (new_row[order[cut:]], st[cut:])
        self._by_start = None
        self._scanned = False

    def _bound_others(self, keys: list[Any]) -> np.ndarray:
        """The other-id rule (by arrival, span by span): which of these spans to keep;
        evicts the stored other traces pushed out."""
        cap = self.max_traces
        assert cap is not None
        n0 = n = self._begun_other
        window = self._remembered
        mem = dict(self._mem_other or {})
        # the stored traces' ranks now (one evicted and forgotten in this batch may
        # begin anew in it: its stored spans go all the same)
        stored = {k: mem[k] for k in self._other}
        ranks = []
        for k in keys:
            r = mem.get(k)
            if r is None or r < n - window:  # never seen, or forgotten: a new trace
                r = mem[k] = n
                n += 1
            ranks.append(r)
        low = n - cap  # the kept traces: ranks from here
        self.evicted_traces += max(0, low) - max(0, n0 - cap)
        for key in [k for k, r in stored.items() if r < low]:
            gone = self._other.pop(key)
            self._note_evicted(np.array([sp.start for sp in gone], dtype=np.float64))
        self._begun_other = n
        self._mem_other = {k: r for k, r in mem.items() if r >= n - window}
        return np.array(ranks, dtype=np.int64) >= low
