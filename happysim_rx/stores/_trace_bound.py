"""The bound of a `TraceStore(max_traces=N)`: keep the newest N traces, whole.

The rule is decided span by span, in the order the spans were handed to the store, so it
never depends on when the store is read, paused or flushed:

- a span of a kept trace is kept;
- a span of a trace the store evicted (and still remembers) is dropped: an in-flight
  request whose first spans were evicted does not come back as a new, partial trace;
- a span of any other trace begins a new trace, the newest; when that makes N + 1
  traces, the oldest (by its first span) is evicted, whole.

The store remembers the ids of the last ``N + max(4 N, 1024)`` traces it began (the kept
ones and the most recently evicted ones): flat memory, whatever order the ids come in.
A span of a trace begun longer ago than that begins it anew (partial). Every span the
bound drops or evicts moves `complete_from` past its start, so what the store says it
holds completely stays true.

Spans are taken in by batches (`_bound`), vectorized; a batch where a remembered trace is
forgotten mid-batch, or with non-integer trace ids, goes through the same rule one span
at a time (`_ranks_one_by_one`).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _other_key(trace_id: Any) -> tuple[str, Any]:
    """A non-integer trace id as a memory key (True or 1.0 must not stand for trace 1)."""
    return ("other", trace_id)


#: evicted traces remembered (besides the N kept): max(FACTOR * N, MIN)
REMEMBER_FACTOR = 4
REMEMBER_MIN = 1024


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
    #: traces begun so far: a trace's rank is the count when it began; kept: the last N
    _begun: int = 0
    # the remembered traces: integer ids sorted, with their ranks; other ids -> rank
    _mem_ids: np.ndarray = np.empty(0, dtype=np.int64)
    _mem_rank: np.ndarray = np.empty(0, dtype=np.int64)
    _mem_other: dict[Any, int] | None = None

    @property
    def _remembered(self) -> int:
        """How many of the last traces begun are remembered (kept or evicted)."""
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
    def _ranks(self, tids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Each span's trace rank (a batch of integer trace ids in stream order), the ids
        of the traces it begins and their ranks; None when a remembered trace would be
        forgotten within the batch (then `_ranks_one_by_one` decides)."""
        n0, window = self._begun, self._remembered
        # the batch's traces, each with its first span (np.unique's work, by one stable
        # sort: ids come nearly in order)
        order = np.argsort(tids, kind="stable")
        st = tids[order]
        head = np.empty(st.size, dtype=bool)
        head[:1] = True
        np.not_equal(st[1:], st[:-1], out=head[1:])
        uniq, first = st[head], order[head]
        inv = np.empty(st.size, dtype=np.int64)
        inv[order] = np.cumsum(head) - 1
        mem = self._mem_ids
        at = np.minimum(np.searchsorted(mem, uniq), max(mem.size - 1, 0))
        known = (mem[at] == uniq) if mem.size else np.zeros(uniq.size, dtype=bool)
        rank_u = np.where(known, self._mem_rank[at] if mem.size else 0, -1)
        new = np.flatnonzero(~known)
        new = new[np.argsort(first[new], kind="stable")]  # in order of first span
        rank_u[new] = n0 + np.arange(new.size)
        rank = rank_u[inv]
        n1 = n0 + new.size
        old = np.flatnonzero(rank < n1 - window)
        if old.size:
            # spans of traces that may fall out of memory before them: each against the
            # count of traces begun before it (new traces begin at their first spans,
            # which `new` lists in order)
            begun_before = n0 + np.searchsorted(first[new], old)
            if bool((rank[old] < begun_before - window).any()):
                return None
        return rank, uniq[new], rank_u[new]

    def _ranks_one_by_one(self, keys: list[Any]) -> tuple[np.ndarray, dict[Any, int], int]:
        """The rule span by span (integer ids, and other ids wrapped by `_other_key`):
        each span's trace rank, the keys whose rank this batch set, the traces begun."""
        n, window = self._begun, self._remembered
        mem = dict(zip(self._mem_ids.tolist(), self._mem_rank.tolist(), strict=True))
        if self._mem_other:
            mem.update(self._mem_other)
        changed: dict[Any, int] = {}
        out = []
        for k in keys:
            r = mem.get(k)
            if r is None or r < n - window:  # never seen, or forgotten: a new trace
                r = mem[k] = changed[k] = n
                n += 1
            out.append(r)
        return np.array(out, dtype=np.int64), changed, n

    def _remember(self, ids: np.ndarray, ranks: np.ndarray, others: dict[Any, int],
                  begun: int) -> None:
        """Set the remembered ranks (integer ids sorted in, others by key), then forget
        what is older than the last ``_remembered`` traces begun."""
        self._begun = begun
        low = begun - self._remembered
        mem, rank = self._mem_ids, self._mem_rank
        if ids.size:
            at = np.minimum(np.searchsorted(mem, ids), max(mem.size - 1, 0))
            again = (mem[at] == ids) if mem.size else np.zeros(ids.size, dtype=bool)
            if again.any():  # forgotten and begun anew
                rank = rank.copy()
                rank[at[again]] = ranks[again]
                ids, ranks = ids[~again], ranks[~again]
            old = rank >= low
            mem = np.concatenate((mem[old], ids[ranks >= low]))
            rank = np.concatenate((rank[old], ranks[ranks >= low]))
            order = np.argsort(mem, kind="stable")  # (two runs, nearly in order)
            mem, rank = mem[order], rank[order]
        else:
            keep = rank >= low
            if not keep.all():
                mem, rank = mem[keep], rank[keep]
        self._mem_ids, self._mem_rank = mem, rank
        if others or self._mem_other:
            merged = {**(self._mem_other or {}), **others}
            self._mem_other = {k: r for k, r in merged.items() if r >= low}

    def _bound(self, tids: np.ndarray, other_at: list[tuple[int, Any]]) -> tuple[
            np.ndarray, np.ndarray]:
        """Apply the rule to a batch: ``tids`` the integer trace ids of its spans in
        stream order, ``other_at`` the ``(index among all the batch's spans, trace id)``
        of its spans with other ids, indices ascending. Evicts the stored traces the
        batch pushes out and returns which of the batch's integer-id spans to keep and
        which of its other spans to keep (booleans, in the order given)."""
        cap = self.max_traces
        assert cap is not None
        n0 = self._begun
        got = None if other_at or self._mem_other else self._ranks(tids)
        if got is not None:
            rank, new_ids, new_ranks = got
            other_rank = np.empty(0, dtype=np.int64)
            n1, others = n0 + new_ids.size, {}
        else:
            keys: list[Any] = tids.tolist()
            is_other = np.zeros(len(keys) + len(other_at), dtype=bool)
            for i, key in other_at:
                keys.insert(i, _other_key(key))  # (ascending: each lands where it came)
                is_other[i] = True
            ranks, changed, n1 = self._ranks_one_by_one(keys)
            rank, other_rank = ranks[~is_other], ranks[is_other]
            new_ids = np.array([k for k in changed if type(k) is int], dtype=np.int64)
            new_ranks = np.array([changed[k] for k in new_ids.tolist()], dtype=np.int64)
            others = {k: r for k, r in changed.items() if type(k) is not int}
        low = n1 - cap  # the kept traces: ranks from here
        self.evicted_traces += max(0, low) - max(0, n0 - cap)
        self._evict_stored(low)  # (looks the stored traces up before they may be forgotten)
        self._remember(new_ids, new_ranks, others, n1)
        return rank >= low, other_rank >= low

    def _rank_of(self, ids: np.ndarray) -> np.ndarray:
        """The remembered ranks of integer trace ids (all remembered: they are kept)."""
        at = np.minimum(np.searchsorted(self._mem_ids, ids), max(self._mem_ids.size - 1, 0))
        return self._mem_rank[at]

    def _evict_stored(self, low: int) -> None:
        """Evict the stored traces ranked below ``low``, whole."""
        mem_other = self._mem_other or {}
        for key in [k for k in self._other if mem_other.get(_other_key(k), low) < low]:
            gone = self._other.pop(key)
            self._note_evicted(np.array([sp.start for sp in gone], dtype=np.float64))
        order, st = self._tid_index()
        if not st.size:
            return
        head = np.ones(st.size, dtype=bool)
        head[1:] = st[1:] != st[:-1]
        keep_trace = self._rank_of(st[head]) >= low
        if keep_trace.all():
            return
        keep_sorted = keep_trace[np.cumsum(head) - 1]
        keep = np.empty(st.size, dtype=bool)
        keep[order] = keep_sorted
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
        # the kept rows' index, renumbered (still stable within each trace)
        self._by_tid = (new_row[order[keep_sorted]], st[keep_sorted])
        self._by_start = None
        self._scanned = False
