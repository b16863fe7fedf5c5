"""Drives generator handlers: ``yield delay``, ``yield (delay, events)``, ``yield future``.

A process resumes through a `ProcessContinuation` event on the heap (its target is the
process). When the generator finishes, what it returns is scheduled like a handler's
result; a single plain event for *now* is instead returned from the continuation's
handler, so the run loop can dispatch it at once (the hand-off of a user model's
``return self.forward(event, downstream)``: no heap round trip), exactly when that is
the event the next pop would have returned (see `_finish`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from heapq import heappush
from math import floor as _floor
from math import inf as _INF
from numbers import Real as _Real
from typing import TYPE_CHECKING, Any

from happysimulator.core.event import Event, ProcessContinuation, _Extra
from happysimulator.core.sim_future import SimFuture
from happysimulator.core.temporal import Duration

if TYPE_CHECKING:
    from happysimulator.core.simulation import Simulation

_NS = 1_000_000_000  # durations convert as int(s * 1e9 + 0.5) (nearest ns) everywhere
_NS_F = 1e9  # (exactly _NS)
_new = object.__new__


class Process(ProcessContinuation):
    """One running generator. Its continuation events target the process (``.entity`` is
    the owner); while nobody sees processed events (`Engine.unseen`), one continuation
    event is pushed again at each ``yield`` (no allocation): ``_ev``, the process itself,
    or a resource's service object's own `Wakeup` (`generator_service.service`).

    ``on_done(result)`` is called when the generator finishes, after its result was
    scheduled; then the origin event's completion hooks run (unless ``run_hooks`` is
    False). Subclasses may override `_done` instead.

    A subclass whose object runs several generators one after another (a resource's
    service object, serving its next request) gives it a driver (`drive`) and sends it
    each next generator (``_send``): the driver's ``send`` (``_step``) resumes them."""

    # `_ev`: the event pushed as its continuation while it is `_own`: itself, or (a
    # resource's service object) a `Wakeup` of its own (`generator_service.service`)
    __slots__ = ("sim", "gen", "origin", "entity", "on_done", "_send", "run_hooks", "_own",
                 "_step", "_box", "_ev")

    def __init__(
        self,
        sim: Simulation,
        gen: Generator[Any, Any, Any],
        origin: Event,
        entity: Any,
        on_done: Callable[[Any], Any] | None = None,
    ) -> None:
        self.sim = sim
        self.gen = gen
        self.origin = origin
        self.entity = entity
        self.on_done = on_done
        self._send: Any = None
        self.run_hooks = True
        # as its own continuation event
        self._time_ns = sim.now_ns
        self.event_type = origin.event_type
        self.target = self
        c = origin._ctx
        self._ctx = origin if c is None else c
        self._x = None
        ox = origin._x
        # (a daemon origin's continuations are daemon entries, and a trace recorder sees
        # every push: both take the general path)
        self._own = (ox is None or not ox.daemon) and sim._trace is None
        self._step = None
        self._ev = self

    @property
    def name(self) -> str:
        return getattr(self.entity, "name", "process")

    def start(self) -> None:
        res = self.handle_event(self)
        if res is not None:  # (not run by the loop: schedule it like any result)
            self.sim.schedule_result(res)

    def _wake(self, value: Any) -> None:
        self._send = value
        self._continue_at(self.sim.now_ns)

    def _continue_at(self, time_ns: int) -> None:
        sim = self.sim
        ev = self._ev
        if self._own and ev._x is None:
            if sim.engine.unseen:
                ev._time_ns = time_ns
                heappush(sim._heap, (time_ns, 1, next(sim._counter), ev))
                return
            # someone may keep processed events (a hook, `step()`, a watched event type):
            # this process (or its `_ev`) may be one of them, so it never stands for its
            # continuation again
            self._own = False
        x = ev._x
        if x is not None and x.cancelled:  # (its continuation was cancelled: abandoned)
            return
        origin = self.origin
        ev = _new(ProcessContinuation)
        ev._time_ns = time_ns
        ev.event_type = origin.event_type
        ev.target = self
        c = origin._ctx
        ev._ctx = origin if c is None else c
        ev._x = None
        ox = origin._x
        if ox is not None and ox.daemon or sim._trace is not None:
            if ox is not None and ox.daemon:
                x = ev._x = _Extra()
                x.daemon = True
            sim._events.push(ev)  # (counts daemon entries; a trace recorder sees it)
        else:
            heappush(sim._heap, (time_ns, 1, next(sim._counter), ev))

    def handle_event(self, event: Event) -> Event | None:
        """Resume the generator (with what it waited for: see `_wake`); returns a plain
        event for now that the caller dispatches (see `_finish`), else None."""
        value = self._send
        if value is not None:
            self._send = None
        step = self._step
        try:
            y = self.gen.send(value) if step is None else step(value)
        except StopIteration as stop:
            return self._finish(stop.value)
        cls = y.__class__
        if cls is float or cls is int:
            if y < 0.0:
                raise ValueError(f"{self.name}: cannot yield a negative delay ({y})")
            sim = self.sim
            # (`floor` is `int` for y >= 0 -- nearest ns -- and a cheaper call: METH_O; a
            # float times the float 1e9 is the float times the int 10**9, specialized)
            t = sim.now_ns + _floor(y * _NS_F + 0.5)
            ev = self._ev
            if self._own and ev._x is None and sim.engine.unseen:
                ev._time_ns = t  # (`_continue_at`'s common case, inline)
                heappush(sim._heap, (t, 1, next(sim._counter), ev))
            else:
                self._continue_at(t)
        elif y is FINISHED:  # (a driven generator returned: `drive`)
            return self._finish(self._box[0])
        else:
            self._yielded(y)
        return None

    def _stepped(self, y: Any) -> Event | None:
        """A driven generator yielded `y` to a caller that sent it its step itself
        (`handle_event` written out, e.g. a resource starting its next request): what
        `handle_event` does after its ``send``, the general way."""
        if y is FINISHED:
            return self._finish(self._box[0])
        self._yielded(y)
        return None

    def _yielded(self, y: Any) -> None:
        """The generator yielded `y`: wait for what it says (the general way)."""
        cls = y.__class__
        if cls is float or cls is int:
            if y < 0.0:
                raise ValueError(f"{self.name}: cannot yield a negative delay ({y})")
            self._continue_at(self.sim.now_ns + _floor(y * _NS + 0.5))
        elif cls is Duration:
            if y._ns < 0:
                raise ValueError(f"{self.name}: cannot yield a negative delay ({y})")
            self._continue_at(self.sim.now_ns + y._ns)
        elif isinstance(y, SimFuture):
            y._add_waiter(self)
        elif cls is tuple and len(y) == 2:
            delay, events = y
            self.sim.schedule_result(events)
            d = delay._ns if isinstance(delay, Duration) else self._seconds_ns(delay)
            if d < 0:
                raise ValueError(f"{self.name}: cannot yield a negative delay ({delay})")
            self._continue_at(self.sim.now_ns + d)
        elif y is None:
            self._continue_at(self.sim.now_ns)
        elif isinstance(y, _Real):
            # (numpy scalars, bools, Fractions...: the same checks as a float)
            self._continue_at(self.sim.now_ns + self._seconds_ns(y))
        else:
            raise TypeError(
                f"{self.name}: a handler generator may yield a delay (float seconds or "
                f"Duration), a (delay, events) tuple or a SimFuture; got {type(y).__name__}"
            )

    def _seconds_ns(self, y: Any) -> int:
        """A delay in seconds of any real type, as whole ns (nearest); refuses a negative,
        NaN or infinite one with the error a negative float gets."""
        s = float(y)
        if s < 0.0:
            raise ValueError(f"{self.name}: cannot yield a negative delay ({y})")
        if s != s or s == _INF:
            raise ValueError(
                f"{self.name}: a delay must be a finite number of seconds >= 0; got {y}"
            )
        return _floor(s * _NS_F + 0.5)

    def _finish(self, result: Any) -> Event | None:
        """The generator returned ``result``: schedule it, then `_done`.

        A plain model event for now is given a heap sequence number where it would have
        been pushed, but is pushed only if `_done` scheduled something for now too (which
        then follows it, as before); otherwise it is returned, and the loop runs it at once
        -- what the next pop would have done."""
        sim = self.sim
        now_ev = None
        if result is not None:
            if (result.__class__ is Event and result._x is None and result.target is not None
                    and result._time_ns == sim.now_ns and sim._trace is None):
                now_ev, seq = result, next(sim._counter)
            else:
                sim.schedule_result(result)
        self._done(result)
        if now_ev is not None:
            heap = sim._heap
            if heap and heap[0][0] <= now_ev._time_ns:
                heappush(heap, (now_ev._time_ns, 1, seq, now_ev))
                return None
        return now_ev

    def _done(self, result: Any) -> None:
        """The generator finished (its result scheduled): ``on_done``, completion hooks."""
        if self.on_done is not None:
            self.on_done(result)
        x = self.origin._x
        if self.run_hooks and x is not None and x.on_complete:
            self.sim.run_completion_hooks(x.on_complete)


# what a `_drive` generator yields when the generator it runs returned
FINISHED = object()


def _drive(box: list) -> Generator[Any, Any, None]:
    """Runs the generators sent to it, one after another: yields what each yields (and
    sends it what it is sent); when one returns, yields `FINISHED` with the returned
    value in ``box[0]``, and waits for the next. ``yield from`` takes a generator's
    return value without the StopIteration a ``send`` raises, whose cost is a tenth of
    a user model's generator service (benchmarks/results/2026-12-07-s9-usr-*.txt)."""
    gen = yield None
    while True:
        box[0] = yield from gen
        gen = yield FINISHED


def drive(process: Process) -> None:
    """Give `process` a driver for the generators it will run after its current one
    (each sent through ``process._send``: `handle_event` sends it to the driver)."""
    box = process._box = [None]
    d = _drive(box)
    d.send(None)
    process._step = d.send


__all__ = ["Process", "drive"]
