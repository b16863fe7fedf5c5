"""``Simulation.clock``: the ``SimClock`` protocol used by happysim_rx and operators."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from happysimulator.core.event_heap import TimerHandle
from happysimulator.core.temporal import Instant

if TYPE_CHECKING:
    from happysimulator.core.simulation import Simulation


class SimulationClock:
    """``now()`` in float seconds and ``call_at(time_s, fn)`` timers on the simulation heap.

    Timers are daemon (never keep a run alive), run before model events at the same
    instant, FIFO among themselves; a time in the past runs at the current instant.
    """

    __slots__ = ("_sim",)

    def __init__(self, sim: Simulation) -> None:
        self._sim = sim

    def now(self) -> float:
        return self._sim._now_ns / 1e9

    def call_at(self, time_s: float, fn: Callable[[], Any]) -> TimerHandle:
        sim = self._sim
        now = sim._now_ns
        if time_s != time_s:
            raise ValueError("call_at time must not be NaN")
        if time_s == math.inf:
            h = TimerHandle(fn, time_s)  # never runs
            h.cancelled = True
            return h
        ns = round(time_s * 1e9)
        if ns < now or (ns != now and abs(time_s - now / 1e9) <= math.ulp(time_s)):
            # (past: at the current instant. And the float of the current instant -- to
            # within its resolution, whichever way it was converted -- means the current
            # instant: past ~1e8 s a float second spans many nanoseconds and the rounding
            # above may land after now; a pause requested on the run's last event would
            # then wait for a timer the run never reaches)
            ns = now
        h = TimerHandle(fn, ns)
        sim._events.push_timer(ns, h)
        return h

    def call_later(self, delay_s: float, fn: Callable[[], Any]) -> TimerHandle:
        return self.call_at(self._sim._now_ns / 1e9 + delay_s, fn)


class Clock:
    """A standalone time holder (``now``, ``update``) for entities used outside a run.

    ``entity.set_clock(Clock(t))`` lets unit tests drive an entity's ``now`` by hand.
    """

    __slots__ = ("_current_time",)

    def __init__(self, start_time: Instant = Instant.Epoch) -> None:
        self._current_time = start_time

    @property
    def now(self) -> Instant:
        return self._current_time

    def update(self, time: Instant) -> None:
        """Set the current time."""
        self._current_time = time


__all__ = ["Clock", "SimulationClock", "TimerHandle"]
