"""Delivering observations to Rx subscribers at event boundaries, and observer faults.

While a simulation runs, an observation emitted inside a component's handler is not
handed to Rx subscribers there (between two of the component's fact appends, with its
state half updated): the bus's `defer` queues it, and the run loop delivers the queue
right after the handler, before the next heap entry of any kind (timers, and the
handler's immediate follow-ons at that instant, wait for it). So subscriber code only
ever sees complete state, and whatever it raises cannot leave a component half done.

While a run has Rx subscribers, the queue is the simulation's ``_pending``: the run
loop tests it after every handler (one list test per event, nothing else) and, when
something waits, calls `Deliveries.boundary` before the next heap entry of any kind. No
heap entry, timer or wake-up call per delivering event: that cost a ``heappush``, a
``heappop`` and a loop pass per observed event (~2.5k instructions per customer of the
standard M/M/1 model with one `latency` subscriber; benchmarks/results/
2026-12-07-s10-strm2.txt). A run without subscribers leaves ``_pending`` False, which
the loop tests for free; the first subscriber during a run sets it and has the loop set
up again (as a breakpoint added then does) before the next event.

An observer's exception goes to its own ``on_error`` if it was given one; otherwise it is
an *observer fault*: the run pauses after the current event with ``paused_by`` naming the
observer and the exception (see `SimulationControl.observer_errors`), and `resume()` goes
on exactly as the uninterrupted run would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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

    __slots__ = ("sim", "on_fault", "pending", "_rearm", "_bus", "_auto")

    def __init__(self, sim: Any, on_fault: Callable[[str, BaseException], None],
                 rearm: Callable[[], None]) -> None:
        self.sim = sim
        self.on_fault = on_fault  # (description, exception) -> None
        self._rearm = rearm  # a running loop must read the simulation's seams again
        self._bus: Any = None
        # one list for the simulation's whole life (the loop and the bus's emitters
        # hold it), flat: ``[observer, observation, observer, observation, ...]`` (no
        # pair tuple per observation); the loop calls `boundary` when it is not empty
        self.pending: list[Any] = []
        # reactivex's AutoDetachObserver, once an observer may be queued (`attach`, `live`)
        self._auto: type | None = None
        sim._deliver = self._boundary_fn()

    def attach(self, bus: Any) -> None:
        """A run starts: `bus`'s subscribers' observations queue here (the bus's emitters
        append to ``bus.deferred``, our `pending`); the loop tests it only while some
        subscriber may queue (`live`)."""
        self._bus = bus
        bus.deferred = self.pending
        bus.defer = self.defer
        if bus.has_observers:
            self._auto = _auto_detach()
            self.sim._deliver = self._boundary_fn()
            self.sim._pending = self.pending
        else:
            bus.on_observer = self.live

    def live(self) -> None:
        """The run's first subscriber came: the loop must test the queue from now on
        (it reads ``_pending`` once per `_run_loop`: set up again before the next
        event, as for a breakpoint added during the run)."""
        self._bus.on_observer = None
        self._auto = _auto_detach()
        self.sim._deliver = self._boundary_fn()
        self.sim._pending = self.pending
        self._rearm()

    def detach(self, bus: Any) -> None:
        """The run stopped: subscribers get their observations at once again."""
        self._bus = None
        bus.deferred = bus.defer = bus.on_observer = None
        self.sim._pending = False

    def defer(self, observer: Any, obs: Any) -> None:
        """The bus's ``defer``: queue for the loop's next boundary."""
        self.pending.append(observer)
        self.pending.append(obs)

    def boundary(self) -> bool:
        """Called by the run loop at the boundary (the clock at the emitting event's
        time) when something is queued: deliver it all; True to pause there (an observer
        asked for it, or changed breakpoints: see `SimulationControl`)."""
        return self._boundary_fn()()

    def _boundary_fn(self) -> Callable[[], bool]:
        """`boundary` as the loop calls it (``sim._deliver``): a closure over the queue,
        the simulation and the plain-subscriber class, which it reads as cells rather
        than attributes (one call per delivering event; remade when `_auto` is set)."""
        pending, sim, drain, fault, auto = (
            self.pending, self.sim, self.drain, self.fault, self._auto)

        def boundary() -> bool:
            try:
                observer, obs = pending  # the common case: one observation
            except ValueError:  # (several: `drain`; no length test on the common path)
                drain()
            else:
                pending.clear()
                try:
                    if observer.__class__ is auto:
                        if not observer.is_stopped:
                            # (read, then called: calling an attribute that holds a
                            # function as a method costs ~100 instructions more)
                            on_next = observer._on_next
                            on_next(obs)
                    else:
                        observer.on_next(obs)
                except Exception as exc:
                    fault(observer, obs, exc)
                if pending:  # (it queued more: delivered here too, after it)
                    drain()
            if sim._pause_requested:
                sim._pause_requested = False
                return True
            return False

        return boundary

    def drain(self) -> None:
        """Deliver everything queued (observers may queue more: delivered too)."""
        pending = self.pending
        while pending:
            auto = _auto_detach()
            batch = pending.copy()
            pending.clear()  # (in place: the loop and the emitters hold this list)
            for observer, obs in zip(batch[::2], batch[1::2], strict=True):  # (the pairs)
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
