"""Delivering observations to Rx subscribers at event boundaries, and observer faults.

While a simulation runs, an observation emitted inside a component's handler is not
handed to Rx subscribers there (between two of the component's fact appends, with its
state half updated): the bus's `defer` queues it, and a timer at the current instant
delivers the queue right after the handler (and its immediate follow-ons at that instant
are not run before it). So subscriber code only ever sees complete state, and whatever it
raises cannot leave a component half done.

An observer's exception goes to its own ``on_error`` if it was given one; otherwise it is
an *observer fault*: the run pauses after the current event with ``paused_by`` naming the
observer and the exception (see `SimulationControl.observer_errors`), and `resume()` goes
on exactly as the uninterrupted run would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from happysimulator.core.event_heap import TimerHandle


def observer_label(observer: Any) -> str:
    """A readable name for an Rx observer or a callback."""
    fn = getattr(observer, "_on_next", None) or observer
    name = getattr(fn, "__qualname__", None) or type(fn).__name__
    return name


def has_own_on_error(observer: Any) -> bool:
    """True when the subscriber itself gave an ``on_error`` (reactivex's
    AutoDetachObserver), not when it is a link of an operator chain: its ``_on_error``
    is then the next observer's (an error an operator raised has already gone down the
    chain, and what reaches here is what the end of the chain re-raised)."""
    from reactivex import abc  # (loaded already: the observer is a reactivex one)
    from reactivex.internal.basic import default_error

    handler = getattr(observer, "_on_error", None)
    if handler is None or handler is default_error:
        return False
    return not isinstance(getattr(handler, "__self__", None), abc.ObserverBase)


class Deliveries:
    """The queue of observations waiting for the next event boundary."""

    __slots__ = ("sim", "on_fault", "pending", "timer", "_drain")

    def __init__(self, sim: Any, on_fault: Callable[[str, BaseException], None]) -> None:
        self.sim = sim
        self.on_fault = on_fault  # (description, exception) -> None
        self.pending: list[tuple[Any, Any]] = []
        self.timer: Any = None
        self._drain = self.drain  # (one bound method, made once)

    def defer(self, observer: Any, obs: Any) -> None:
        """The bus's ``defer``: queue, and make sure a boundary timer will deliver."""
        pending = self.pending
        if not pending:
            # a timer at the current instant (what clock.call_at(now) does, inlined:
            # this runs once per event that has something to deliver)
            sim = self.sim
            now = sim._now_ns
            self.timer = handle = TimerHandle(self._drain, now)
            sim.engine.schedule_timer(now, handle)
        pending.append((observer, obs))

    def drain(self) -> None:
        """Deliver everything queued (observers may queue more: delivered too)."""
        while self.pending:
            batch, self.pending = self.pending, []
            timer, self.timer = self.timer, None
            if timer is not None:
                timer.cancelled = True  # (when drained early: the run stopped)
            for observer, obs in batch:
                try:
                    observer.on_next(obs)
                except Exception as exc:
                    self.fault(observer, obs, exc)

    def fault(self, observer: Any, obs: Any, exc: Exception) -> None:
        if has_own_on_error(observer):
            try:
                observer.on_error(exc)
                return
            except Exception as again:  # its on_error raised too
                exc = again
        what = f"{getattr(obs, 'source', '?')}.{getattr(obs, 'name', '?')}"
        t = getattr(obs, "time", None)
        at = f" at t={t:g}s" if isinstance(t, float | int) else ""
        self.on_fault(f"observer {observer_label(observer)} on {what}{at}", exc)
