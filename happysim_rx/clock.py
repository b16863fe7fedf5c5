"""The simulated clock seam (internals.md section 1) and a fake clock for tests.

>>> c = ManualClock()
>>> _ = c.call_at(2.0, lambda: print("at", c.now()))
>>> c.advance_to(5.0)
at 2.0
>>> c.now()
5.0
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

# one definition of the clock seam, in the lowest layer (docs/internals.md section 1)
from operators.clock import SimClock, TimerHandle

__all__ = ["SimClock", "TimerHandle", "ManualClock"]


class _Timer:
    __slots__ = ("fn", "cancelled")

    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A SimClock you drive by hand: timers run in (time, FIFO) order.

    ``call_at`` a time in the past runs at the current instant on the next advance.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._heap: list[tuple[float, int, _Timer]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_at(self, time_s: float, fn: Callable[[], None]) -> _Timer:
        timer = _Timer(fn)
        heapq.heappush(self._heap, (max(float(time_s), self._now), next(self._seq), timer))
        return timer

    @property
    def pending(self) -> int:
        """Number of timers not yet run or cancelled."""
        return sum(1 for _, _, t in self._heap if not t.cancelled)

    def advance_to(self, time_s: float) -> None:
        """Run every timer due at or before ``time_s``, then set now to ``time_s``."""
        time_s = float(time_s)
        heap = self._heap
        while heap and heap[0][0] <= time_s:
            t, _, timer = heapq.heappop(heap)
            if timer.cancelled:
                continue
            self._now = t
            timer.fn()
        self._now = max(self._now, time_s)

    def advance_by(self, seconds: float) -> None:
        self.advance_to(self._now + seconds)

    def run(self, max_timers: int = 1_000_000) -> None:
        """Run timers until none is left (bounded: periodic timers never end)."""
        for _ in range(max_timers):
            while self._heap and self._heap[0][2].cancelled:
                heapq.heappop(self._heap)
            if not self._heap:
                return
            self.advance_to(self._heap[0][0])
        raise RuntimeError(f"ManualClock.run: still timers after {max_timers} (periodic?)")
