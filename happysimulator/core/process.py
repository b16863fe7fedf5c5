"""Drives generator handlers: ``yield delay``, ``yield (delay, events)``, ``yield future``."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from happysimulator.core.event import Event, ProcessContinuation, _Extra, new_event
from happysimulator.core.sim_future import SimFuture
from happysimulator.core.temporal import Duration

if TYPE_CHECKING:
    from happysimulator.core.simulation import Simulation

_NS = 1_000_000_000  # durations convert as int(s * 1e9 + 0.5) (nearest ns) everywhere


class Process:
    """One running generator. Continuation events target the process (``.entity`` is the owner)."""

    __slots__ = ("sim", "gen", "origin", "entity", "on_done", "_send", "name", "run_hooks")

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
        self.name = getattr(entity, "name", "process")
        self.run_hooks = True

    def start(self) -> None:
        self._step(None)

    def handle_event(self, event: Event) -> None:
        value, self._send = self._send, None
        self._step(value)

    def _wake(self, value: Any) -> None:
        self._send = value
        self._continue_at(self.sim._now_ns)

    def _continue_at(self, time_ns: int) -> None:
        origin = self.origin
        ev = new_event(time_ns, origin.event_type, self, origin)
        ev.__class__ = ProcessContinuation
        ox = origin._x
        if ox is not None and ox.daemon:
            x = ev._x = _Extra()
            x.daemon = True
        self.sim._events.push(ev)

    def _step(self, value: Any) -> None:
        try:
            y = self.gen.send(value)
        except StopIteration as stop:
            self._finish(stop.value)
            return
        cls = y.__class__
        if cls is float or cls is int:
            if y < 0:
                raise ValueError(f"{self.name}: cannot yield a negative delay ({y})")
            self._continue_at(self.sim._now_ns + int(y * _NS + 0.5))
        elif cls is Duration:
            if y._ns < 0:
                raise ValueError(f"{self.name}: cannot yield a negative delay ({y})")
            self._continue_at(self.sim._now_ns + y._ns)
        elif isinstance(y, SimFuture):
            y._add_waiter(self)
        elif cls is tuple and len(y) == 2:
            delay, events = y
            self.sim._schedule_result(events)
            d = delay._ns if isinstance(delay, Duration) else int(float(delay) * _NS + 0.5)
            if d < 0:
                raise ValueError(f"{self.name}: cannot yield a negative delay ({delay})")
            self._continue_at(self.sim._now_ns + d)
        elif y is None:
            self._continue_at(self.sim._now_ns)
        elif isinstance(y, (int, float)):
            self._continue_at(self.sim._now_ns + int(float(y) * _NS + 0.5))
        else:
            raise TypeError(
                f"{self.name}: a handler generator may yield a delay (float seconds or "
                f"Duration), a (delay, events) tuple or a SimFuture; got {type(y).__name__}"
            )

    def _finish(self, result: Any) -> None:
        sim = self.sim
        if result is not None:
            sim._schedule_result(result)
        if self.on_done is not None:
            self.on_done(result)
        x = self.origin._x
        if self.run_hooks and x is not None and x.on_complete:
            sim._run_completion_hooks(x.on_complete)


__all__ = ["Process"]
