"""Observers and hooks of `SimulationControl`: life-cycle callbacks, per-event hooks,
pending events and timers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from happysimulator.core.temporal import Instant
from happysimulator.observability.boundary import _at_boundary
from happysimulator.observability.breakpoints import time_of
from happysimulator.observability.observer import SimulationObserver


class ObserverControl:
    """``add_observer``/``on_event``/``on_time_advance``/``find_events``/``at_time`` (mixed
    into `SimulationControl`: uses its simulation, runtime, state and faults)."""

    # ---- observers and hooks ----------------------------------------------------------
    @_at_boundary
    def add_observer(self, observer: SimulationObserver) -> SimulationObserver:
        """Register life-cycle callbacks (and every observation if it wants them)."""
        self._observers.append(observer)
        if getattr(observer, "wants_observations", False):
            self._observer_subs[id(observer)] = self._rt.bus.all().subscribe(
                observer.on_observation)
        return observer

    @_at_boundary
    def remove_observer(self, observer: SimulationObserver) -> None:
        self._observers.remove(observer)
        sub = self._observer_subs.pop(id(observer), None)
        if sub is not None:
            sub.dispose()

    @_at_boundary
    def on_event(self, fn: Callable[[Any], Any]) -> Callable[[], None]:
        """Call ``fn(event)`` after every model event; returns a function that unhooks it."""
        self._event_hooks.append(fn)
        self._changed()

        def unhook() -> None:
            if fn in self._event_hooks:
                self._event_hooks.remove(fn)
                self._changed()

        def remove() -> None:  # (safe from any thread, like every control call)
            self.call(unhook)

        return remove

    def on_time_advance(self, fn: Callable[[Instant], Any]) -> Callable[[], None]:
        """Call ``fn(new_time)`` after each event that moved simulated time forward;
        returns a function that unhooks it (``remove_hook`` accepts it too)."""
        last: list[Any] = [None]

        def hook(ev: Any) -> None:
            t = self._sim.now
            if last[0] is None or t > last[0]:
                last[0] = t
                fn(t)

        return self.on_event(hook)

    def remove_hook(self, handle: Callable[[], None]) -> None:
        """Remove a hook given what ``on_event``/``on_time_advance`` returned."""
        if not callable(handle):
            raise KeyError(f"no hook {handle!r}; pass what on_event() returned")
        handle()

    @_at_boundary
    def find_events(self, predicate: Callable[[Any], bool]) -> list[Any]:
        """Pending model events (in run order) for which ``predicate(event)`` is true;
        only while paused, when the heap is stable."""
        if not self._paused:
            raise RuntimeError("find_events() is only available when paused")
        live = sorted((e for e in self._sim._events.entries
                       if e[1] and not (e[3]._x is not None and e[3]._x.cancelled)),
                      key=lambda e: e[:3])
        return [e[3] for e in live if predicate(e[3])]

    @_at_boundary
    def at_time(self, time: Any, fn: Callable[[], Any]) -> Any:
        """Call ``fn()`` at simulated `time` (a timer: before model events at that instant)."""
        t = time_of(time, "at_time(time)")
        now = self._sim.clock.now()
        if t < now:
            raise ValueError(f"at_time({t:g}) is in the past: the simulation is at {now:g} s")
        return self._sim.clock.call_at(t, fn)

    def _notify(self, method: str) -> None:
        if not self._observers:
            return
        state = self._state()
        for obs in list(self._observers):
            try:
                getattr(obs, method)(state)
            except Exception as exc:
                self._observer_fault(f"{type(obs).__name__}.{method}", exc)
