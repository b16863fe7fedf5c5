"""Run reactivex time-based operators in *simulated* time.

``SimulatedTimeScheduler(clock)`` is a reactivex scheduler whose timers are
``clock.call_at`` entries (daemon timers on the simulation heap) and whose ``now`` is
simulated time as a datetime based on epoch 0 (``UTC_ZERO + timedelta(seconds=t)``,
reactivex's convention). So ``buffer_with_time``, ``window_with_time``, ``sample``,
``debounce``, ``delay``, ``interval``, ``timer`` ... run in simulated time.

Never falling back to a wall-clock thread:

* ``SimObservable`` (what the bus returns) makes the simulated scheduler the default
  scheduler of every subscription made through it *and* through anything built with
  its ``.pipe(...)`` or fluent operator methods, so ``ops.buffer_with_time(1.0)`` picks
  it up without being told.
* ``forbid_wall_clock()`` is a context manager that makes reactivex's thread/timer
  schedulers (Timeout, NewThread, ThreadPool, EventLoop) raise ``WallClockError``
  instead of starting a thread; the run loop can hold it while it runs.

>>> from happysim_rx.clock import ManualClock
>>> import reactivex, reactivex.operators as ops
>>> clock = ManualClock(); sched = SimulatedTimeScheduler(clock); out = []
>>> _ = reactivex.interval(1.0).pipe(ops.take(3)).subscribe(out.append, scheduler=sched)
>>> clock.advance_to(10.0); out
[0, 1, 2]
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar

import reactivex
from reactivex import Observable, abc, typing
from reactivex.disposable import Disposable, MultipleAssignmentDisposable
from reactivex.internal.constants import UTC_ZERO
from reactivex.scheduler.periodicscheduler import PeriodicScheduler

from happysim_rx.clock import SimClock

__all__ = ["SimulatedTimeScheduler", "SimObservable", "WallClockError", "forbid_wall_clock"]

_TState = TypeVar("_TState")


class WallClockError(RuntimeError):
    """A time-based operator tried to use a wall-clock (threaded) scheduler."""


class _TimerDisposable(abc.DisposableBase):
    """Cancels the clock timer, or disposes what the action returned once it ran."""

    __slots__ = ("handle", "inner", "disposed")

    def __init__(self) -> None:
        self.handle: Any = None
        self.inner: abc.DisposableBase | None = None
        self.disposed = False

    def dispose(self) -> None:
        if self.disposed:
            return
        self.disposed = True
        if self.handle is not None:
            self.handle.cancel()
        if self.inner is not None:
            self.inner.dispose()


class SimulatedTimeScheduler(PeriodicScheduler):
    """reactivex scheduler on a ``SimClock``; see module docstring."""

    def __init__(self, clock: SimClock) -> None:
        super().__init__()
        self.clock = clock
        _SIM_SCHEDULERS.add(self)

    @property
    def now(self) -> datetime:
        return UTC_ZERO + timedelta(seconds=self.clock.now())

    def now_seconds(self) -> float:
        return self.clock.now()

    def _at(self, time_s: float, action: abc.ScheduledAction[_TState], state: Any) -> Any:
        d = _TimerDisposable()

        def fire() -> None:
            if not d.disposed:
                d.handle = None
                d.inner = self.invoke_action(action, state)

        fire.action = action  # type: ignore[attr-defined]  # (see `pending_actions`)
        d.handle = self.clock.call_at(time_s, fire)
        return d

    def schedule(
        self, action: abc.ScheduledAction[_TState], state: _TState | None = None
    ) -> abc.DisposableBase:
        # "As soon as possible" in a DES means: at the current instant, as a timer.
        return self._at(self.clock.now(), action, state)

    def schedule_relative(
        self,
        duetime: typing.RelativeTime,
        action: abc.ScheduledAction[_TState],
        state: _TState | None = None,
    ) -> abc.DisposableBase:
        seconds = max(0.0, self.to_seconds(duetime))
        return self._at(self.clock.now() + seconds, action, state)

    def schedule_absolute(
        self,
        duetime: typing.AbsoluteTime,
        action: abc.ScheduledAction[_TState],
        state: _TState | None = None,
    ) -> abc.DisposableBase:
        return self._at(self.to_seconds(duetime), action, state)

    def schedule_periodic(
        self,
        period: typing.RelativeTime,
        action: typing.ScheduledPeriodicAction[_TState],
        state: _TState | None = None,
    ) -> abc.DisposableBase:
        """Ticks at t0 + k*period (multiplied, not accumulated: no drift)."""
        seconds = self.to_seconds(period)
        if seconds <= 0:
            raise ValueError(f"period must be positive, got {seconds!r}")
        t0 = self.clock.now()
        disp = MultipleAssignmentDisposable()
        box = [state, 1]

        def tick() -> None:
            if disp.is_disposed:
                return
            box[0] = action(box[0])
            box[1] += 1
            disp.disposable = Disposable(self.clock.call_at(t0 + box[1] * seconds, tick).cancel)

        disp.disposable = Disposable(self.clock.call_at(t0 + seconds, tick).cancel)
        return disp


class SimObservable(Observable[Any]):
    """An Observable whose subscriptions default to a simulated-time scheduler.

    ``pipe``/fluent operators return SimObservables too, so the default reaches every
    operator of the chain (reactivex passes the subscription scheduler downward).
    """

    def __init__(
        self,
        subscribe: Callable[[abc.ObserverBase[Any], abc.SchedulerBase | None], Any]
        | Observable[Any],
        scheduler: SimulatedTimeScheduler,
    ) -> None:
        if isinstance(subscribe, Observable):
            inner = subscribe

            def subscribe(observer: Any, sch: Any = None) -> Any:
                return inner.subscribe(observer, scheduler=sch)

        super().__init__(subscribe)
        self.sim_scheduler = scheduler

    def _subscribe_core(
        self, observer: abc.ObserverBase[Any], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        return super()._subscribe_core(observer, scheduler or self.sim_scheduler)

    def pipe(self, *operators: Callable[[Any], Any]) -> Any:
        result = super().pipe(*operators)
        if isinstance(result, Observable) and not isinstance(result, SimObservable):
            return SimObservable(result, self.sim_scheduler)
        return result


def scheduled_action(timer_fn: Any) -> Any:
    """The reactivex action behind a clock timer this scheduler set (else None)."""
    return getattr(timer_fn, "action", None)


# -- wall-clock guard --------------------------------------------------------------

# Simulated-time schedulers alive in this process: while there is none, the permanent
# guard below costs nothing (no stack is inspected).
_SIM_SCHEDULERS: weakref.WeakSet[SimulatedTimeScheduler] = weakref.WeakSet()
_RX_DIR = os.path.dirname(reactivex.__file__) + os.sep
_SCAN_FRAMES = 60  # caller frames searched for the observable being subscribed
_SCAN_NODES = 4000  # objects visited looking for a simulation's stream


def _reaches_sim_stream(obj: Any, seen: set[int], budget: list[int]) -> bool:
    """True when `obj` is an Observable built from a `SimObservable` (found through the
    closures and attributes that reactivex operators keep their sources in)."""
    stack = [obj]
    while stack:
        o = stack.pop()
        if id(o) in seen or budget[0] <= 0:
            continue
        seen.add(id(o))
        budget[0] -= 1
        if isinstance(o, SimObservable):
            return True
        if isinstance(o, Observable):
            stack.append(getattr(o, "_subscribe", None))
            stack.extend(vars(o).values())
        elif isinstance(o, list | tuple):
            stack.extend(o)
        elif callable(o):
            for cell in getattr(o, "__closure__", None) or ():
                try:
                    stack.append(cell.cell_contents)
                except ValueError:  # (an empty cell)
                    pass
            for attr in ("__self__", "__func__"):
                inner = getattr(o, attr, None)
                if inner is not None and not isinstance(inner, type):
                    stack.append(inner)
    return False


def _subscribing_a_sim_stream() -> bool:
    """Is the current call (a wall-clock scheduler asked for a timer) part of subscribing
    or running an observable built from a simulation's streams?"""
    if not _SIM_SCHEDULERS:
        return False
    frame = sys._getframe(2)
    seen: set[int] = set()
    budget = [_SCAN_NODES]
    for _ in range(_SCAN_FRAMES):
        if frame is None:
            break
        # only reactivex's own frames (subscribe, operators): a user's function that
        # merely holds a simulation's stream in a variable is not subscribing it
        if frame.f_code.co_filename.startswith(_RX_DIR):
            for value in frame.f_locals.values():
                if isinstance(value, Observable) and _reaches_sim_stream(value, seen, budget):
                    return True
        frame = frame.f_back
    return False


_METHODS = ("schedule", "schedule_relative", "schedule_absolute", "schedule_periodic")


def _sim_stream_refusal(name: str) -> WallClockError:
    return WallClockError(
        f"{name} would run a time-based operator of a simulation's stream on a "
        "wall-clock thread (a composition such as reactivex.merge(a, b) loses the "
        "simulated-time default): pass scheduler=sim.scheduler to subscribe(...) or "
        "to the operator, e.g. .subscribe(fn, scheduler=sim.scheduler)")


def _guard_permanently() -> None:
    """Wrap the wall-clock schedulers once: a timer for a chain that reaches a
    simulation's stream is refused (`WallClockError`) whenever it is subscribed, before
    a run, while paused or running; other reactivex users are unaffected."""
    for cls in _wall_clock_classes():
        for meth in _METHODS:
            original = getattr(cls, meth)
            if getattr(original, "_sim_guarded", False):
                continue

            def make(original: Any = original, cls: type = cls) -> Any:
                @functools.wraps(original)
                def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
                    if getattr(_forbidden, "depth", 0):
                        raise _wall_clock_refusal(type(self).__name__)
                    if _subscribing_a_sim_stream():
                        raise _sim_stream_refusal(type(self).__name__)
                    return original(self, *args, **kwargs)

                guarded._sim_guarded = True  # type: ignore[attr-defined]
                return guarded

            setattr(cls, meth, make())


def _wall_clock_classes() -> list[type]:
    from reactivex.scheduler import (
        EventLoopScheduler,
        NewThreadScheduler,
        ThreadPoolScheduler,
        TimeoutScheduler,
    )

    return [TimeoutScheduler, NewThreadScheduler, ThreadPoolScheduler, EventLoopScheduler]


# The run loop's guard is per thread: it refuses wall-clock timers asked for on the
# thread that runs the simulation (a model handler, a subscriber, an operator of the
# run), never those of unrelated reactivex code elsewhere in the program (its timer
# threads, other threads' subscriptions keep working while a simulation runs).
_forbidden = threading.local()


@contextlib.contextmanager
def forbid_wall_clock() -> Iterator[None]:
    """Inside this block, on this thread, reactivex's threaded schedulers raise
    ``WallClockError``.

    Re-entrant. Use it around a simulation run so a time-based operator that was given
    (or defaulted to) a wall-clock scheduler fails loudly instead of silently running on
    a background thread. Other threads are not affected.
    """
    _forbidden.depth = getattr(_forbidden, "depth", 0) + 1
    try:
        yield
    finally:
        _forbidden.depth -= 1


def _wall_clock_refusal(name: str) -> WallClockError:
    return WallClockError(
        f"{name} would run on a wall-clock thread inside a simulation; subscribe with "
        "scheduler=sim.scheduler (the bus's SimulatedTimeScheduler) or use the bus's "
        "observables, whose pipes default to simulated time")


_guard_permanently()
