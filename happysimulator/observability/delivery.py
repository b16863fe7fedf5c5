"""Delivering observations to Rx subscribers at event boundaries, and observer faults.

While a simulation runs, an observation emitted inside a component's handler is not
handed to Rx subscribers there (between two of the component's fact appends, with its
state half updated): the bus's `defer` queues it, and the run loop delivers the queue
right after the handler, before the next heap entry of any kind (timers, and the
handler's immediate follow-ons at that instant, wait for it). So subscriber code only
ever sees complete state, and whatever it raises cannot leave a component half done.

The loop is woken by a *wake entry*: an interrupt entry (`RunLoop.interrupt`'s kind: it
sorts before every other entry) whose last field is the function to call there,
`Deliveries.boundary`. The first observation queued after a delivery puts it in the heap:
one C-level ``heappush`` of a constant tuple per event with something to deliver, not a
clock timer (an object, a counted daemon entry and the timer path of the loop; 1.4 µs
per delivered event), and the loop calls `boundary` itself (`RunLoop.WAKE_SEQ`): one
Python call per boundary, where the generic interrupt path (`_run_special`, the
control's ``_on_interrupt``, `drain`, the loop's bounds again) made four.

An observer's exception goes to its own ``on_error`` if it was given one; otherwise it is
an *observer fault*: the run pauses after the current event with ``paused_by`` naming the
observer and the exception (see `SimulationControl.observer_errors`), and `resume()` goes
on exactly as the uninterrupted run would.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from heapq import heappush
from typing import Any

from happysimulator.core.run_loop import INTERRUPT_NS, WAKE_SEQ

_AUTO: list[type | None] = [None]


def _auto_detach() -> type:
    """reactivex's ``AutoDetachObserver`` (what ``subscribe(fn)`` wraps a function in;
    imported once something was queued, so reactivex is loaded already)."""
    auto = _AUTO[0]
    if auto is None:
        from reactivex.observer.autodetachobserver import AutoDetachObserver

        auto = _AUTO[0] = AutoDetachObserver
    return auto


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

    __slots__ = ("sim", "on_fault", "pending", "_heap", "_bus", "_wake")

    def __init__(self, sim: Any, on_fault: Callable[[str, BaseException], None]) -> None:
        self.sim = sim
        self.on_fault = on_fault  # (description, exception) -> None
        self.pending: list[tuple[Any, Any]] = []
        self._heap = sim._heap
        self._bus: Any = None
        # the heap entry that wakes the loop for a delivery (see the module doc); equal
        # entries compare equal, so the function itself is never ordered
        self._wake = (INTERRUPT_NS, 0, WAKE_SEQ, self.boundary)

    def attach(self, bus: Any) -> None:
        """A run starts: `bus`'s subscribers' observations queue here (the bus's emitters
        append to ``bus.deferred``, our `pending`, and call ``bus.wake()`` when it was
        empty: one C-level ``heappush`` of the wake entry, no Python call)."""
        self._bus = bus
        bus.deferred = self.pending
        bus.wake = partial(heappush, self._heap, self._wake)
        bus.defer = self.defer

    def detach(self, bus: Any) -> None:
        """The run stopped: subscribers get their observations at once again."""
        self._bus = None
        bus.deferred = bus.wake = bus.defer = None

    def defer(self, observer: Any, obs: Any) -> None:
        """The bus's ``defer``: queue, and make sure the loop stops at the boundary."""
        pending = self.pending
        if not pending:
            heappush(self._heap, self._wake)
        pending.append((observer, obs))

    def boundary(self) -> bool:
        """The wake entry's work, called by the run loop at the boundary (the clock at
        the emitting event's time): deliver everything queued; True to pause there (an
        observer asked for it, or changed breakpoints: see `SimulationControl`). Calls
        handed over by other threads and Ctrl-C come with interrupt entries of their
        own, served right after this one."""
        pending = self.pending
        if len(pending) == 1:  # the common case (one observation), as `drain` does it
            observer, obs = pending.pop()
            try:
                if observer.__class__ is _AUTO[0]:
                    if not observer.is_stopped:
                        observer._on_next(obs)
                else:
                    observer.on_next(obs)
            except Exception as exc:
                self.fault(observer, obs, exc)
            if pending:  # (it queued more: delivered here too, after it)
                self.drain()
        elif pending:
            self.drain()
        sim = self.sim
        if sim._pause_requested:
            sim._pause_requested = False
            return True
        return False

    def drain(self) -> None:
        """Deliver everything queued (observers may queue more: delivered too). A wake
        entry left in the heap (drained early: the run stopped) finds nothing to do."""
        while self.pending:
            auto = _AUTO[0] or _auto_detach()
            batch, self.pending = self.pending, []
            if self._bus is not None:
                self._bus.deferred = self.pending
            for observer, obs in batch:
                try:
                    if observer.__class__ is auto:
                        # a plain subscriber (reactivex's AutoDetachObserver): its
                        # ``on_next`` inline -- nothing once stopped (disposed, errored)
                        if not observer.is_stopped:
                            observer._on_next(obs)
                    else:
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
