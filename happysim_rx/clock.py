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

# one definition of the clock seam, in the lowest layer (docs/internals.md section 1)
from operators.clock import FakeClock, SimClock, TimerHandle

__all__ = ["SimClock", "TimerHandle", "ManualClock"]


class ManualClock(FakeClock):
    """A SimClock you drive by hand (`advance_to`, `advance_by`, `run`): the operators'
    `FakeClock`, except that advancing to an earlier time is a no-op rather than an error
    and `run()` is bounded (a periodic timer would never let it end)."""

    def advance_to(self, time_s: float) -> None:
        super().advance_to(max(float(time_s), self._now))

    def run(self, max_timers: int = 1_000_000) -> None:  # type: ignore[override]
        """Run timers until none is left, at most `max_timers` of them."""
        for _ in range(max_timers):
            while self._heap and self._heap[0][2].cancelled:
                heapq.heappop(self._heap)
            if not self._heap:
                return
            self.advance_to(self._heap[0][0])
