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

`evicted_traces` counts the traces with a span handed over that the store does not keep:
for integer ids, the distinct ids seen minus the N kept (a function of the set of ids
seen, like what is kept: the same however the run was paused or read; counted with flat
memory, see `_see_gone`), plus the other-id traces evicted. Every span the bound drops
or evicts moves `complete_from` past its start, so what the store says it holds
completely stays true.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: other-id traces remembered after their eviction (besides the N kept): max(FACTOR N, MIN)
REMEMBER_FACTOR = 4
REMEMBER_MIN = 1024
#: runs of integer ids seen below the floor kept open (see `_see_gone`): max(FACTOR N, MIN)
GONE_RUNS_FACTOR = 4
GONE_RUNS_MIN = 4096


class TraceBound:
    """Mixed into `TraceStore`: the column attributes below are its."""

    max_traces: int | None
    evicted_traces: int
    _other: dict[Any, list]
    _tid: np.ndarray
    _sid: np.ndarray
    _pid: np.ndarray
    _hop: np.ndarray
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
    #: integer ids seen and not kept: runs of consecutive ids (inclusive bounds, sorted,
    #: not touching), ids at or below `_gone_closed` (counted in `_gone_closed_n`), and
    #: the count of both (`_see_gone`); other-id traces evicted (`_bound_others`)
    _gone_lo: np.ndarray = np.empty(0, dtype=np.int64)
    _gone_hi: np.ndarray = np.empty(0, dtype=np.int64)
    _gone_closed: int = -(2**63)
    _gone_closed_n: int = 0
    _gone_n: int = 0
    _gone_other: int = 0
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
        """The integer-id rule: the N largest ids seen so far are kept; every other id
        seen is counted once (`_see_gone`)."""
        cap = self.max_traces
        assert cap is not None
        kept = self._kept
        if cap <= 0:  # (keeps nothing)
            self._see_gone(np.unique(tids))
            return np.zeros(tids.size, dtype=bool)
        full = kept.size >= cap
        # ids below the floor are dropped at once (seen before or not: either way not
        # among the N largest)
        if full:
            low = tids < kept[0]
            if low.any():
                self._see_gone(np.unique(tids[low]))
            cand = tids[~low]
        else:
            cand = tids
        if not cand.size:
            return np.zeros(tids.size, dtype=bool)
        ids = np.unique(cand)
        at = np.minimum(np.searchsorted(kept, ids), max(kept.size - 1, 0))
        new = ids[kept[at] != ids] if kept.size else ids
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
        gone = new[new < floor]  # seen for the first time, below the new floor already
        if lost or gone.size:
            self._see_gone(np.union1d(kept[:lost], gone))
        if lost:
            self._evict_stored(floor)
        self._kept = new_kept
        return tids >= floor

    def _see_gone(self, ids: np.ndarray) -> None:
        """Count these ids (sorted, distinct, below the floor) among the traces seen and
        not kept, each once however often it comes: the ids seen below the floor are
        kept as runs of consecutive ids (`_gone_lo`, `_gone_hi`), few (a simulation's
        trace ids are consecutive request ids: one run, or one per id a sampler
        skipped). Memory stays flat: beyond ``GONE_RUNS`` runs (max(FACTOR N, MIN))
        the lowest half are closed, counted and forgotten: an id at or below the
        closed part (`_gone_closed`) counts as seen. That is exact unless a trace's
        first span comes after the runs below its id were closed (a request that was
        created before thousands of evicted traced requests and had no span handed
        over yet)."""
        ids = ids[ids > self._gone_closed]
        if not ids.size:
            return
        cut = np.flatnonzero(ids[1:] - 1 != ids[:-1])  # (no overflow: ids are distinct)
        lo = np.concatenate((self._gone_lo, ids[np.r_[0, cut + 1]]))
        hi = np.concatenate((self._gone_hi, ids[np.r_[cut, ids.size - 1]]))
        o = np.argsort(lo, kind="stable")
        lo, hi = lo[o], hi[o]
        reach = np.maximum.accumulate(hi)
        begins = np.flatnonzero(np.r_[True, lo[1:] - 1 > reach[:-1]])  # not touching
        lo, hi = lo[begins], np.maximum.reduceat(hi, begins)
        limit = max(GONE_RUNS_FACTOR * (self.max_traces or 0), GONE_RUNS_MIN)
        if lo.size > limit:
            k = lo.size - limit // 2
            self._gone_closed = int(hi[k - 1])
            self._gone_closed_n += int((hi[:k] - lo[:k] + 1).sum())
            lo, hi = lo[k:], hi[k:]
        self._gone_lo, self._gone_hi = lo, hi
        self._gone_n = self._gone_closed_n + int((hi - lo + 1).sum())
        self.evicted_traces = self._gone_n + self._gone_other

    def _evict_stored(self, floor: int) -> None:
        """Evict the stored integer traces below ``floor``, whole (a pass over the id
        column: no sort)."""
        keep = self._tid >= floor
        self._note_evicted(self._start[~keep])
        new_row = np.cumsum(keep) - 1
        self._tid, self._sid, self._pid = self._tid[keep], self._sid[keep], self._pid[keep]
        self._hop = self._hop[keep]
        self._ent, self._start, self._end = self._ent[keep], self._start[keep], self._end[keep]
        self._attrs = {int(new_row[r]): a for r, a in self._attrs.items() if keep[r]}
        cols = []
        for rows_, key, values in self._attr_cols:
            m = keep[rows_]
            if m.any():
                cols.append((new_row[rows_[m]], key, values[m]))
        self._attr_cols = cols
        if self._by_tid is not None:  # the kept rows' index, renumbered (still stable;
            order, st = self._by_tid  # the rows it covers: those before the rest)
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
        self._gone_other += max(0, low) - max(0, n0 - cap)
        self.evicted_traces = self._gone_n + self._gone_other
        for key in [k for k, r in stored.items() if r < low]:
            gone = self._other.pop(key)
            self._note_evicted(np.array([sp.start for sp in gone], dtype=np.float64))
        self._begun_other = n
        self._mem_other = {k: r for k, r in mem.items() if r >= n - window}
        return np.array(ranks, dtype=np.int64) >= low
