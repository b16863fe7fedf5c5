"""``Simulation.clock``: the ``SimClock`` protocol used by happysim_rx and operators."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from happysimulator.core.event_heap import TimerHandle
from happysimulator.core.temporal import Instant
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion
from operators.simtime import ticks as _ticks

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
        return self._sim.now_ns / _NS

    def call_at(self, time_s: float, fn: Callable[[], Any]) -> TimerHandle:
        sim = self._sim
        now = sim.now_ns
        if time_s != time_s:
            raise ValueError("call_at time must not be NaN")
        if time_s == math.inf:
            h = TimerHandle(fn, time_s)  # never runs
            h.cancelled = True
            return h
        ns = _ticks(time_s)  # the nearest ns (round(t * 1e9) is ~64 ns off at 1e9 s)
        if ns < now or (ns != now and abs(time_s - now / _NS) <= math.ulp(time_s)):
            # (past: at the current instant. And the float of the current instant -- to
            # within its resolution -- means the current instant: past ~1e8 s a float
            # second spans many nanoseconds, so even the nearest ns of it may land after
            # now; a pause requested on the run's last event would then wait for a timer
            # the run never reaches)
            ns = now
        h = TimerHandle(fn, ns)
        sim._events.push_timer(ns, h)
        return h

    def call_later(self, delay_s: float, fn: Callable[[], Any]) -> TimerHandle:
        if not (delay_s == delay_s and abs(delay_s) < math.inf):  # NaN, inf: as call_at
            return self.call_at(delay_s, fn)
        # now + delay in nanoseconds: in float seconds the sum would round to the
        # float spacing of now (119 ns at 1e9 s)
        sim = self._sim
        ns = sim.now_ns + max(0, _ticks(delay_s))
        h = TimerHandle(fn, ns)
        sim._events.push_timer(ns, h)
        return h


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
