"""``Inductor``: smooths bursts; its output rate follows the input rate with time
constant ``time_constant`` seconds (an EWMA of inter-arrival times), so a sudden burst
is spread out instead of passed on. Requests wait in a FIFO of ``queue_capacity``; the
overflow is refused (reason ``"rate_limited"``). Observed like `RateLimitedEntity`, plus
``estimated_rate`` gauge (per second).
"""

from __future__ import annotations

import math

from happysimulator.components.rate_limiter._history import HISTORY_LIMIT, History
from happysimulator.components.rate_limiter._limiter import LimiterStats, QueueingLimiter
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import gauge
from happysimulator.core.temporal import Duration, Instant
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion

InductorStats = LimiterStats


class Inductor(QueueingLimiter):
    """Rate smoothing with an EWMA of inter-arrival times (see the module docstring)."""

    observed_series = (
        gauge("estimated_rate", "1/s", "smoothed arrival rate the output follows"),
    )
    _poll_prefix = "inductor_poll"

    def __init__(self, name: str, downstream: Entity, time_constant: float,
                 queue_capacity: int = 10000, *,
                 history_limit: int | None = HISTORY_LIMIT) -> None:
        if not time_constant >= 0:
            raise ValueError(f"time_constant must be >= 0 seconds, got {time_constant}")
        super().__init__(name, downstream, queue_capacity, history_limit)
        self._time_constant = time_constant
        self._interval: float | None = None  # smoothed inter-arrival time, s
        self._last_arrival: Instant | None = None
        self._last_output: Instant | None = None
        self.rate_history: History[tuple[Instant, float]] = History(history_limit)

    @property
    def time_constant(self) -> float:
        return self._time_constant

    @property
    def estimated_rate(self) -> float:
        """The smoothed arrival rate (per second; 0.0 before two arrivals)."""
        iv = self._interval
        return 1.0 / iv if iv else 0.0

    @property
    def stats(self) -> LimiterStats:
        return LimiterStats(self._received, self._forwarded, self._queued, self._dropped)

    def handle_event(self, event: Event) -> list[Event]:
        if event.event_type != self._poll_type:
            now = event.time
            last = self._last_arrival
            if last is not None:
                dt = (now.nanoseconds - last.nanoseconds) / _NS
                if self._interval is None:
                    self._interval = dt
                else:
                    tau = self._time_constant
                    alpha = 1.0 - math.exp(-dt / tau) if tau > 0 else 1.0
                    self._interval = alpha * dt + (1.0 - alpha) * self._interval
                self.rate_history.append((now, self.estimated_rate))
                self.set_gauge("estimated_rate", self.estimated_rate)
            self._last_arrival = now
        return super().handle_event(event)

    def _admit(self, now: Instant) -> bool:
        iv = self._interval
        last = self._last_output
        if last is None or not iv or (now.nanoseconds - last.nanoseconds) / _NS >= iv:
            self._last_output = now
            return True
        return False

    def _next_poll(self, now: Instant) -> Duration:
        return Duration.from_seconds(self._interval or 0.01)


__all__ = ["Inductor", "InductorStats"]
