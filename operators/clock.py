"""Simulated clocks for time-based operators (the SimClock protocol, docs/internals.md §1).

Time-based operators (windows, ``sustained``, ...) never look at the wall clock. They
close windows / fire conditions when *simulated* time reaches a boundary, through a
``SimClock``: any object with ``now() -> float`` (simulated seconds) and
``call_at(time_s, fn) -> handle`` whose handle has ``cancel()``.

Ways to give an operator a clock:

* ``clock=sim.clock`` (the engine's ``Simulation`` satisfies the protocol), or any
  object satisfying :class:`SimClock` (e.g. :class:`FakeClock` in tests);
* ``clock=SchedulerClock(test_scheduler)`` to drive operators with reactivex's
  ``TestScheduler`` / any ``VirtualTimeScheduler`` (marble tests);
* nothing: if the operator is subscribed with a scheduler that is itself a SimClock
  (has ``call_at``), wraps one in ``.clock`` (``happysim_rx``'s simulated-time
  scheduler), or is a reactivex ``VirtualTimeScheduler``, that scheduler is used.
  Otherwise the operator runs *without* timers (windows then close when a later item
  arrives or the stream completes). A wall-clock scheduler is never used.

>>> clock = FakeClock()
>>> fired = []
>>> h = clock.call_at(2.0, lambda: fired.append(clock.now()))
>>> clock.advance_to(5.0)
>>> fired, clock.now()
([2.0], 5.0)
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # (imported where used: the clock seam alone needs no reactivex)
    from reactivex.scheduler import VirtualTimeScheduler

__all__ = ["SimClock", "TimerHandle", "FakeClock", "SchedulerClock", "resolve_clock"]


@runtime_checkable
class TimerHandle(Protocol):
    def cancel(self) -> None: ...


@runtime_checkable
class SimClock(Protocol):
    """Current simulated time and timers (daemon; before model events at an instant)."""

    def now(self) -> float: ...

    def call_at(self, time_s: float, fn: Callable[[], None]) -> TimerHandle: ...


class _FakeTimer:
    __slots__ = ("fn", "cancelled")

    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A manual SimClock for tests: time moves only when you call ``advance_to``/``run``.

    Timers run in (time, FIFO) order; a timer set in the past or at ``now()`` runs at the
    current instant on the next ``advance_to``/``run``/``run_due`` call (never
    re-entrantly inside ``call_at``).
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._heap: list[tuple[float, int, _FakeTimer]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_at(self, time_s: float, fn: Callable[[], None]) -> _FakeTimer:
        timer = _FakeTimer(fn)
        heapq.heappush(self._heap, (max(float(time_s), self._now), next(self._seq), timer))
        return timer

    @property
    def pending(self) -> int:
        """Number of timers not yet run nor cancelled."""
        return sum(1 for _, _, t in self._heap if not t.cancelled)

    def advance_to(self, time_s: float) -> None:
        """Run every timer due at or before ``time_s`` (in order), then set now to it."""
        time_s = float(time_s)
        if time_s < self._now:
            raise ValueError(f"cannot move the clock backwards: now={self._now}, to={time_s}")
        while self._heap and self._heap[0][0] <= time_s:
            t, _, timer = heapq.heappop(self._heap)
            self._now = t
            if not timer.cancelled:
                timer.fn()
        self._now = time_s

    def advance_by(self, seconds: float) -> None:
        self.advance_to(self._now + seconds)

    def run_due(self) -> None:
        """Run timers due at the current instant."""
        self.advance_to(self._now)

    def run(self, until: float | None = None) -> None:
        """Run all timers (or those up to ``until``), advancing time to each one."""
        while self._heap and (until is None or self._heap[0][0] <= until):
            t, _, timer = heapq.heappop(self._heap)
            self._now = t
            if not timer.cancelled:
                timer.fn()
        if until is not None and until > self._now:
            self._now = float(until)


class _DisposableHandle:
    __slots__ = ("_disposable",)

    def __init__(self, disposable: Any) -> None:
        self._disposable = disposable

    def cancel(self) -> None:
        self._disposable.dispose()


class SchedulerClock:
    """SimClock on top of a reactivex ``VirtualTimeScheduler`` (e.g. ``TestScheduler``).

    ``now()`` is the scheduler's virtual clock in seconds times ``time_scale``;
    ``call_at(t, fn)`` is ``scheduler.schedule_absolute(t / time_scale, ...)``. A
    ``TestScheduler`` counts integer ticks as seconds, so with the default
    ``time_scale=1.0`` marble tick 210 is simulated time 210.0 s.

    >>> from reactivex.testing import TestScheduler
    >>> s = TestScheduler(); c = SchedulerClock(s); out = []
    >>> _ = c.call_at(5.0, lambda: out.append(c.now())); _ = s.start(); out
    [5.0]
    """

    def __init__(self, scheduler: VirtualTimeScheduler, time_scale: float = 1.0) -> None:
        if not hasattr(scheduler, "schedule_absolute") or not hasattr(scheduler, "clock"):
            raise TypeError("SchedulerClock needs a reactivex VirtualTimeScheduler")
        if not time_scale > 0:
            raise ValueError(f"time_scale must be positive, got {time_scale!r}")
        self.scheduler = scheduler
        self.time_scale = float(time_scale)

    def _sched_seconds(self) -> float:
        return float(self.scheduler.to_seconds(self.scheduler.clock))

    def now(self) -> float:
        return self._sched_seconds() * self.time_scale

    def call_at(self, time_s: float, fn: Callable[[], None]) -> TimerHandle:
        due = max(float(time_s) / self.time_scale, self._sched_seconds())

        def action(_scheduler: Any, _state: Any = None) -> None:
            fn()

        return _DisposableHandle(self.scheduler.schedule_absolute(due, action))


def _is_sim_clock(obj: Any) -> bool:
    return callable(getattr(obj, "now", None)) and callable(getattr(obj, "call_at", None))


def resolve_clock(clock: Any, scheduler: Any = None) -> Any:
    """Pick the clock for one subscription: explicit ``clock`` > the subscribe-time
    scheduler if it is a SimClock > a scheduler wrapping one in its ``.clock`` attribute
    (e.g. ``happysim_rx``'s simulated-time scheduler) > a reactivex
    ``VirtualTimeScheduler`` (wrapped in :class:`SchedulerClock`) > ``None`` (no timers).

    ``clock`` may itself be a SimClock, a scheduler wrapping one, or a
    ``VirtualTimeScheduler``; anything else raises ``TypeError``. Wall-clock schedulers
    (``TimeoutScheduler``, thread pools, event loops) are never used.
    """
    if clock is not None:
        found = _from_scheduler(clock)
        if found is None:
            raise TypeError(
                "clock must satisfy the SimClock protocol (now() -> float, "
                f"call_at(time_s, fn) -> handle with cancel()), got {type(clock).__name__}"
            )
        return found
    if scheduler is not None:
        return _from_scheduler(scheduler)
    return None


def _from_scheduler(obj: Any) -> Any:
    if _is_sim_clock(obj):
        return obj
    inner = getattr(obj, "clock", None)
    if inner is not None and _is_sim_clock(inner):
        return inner
    from reactivex.scheduler import VirtualTimeScheduler

    if isinstance(obj, VirtualTimeScheduler):
        return SchedulerClock(obj)
    return None
