"""Settling a gauge's records per instant (shared by the exact and streaming stores).

A gauge's value at an instant is the value after *all* its records at that instant: a
server handing over to the next request goes in_flight 1 -> 0 -> 1 within one instant,
and that 0 never held for any time. So the stores keep one point per instant (the last
record's value), and an instant whose records end where they started is no change at
all (no point) -- whether several records net to nothing or a single one sets the value
already held (a probe reporting the same level again): a gauge's points are its changes,
as the standard components record theirs. (A set to the value held that carries tags is
no change either: the streaming stores keep no tags, and a tag-dependent rule would make
the exact and the streaming store count a run's changes differently.) Records may arrive in any batches — a run paused or stepped
between two events at one instant flushes half an instant's records first — and the
stored points are the same: a batch continuing the newest instant re-settles it, and the
point stored for it is replaced or removed.

>>> st = Instant()
>>> keep, drop_last = st.settle(np.array([1.0, 2.0, 2.0]), np.array([5.0, 0.0, 5.0]))
>>> keep.tolist(), drop_last            # 2.0 nets to no change: only (1.0, 5.0) is kept
([0], False)
>>> keep, drop_last = st.settle(np.array([2.0, 3.0]), np.array([7.0, 1.0]))
>>> keep.tolist(), drop_last            # 2.0 continues: now a change to 7.0
([0, 1], False)
>>> keep, drop_last = st.settle(np.array([4.0, 5.0]), np.array([1.0, 2.0]))
>>> keep.tolist(), drop_last            # 1.0 is held already: only 5.0 changes it
([1], False)
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Instant"]


class Instant:
    """The state of a gauge's newest instant, carried between batches."""

    __slots__ = ("t", "before", "n", "has_point", "last")

    def __init__(self) -> None:
        self.t = -math.inf  # the newest instant with records
        self.before = math.nan  # the value in effect before it (NaN: none)
        self.n = 0  # records at it so far
        self.has_point = False  # whether the newest stored point is that instant's
        self.last = math.nan  # the value of the newest stored point (NaN: none)

    def settle(self, t: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, bool]:
        """Settle a batch of records (times sorted, not before the newest instant).
        Returns the positions in the batch whose records become points, and whether the
        newest stored point must go first (its instant continues in this batch)."""
        k = t.size
        if k == 0:
            return np.empty(0, dtype=np.intp), False
        if t[0] < self.t:  # a late record (out of order): kept as it came
            self.__init__()
            self.t, self.n, self.has_point, self.last = float(t[-1]), 1, True, float(v[-1])
            return np.arange(k), False
        head = np.empty(k, dtype=bool)
        head[0] = True
        np.not_equal(t[1:], t[:-1], out=head[1:])
        starts = np.flatnonzero(head)
        ends = np.append(starts[1:], k)
        lasts = ends - 1
        counts = ends - starts
        # (every record its own instant, the usual case: no gather)
        settled = v if starts.size == k else v[lasts]
        before = np.empty(settled.size)
        before[1:] = settled[:-1]
        cont = t[0] == self.t
        drop_last = False
        if cont:
            counts[0] += self.n
            before[0] = self.before
            drop_last = self.has_point
        else:
            before[0] = self.last
        # records ending where the instant began: no change (NaN, no value yet, never
        # equals)
        drop = settled == before
        keep = lasts[~drop] if drop.any() else lasts
        self.t, self.before, self.n = float(t[-1]), float(before[-1]), int(counts[-1])
        self.has_point = not bool(drop[-1])
        self.last = float(settled[-1]) if self.has_point else float(before[-1])
        return keep, drop_last
