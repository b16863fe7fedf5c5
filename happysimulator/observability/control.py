"""Pause, step and resume a simulation by hand or with breakpoints.

    summary = sim.run()                  # stops at the first breakpoint, or runs to the end
    sim.control.get_state().paused_by    # 'metric Server.queue_depth gt 50'
    events = sim.control.step(10)        # the next 10 events, returned
    sim.control.run_until(120.0)         # pause before any event later than 120 s
    sim.control.resume()                 # to the next pause or the end

Determinism: pausing only stops the loop between events; the heap, RNG and timers are
untouched, so a run paused and resumed any number of times produces exactly the
observations of the uninterrupted run.
"""

from __future__ import annotations

import contextlib
import heapq
import signal
import sys
import threading
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from happysimulator.core.temporal import Instant
from happysimulator.observability.boundary import _at_boundary
from happysimulator.observability.breakpoints import time_of
from happysimulator.observability.control_breakpoints import BreakpointControl
from happysimulator.observability.control_hooks import ObserverControl
from happysimulator.observability.delivery import Deliveries, observer_label
from happysimulator.observability.observer import SimulationObserver
from happysimulator.observability.pending_call import PendingCall
from happysimulator.observability.state import SimulationState
from operators.simtime import ticks as _ticks

if TYPE_CHECKING:
    from happysimulator.core.event import Event
    from happysimulator.instrumentation.summary import SimulationSummary
    from happysimulator.observability.control_breakpoints import _Armed
    from happysimulator.observability.integration import ObservabilityRuntime

_DONE = ("complete", "end_time")
_ELSEWHERE = (
    "the simulation is already running in another thread; a second run()/resume()/"
    "step() cannot run at the same time: call sim.control.pause() and wait for that "
    "run to return, or use sim.control.call(fn) to act at an event boundary")


class SimulationControl(BreakpointControl, ObserverControl):
    """`sim.control`: run-state, stepping, breakpoints, observers and hooks."""

    def __init__(self, runtime: ObservabilityRuntime) -> None:
        self._rt = runtime
        self._sim = runtime.sim
        self._armed: dict[int, _Armed] = {}
        self._observers: list[SimulationObserver] = []
        self._observer_subs: dict[int, Any] = {}
        self._event_hooks: list[Callable[[Any], Any]] = []
        self._started = False
        self._running = False
        self._paused = False
        self._complete = False
        self._pause_before_start = False
        self._paused_by: str | None = None
        self._fired: str | None = None
        self._stop_reason: str | None = None
        self._last_event: Any = None
        self._collect: list[Any] | None = None
        self._time_bp_ns: int | None = None
        # threads (see `call`): the run thread's id while a run is active, the calls
        # waiting for its next event boundary, and a pending Ctrl-C pause
        self._lock: threading.RLock = self._sim._lock
        self._run_thread: int | None = None
        self._calls: list[PendingCall] = []
        self._sigint = False
        self._rearm = False
        self._ignore_next = False  # the next advance ignores breakpoints
        self._ignoring = False
        self._sim._on_interrupt = self._on_interrupt
        # faults: observer code that raised (see `observer_errors`); observations for
        # Rx subscribers wait for the next event boundary while a run is active
        self._errors: list[tuple[str, BaseException]] = []
        self._deliveries = Deliveries(self._sim, self._observer_fault, self._changed)
        runtime.bus.on_fault = self._deliveries.fault
        self._sim._on_timer_error = self._timer_fault

    # ---- faults -----------------------------------------------------------------------
    @property
    def observer_errors(self) -> list[tuple[str, BaseException]]:
        """(what, exception) for every observer fault so far, oldest first: subscribers,
        operators, timers, breakpoint conditions, hooks and SimulationObservers whose
        exception paused the run (or, at its very end, could not)."""
        return list(self._errors)

    def _observer_fault(self, what: str, exc: BaseException) -> None:
        """Observer code raised: record it and pause after the current event."""
        self._errors.append((what, exc))
        text = f"observer error: {what} raised {type(exc).__name__}: {exc}"
        if self._running:
            self._fired = self._fired or text
            self._sim.request_pause(text)
        elif self._complete:
            warnings.warn(f"{text} (after the run completed)", RuntimeWarning, stacklevel=2)
        else:
            self._fired = self._fired or text

    def _timer_fault(self, fn: Any, exc: BaseException) -> None:
        """A clock timer (an Rx operator's, `at_time`'s) raised (called by the loop)."""
        self._observer_fault(f"timer {observer_label(fn)}", exc)

    # ---- threads ----------------------------------------------------------------------
    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` at a consistent event boundary; return its result
        (or raise its exception), from any thread.

        On the run thread (a subscriber, a callback) it runs at once. From another thread
        while a run is active, the run thread runs it between two events, the run then
        goes on, and this call blocks until it is done. When no run is active it runs in
        the calling thread under the simulation's lock, so it never interleaves with
        another such call or with a run starting.
        """
        me = threading.get_ident()
        if self._run_thread == me:
            return fn(*args, **kwargs)
        with self._lock:
            if self._run_thread is None or self._run_thread == me:
                return fn(*args, **kwargs)
            job = PendingCall(fn, args, kwargs)
            self._calls.append(job)
            self._sim.interrupt()
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result

    def submit(self, fn: Callable[[], Any]) -> bool:
        """Hand ``fn()`` to the run thread for its next event boundary without waiting:
        True if a run on another thread will call it (at a boundary, or when it stops),
        False when no such run is active (then nothing was done: call it yourself, e.g.
        through `call`). ``fn`` must not raise (nothing would see it) and must not block.
        Calls waiting at one boundary are served there together, in the order given."""
        me = threading.get_ident()
        with self._lock:
            if self._run_thread is None or self._run_thread == me:
                return False
            self._calls.append(PendingCall(fn))
            self._sim.interrupt()
        return True

    def _serve_calls(self) -> None:
        """Run the calls other threads handed over (on the run thread, at a boundary)."""
        while self._calls:
            with self._lock:
                jobs, self._calls = self._calls, []
            for job in jobs:
                job.run()

    def _on_interrupt(self) -> bool:
        """The run loop reached the boundary an interrupt asked for; True to pause.
        Observations queued for Rx subscribers go first (the handler that emitted them
        just ended), then the calls other threads handed over."""
        if self._deliveries.pending:
            self._deliveries.drain()
        if self._calls:
            self._serve_calls()
        sim = self._sim
        if self._sigint:
            self._sigint = False
            self._fired = self._fired or "KeyboardInterrupt (Ctrl-C)"
            sim._pause_requested = True
        if self._rearm:  # breakpoints changed under the loop: set it up again
            sim._pause_requested = True
        if sim._pause_requested:
            sim._pause_requested = False
            return True
        return False

    def _on_sigint(self, signum: int, frame: Any) -> None:
        """Ctrl-C while running: pause at the next event boundary; a second one, before
        that boundary is reached, interrupts hard (KeyboardInterrupt)."""
        if self._sigint:
            raise KeyboardInterrupt
        self._sigint = True
        self._sim.interrupt()

    # ---- state ------------------------------------------------------------------------
    @_at_boundary
    def get_state(self) -> SimulationState:
        """Where the simulation is, as of the last event boundary (any thread)."""
        return self._state()

    def _state(self) -> SimulationState:
        sim = self._sim
        eh = sim._events
        return SimulationState(
            current_time=sim.now,
            events_processed=sim.events_processed,
            heap_size=len(eh.entries),
            primary_events_remaining=len(eh.entries) - eh.ndaemon,
            is_paused=self._paused,
            is_running=self._running,
            is_complete=self._complete,
            paused_by=self._paused_by if self._paused else None,
            last_event=self._last_event,
            wall_clock_elapsed=sim._wall_s,
            stop_reason=self._stop_reason,
            failed_event=sim.failed_event if self._stop_reason == "error" else None,
        )

    @property
    def is_paused(self) -> bool:
        return self._paused

    @property
    def is_complete(self) -> bool:
        return self._complete

    @_at_boundary
    def peek_next(self, n: int = 1) -> list[Event]:
        """The next `n` model events in the order they will run (nothing is run)."""
        n = _positive_int(n, "peek_next(n)")
        live = (
            e for e in self._sim._events.entries
            if e[1] and not (e[3]._x is not None and e[3]._x.cancelled)
        )
        return [e[3] for e in heapq.nsmallest(n, live, key=lambda e: e[:3])]

    # ---- driving ----------------------------------------------------------------------
    @_at_boundary
    def pause(self) -> None:
        """Pause after the current event (from a callback during a run), or, before a run
        starts, make the next `run()` return at once, paused."""
        if self._complete:
            raise RuntimeError("the simulation is complete; there is nothing to pause")
        if self._running:
            self._fired = self._fired or "pause()"
            self._sim.request_pause("pause()")
        else:
            self._pause_before_start = True

    def resume(self, *, ignore_breakpoints: bool = False) -> SimulationSummary:
        """Continue a paused simulation to the next pause or the end; returns the summary.

        ``ignore_breakpoints=True`` runs to the end with no breakpoint firing (they stay
        armed for later runs; time and event-count breakpoints passed meanwhile are
        removed). `pause()`, Ctrl-C and observer faults still pause."""
        owner = self._run_thread
        if owner is not None and owner != threading.get_ident():
            raise RuntimeError(_ELSEWHERE)
        if not self._paused:
            state = "complete" if self._complete else (
                "running" if self._running else "not started")
            hint = {"not started": "; use sim.run() to start it",
                    "running": " (resume() was called from a callback during the run)",
                    "complete": "; there is nothing left to run"}[state]
            raise RuntimeError(f"resume() needs a paused simulation, but it is not paused "
                               f"({state}){hint}")
        return self.run(ignore_breakpoints=ignore_breakpoints)

    def run_to_end(self) -> SimulationSummary:
        """Run (or continue) to the end, ignoring breakpoints; returns the summary.
        Same as ``resume(ignore_breakpoints=True)``, and also starts a fresh run."""
        if self._complete:
            return self._sim.summary(self._stop_reason)
        return self.run(ignore_breakpoints=True)

    def step(self, n: int = 1) -> list[Event]:
        """Process the next `n` model events and return them (fewer if the run ends or a
        breakpoint fires first). The simulation is paused afterwards unless complete."""
        n = _positive_int(n, "step(n)")
        if self._complete:
            return []
        collected: list[Any] = []
        self._collect = collected
        try:
            self._advance(max_events=n)
        finally:
            self._collect = None
        return collected

    def run_until(self, time: float | Instant | Any) -> SimulationSummary:
        """Run until simulated `time` (pausing before any later event); returns the summary."""
        t = time_of(time, "run_until(time)")
        now = self._sim.clock.now()
        if t < now:
            raise ValueError(f"run_until({t:g}) is in the past: the simulation is at {now:g} s")
        return self.run(until_ns=_ticks(t))

    def run(self, until_ns: int | None = None, max_events: int | None = None,
            ignore_breakpoints: bool = False) -> SimulationSummary:
        """What `sim.run()` calls: advance and return a `SimulationSummary`."""
        self._ignore_next = bool(ignore_breakpoints)
        reason = self._advance(max_events=max_events, until_ns=until_ns)
        summary = self._sim.summary(reason)
        summary.paused_by = self._paused_by if self._paused else None
        return summary

    def _advance(self, max_events: int | None = None, until_ns: int | None = None) -> str:
        """Own the run for this thread, run, then serve what other threads asked for."""
        me = threading.get_ident()
        sim = self._sim
        with self._lock:
            owner = self._run_thread
            if owner is not None:
                if owner == me:
                    raise RuntimeError(
                        "the simulation is already running (called from a callback?)")
                raise RuntimeError(_ELSEWHERE)
            self._run_thread = me
        # Ctrl-C pauses at the next event boundary (only the main thread gets signals,
        # and only a handler the user did not replace is taken over)
        old_handler = None
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            old_handler = signal.signal(signal.SIGINT, self._on_sigint)
        try:
            return self._advance_owned(max_events, until_ns)
        finally:
            try:
                with self._lock:
                    self._run_thread = None
                    sim.drop_interrupts()  # (no thread pushes one any more)
                    # calls that arrived after the loop's last boundary, served under
                    # the lock: the state is settled and no other thread's call runs now
                    self._serve_calls()
            finally:
                # last: a Ctrl-C from here on is the caller's ordinary KeyboardInterrupt
                self._sigint = False
                if old_handler is not None:
                    signal.signal(signal.SIGINT, old_handler)

    def _advance_owned(self, max_events: int | None = None,
                       until_ns: int | None = None) -> str:
        if self._running:
            raise RuntimeError("the simulation is already running (called from a callback?)")
        if self._complete:
            return self._stop_reason or "complete"
        sim = self._sim
        if self._pause_before_start:
            self._pause_before_start = False
            self._set_paused("pause()", "paused")
            return "paused"
        self._fired = None
        sim.failed_event = sim.failure = None
        if not self._started:
            self._started = True
            self._notify("on_start")
        else:
            # what was recorded so far is settled before anything runs again: a model
            # changed while stopped (a server's queue or concurrency) is then seen
            # at once by the instrumentation, not mixed with what runs next
            self._rt.bus.flush()
            if self._paused:
                self._notify("on_resume")
        self._paused = False
        self._paused_by = None
        self._ignoring, self._ignore_next = self._ignore_next, False
        self._arm_time()
        self._running = True
        bus = self._rt.bus
        self._deliveries.attach(bus)
        if self._fired is not None:  # an observer's on_start/on_resume raised
            sim.request_pause(self._fired)
        before = sim._events_processed
        hook, counts, limit = self._set_up_loop(max_events)
        try:
            # a time-based Rx operator that would fall back to a wall-clock thread while
            # the simulation runs raises WallClockError instead of silently doing so
            with _forbid_wall_clock():
                while True:
                    reason = sim._run_loop(max_events=limit, until_ns=until_ns)
                    if not (reason == "paused" and self._rearm and self._fired is None
                            and not (self._time_bp_ns is not None
                                     and sim._pause_at_ns is None)):
                        break
                    # breakpoints or hooks changed during the run (from another
                    # thread or a callback): set the loop up again and go on
                    self._rearm = False
                    sim.paused_by = None
                    done = sim._events_processed - before
                    if max_events is not None and done >= max_events:
                        reason = "max_events"
                        break
                    self._arm_time()
                    hook, counts, limit = self._set_up_loop(
                        None if max_events is None else max_events - done)
        except BaseException as exc:
            self._running = False
            self._paused = True
            failure = sim.failure if sim.failed_event is not None else None
            self._paused_by = f"error: {failure or f'{type(exc).__name__}: {exc}'}"
            self._stop_reason = "error"
            raise
        finally:
            if self._ignoring:
                self._ignoring = False
                self._drop_passed_breakpoints()
            # observations still queued for subscribers: delivered now, at the boundary
            # where the loop stopped (an observer fault here joins the pause reason)
            try:
                self._deliveries.drain()
            finally:
                self._deliveries.detach(bus)
            self._running = False
            self._rearm = False
            sim._pause_requested = False  # (a fault's request, already honoured)
            sim._hook = None
            sim._watch_types = sim._on_watched = None
            logged = sim._event_log is not None
            sim._event_log = None
            if hook is None and sim._events_processed != before:
                # events ran without a per-event hook: the last one is the event log's,
                # or unknown (an older one would be a lie)
                self._last_event = sim.last_logged_event if logged else None
        if reason in _DONE:
            self._complete = True
            self._stop_reason = reason
            self._rt.finish()
            self._notify("on_end")
            return reason
        if reason == "paused":
            by = self._fired
            if self._time_bp_ns is not None and sim._pause_at_ns is None:
                by = self._fire_time_breakpoints() or by
            by = by or sim.paused_by or "pause()"
        elif reason == "max_events":
            by = self._fired or ("step()" if self._collect is not None else "max_events")
            if counts and sim._events_processed >= min(counts):
                by = self._fire_count_breakpoints() or by
                reason = "paused"
        else:  # until
            by = self._fired or f"run_until({sim.clock.now():g})"
            if self._time_bp_ns is not None and self._time_bp_ns <= sim.now_ns:
                # run_until(t) and a time breakpoint at t stop at the same point: fire the
                # breakpoint now, or the next resume would pause again without progress
                by = self._fire_time_breakpoints() or by
        # a step's pause says so in both fields (not paused_by "step()" with the
        # loop's own "max_events")
        self._set_paused(by, "step" if by == "step()" and reason == "max_events" else reason)
        return reason

    def _set_up_loop(self, max_events: int | None) -> tuple[Any, list[int], int | None]:
        """The loop's per-event work for the next stretch: (hook, event-count breakpoint
        targets, event limit)."""
        sim = self._sim
        sim._hook = hook = self._rt.make_hook()
        watched = self._watched_types()
        sim._watch_types = frozenset(watched) if watched else None
        sim._on_watched = self._on_watched_event if watched else None
        done = sim._events_processed
        # event_count breakpoints need no per-event hook: the loop stops by count
        counts = [] if self._ignoring else [
            a.bp.event_count for a in self._armed.values()
            if a.bp.kind == "event_count" and not a.bp.hits and a.bp.event_count > done]
        limit = max_events
        if counts:
            to_next = min(counts) - done
            limit = to_next if limit is None else min(limit, to_next)
        return hook, counts, limit

    def _drop_passed_breakpoints(self) -> None:
        """After a run that ignored breakpoints: time and event-count breakpoints it went
        past can never become true again; remove them."""
        sim = self._sim
        for armed in list(self._armed.values()):
            bp = armed.bp
            if (bp.kind == "time" and _ticks(bp.time) <= sim.now_ns
                    or bp.kind == "event_count" and bp.event_count <= sim._events_processed):
                self._armed.pop(bp.id, None)
                armed.disarm()

    def _set_paused(self, by: str, reason: str) -> None:
        self._paused = True
        self._paused_by = by
        self._stop_reason = reason
        self._notify("on_pause")

def _forbid_wall_clock() -> Any:
    """`happysim_rx.forbid_wall_clock()` once reactivex is loaded; before that no
    wall-clock scheduler can exist and nothing needs refusing (a run that nobody
    subscribes to does not import reactivex for it)."""
    if "reactivex" not in sys.modules:
        return contextlib.nullcontext()
    from happysim_rx.scheduler import forbid_wall_clock

    return forbid_wall_clock()


def _positive_int(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{what} needs an int >= 1, got {n!r}")
    if n < 1:
        raise ValueError(f"{what} needs an int >= 1, got {n}")
    return n
