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
import difflib
import functools
import glob
import heapq
import signal
import sys
import threading
import warnings
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from happysim_rx.observation import ObservationKind
from happysimulator.core.control.adapter import adapt as adapt_peer_breakpoint
from happysimulator.core.control.adapter import is_peer_breakpoint
from happysimulator.core.temporal import Instant
from happysimulator.observability.breakpoints import _OPERATORS, Breakpoint, seconds_of
from happysimulator.observability.delivery import Deliveries, observer_label
from happysimulator.observability.observer import SimulationObserver
from happysimulator.observability.pending_call import PendingCall
from happysimulator.observability.state import SimulationState

_ORDERING = frozenset({"gt", "ge", "lt", "le"})  # truth changes only across the threshold

if TYPE_CHECKING:
    from happysimulator.core.event import Event
    from happysimulator.instrumentation.summary import SimulationSummary
    from happysimulator.observability.integration import ObservabilityRuntime

_NS = 1_000_000_000
_DONE = ("complete", "end_time")
_ELSEWHERE = (
    "the simulation is already running in another thread; a second run()/resume()/"
    "step() cannot run at the same time: call sim.control.pause() and wait for that "
    "run to return, or use sim.control.call(fn) to act at an event boundary")


def _at_boundary(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run a `SimulationControl` method through `call` (safe from any thread)."""

    @functools.wraps(method)
    def wrapper(self: SimulationControl, *args: Any, **kwargs: Any) -> Any:
        if self._run_thread == threading.get_ident():
            return method(self, *args, **kwargs)
        return self.call(method, self, *args, **kwargs)

    return wrapper


class _Armed:
    """A breakpoint wired to its trigger (stream subscription, timer or per-event check)."""

    def __init__(self, bp: Breakpoint, control: SimulationControl) -> None:
        self.bp = bp
        self.control = control
        self.subscription: Any = None
        self.last_truth = False
        self.sources: dict[str, list[Any]] = {}  # metric_condition: [holding, timer, fired]

    def disarm(self) -> None:
        if self.subscription is not None:
            self.subscription.dispose()
            self.subscription = None
        for st in self.sources.values():
            if st[1] is not None:
                st[1].cancel()
        self.sources.clear()


class SimulationControl:
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
        self._deliveries = Deliveries(self._sim, self._observer_fault)
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

    def _serve_calls(self) -> None:
        """Run the calls other threads handed over (on the run thread, at a boundary)."""
        while self._calls:
            with self._lock:
                jobs, self._calls = self._calls, []
            for job in jobs:
                job.run()

    def _on_interrupt(self) -> bool:
        """The run loop reached the boundary an interrupt asked for; True to pause."""
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
        t = seconds_of(time, "run_until(time)")
        now = self._sim.clock.now()
        if t < now:
            raise ValueError(f"run_until({t:g}) is in the past: the simulation is at {now:g} s")
        return self.run(until_ns=round(t * _NS))

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
        bus.defer = self._deliveries.defer
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
                bus.defer = None
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
            if self._time_bp_ns is not None and self._time_bp_ns <= sim._now_ns:
                # run_until(t) and a time breakpoint at t stop at the same point: fire the
                # breakpoint now, or the next resume would pause again without progress
                by = self._fire_time_breakpoints() or by
        self._set_paused(by, reason)
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
            if (bp.kind == "time" and round(bp.time * _NS) <= sim._now_ns
                    or bp.kind == "event_count" and bp.event_count <= sim._events_processed):
                self._armed.pop(bp.id, None)
                armed.disarm()

    def _set_paused(self, by: str, reason: str) -> None:
        self._paused = True
        self._paused_by = by
        self._stop_reason = reason
        self._notify("on_pause")

    # ---- breakpoints ------------------------------------------------------------------
    @_at_boundary
    def add_breakpoint(self, breakpoint: Breakpoint) -> Breakpoint:
        """Arm `breakpoint`; returns it (its `id` can be given to `remove_breakpoint`).

        happysim 0.2.5 breakpoint classes (``TimeBreakpoint``, ``MetricBreakpoint``, any
        object with ``should_break(context)``) are accepted and returned converted."""
        if not isinstance(breakpoint, Breakpoint) and is_peer_breakpoint(breakpoint):
            breakpoint = adapt_peer_breakpoint(breakpoint, self._sim)
        if not isinstance(breakpoint, Breakpoint):
            raise TypeError(f"expected a Breakpoint, got {type(breakpoint).__name__}")
        if breakpoint.id in self._armed:
            return breakpoint
        armed = _Armed(breakpoint, self)
        kind = breakpoint.kind
        now = self._sim.clock.now()
        if kind == "time" and breakpoint.time < now:
            raise ValueError(
                f"time breakpoint at {breakpoint.time:g} s is in the past (now {now:g} s)")
        if kind == "event_count" and breakpoint.event_count <= self._sim.events_processed:
            raise ValueError(
                f"event_count breakpoint {breakpoint.event_count} is already passed "
                f"({self._sim.events_processed} events processed)")
        if kind == "metric_condition":
            self._arm_metric(armed)
        elif kind == "when":
            armed.subscription = breakpoint.when.subscribe(
                on_next=lambda value, a=armed: self._fire(a, _detail(value)))
        elif kind == "anomaly":
            attach = getattr(breakpoint.anomaly, "attach", None)
            if attach is not None:
                attach(self._sim)
            stream = getattr(breakpoint.anomaly, "anomalies", breakpoint.anomaly)
            if not hasattr(stream, "subscribe"):
                raise TypeError("anomaly must be an AnomalyDetector (or an Observable)")
            armed.subscription = stream.subscribe(
                on_next=lambda value, a=armed: self._fire(a, _detail(value)))
        self._armed[breakpoint.id] = armed
        self._changed()
        return breakpoint

    @_at_boundary
    def remove_breakpoint(self, breakpoint: Breakpoint | int) -> None:
        """Disarm a breakpoint given itself or its id (KeyError if unknown)."""
        bid = breakpoint.id if isinstance(breakpoint, Breakpoint) else breakpoint
        armed = self._armed.pop(bid, None)
        if armed is None:
            raise KeyError(
                f"no breakpoint with id {bid!r}; armed ids: {sorted(self._armed) or 'none'}")
        armed.disarm()
        self._changed()

    @_at_boundary
    def list_breakpoints(self) -> list[Breakpoint]:
        return [a.bp for a in self._armed.values()]

    @_at_boundary
    def clear_breakpoints(self) -> None:
        for armed in self._armed.values():
            armed.disarm()
        self._armed.clear()
        self._changed()

    def _changed(self) -> None:
        """Breakpoints or per-event hooks changed: a running loop must be set up again
        (it keeps its per-event checks in locals) before the next event."""
        if self._running and not self._rearm:
            self._rearm = True
            sim = self._sim
            sim._pause_requested = True
            sim.clock.call_at(sim.clock.now(), _noop)  # wakes the loop at this boundary

    def _fire(self, armed: _Armed, detail: str = "") -> None:
        bp = armed.bp
        if bp.id not in self._armed or self._ignoring:
            return
        bp.hits += 1
        t = self._sim.clock.now()
        self._fired = f"{bp.describe()}{detail} at t={t:g}s"
        if bp.one_shot:
            self.remove_breakpoint(bp)
        self._sim.request_pause(self._fired)

    def _arm_time(self) -> None:
        # a time can only be reached once: a kept (one_shot=False) time breakpoint that
        # already fired must not pause every later resume at the same instant again
        times = [] if self._ignoring else [
            round(a.bp.time * _NS) for a in self._armed.values()
            if a.bp.kind == "time" and not a.bp.hits]
        self._time_bp_ns = min(times) if times else None
        self._sim._pause_at_ns = self._time_bp_ns

    def _fire_time_breakpoints(self) -> str | None:
        now_ns = self._sim._now_ns
        fired = None
        for armed in list(self._armed.values()):
            if (armed.bp.kind == "time" and not armed.bp.hits
                    and round(armed.bp.time * _NS) <= now_ns):
                self._fire(armed)
                fired = self._fired
        self._sim._pause_requested = False  # the loop already stopped for this pause
        self._time_bp_ns = None
        return fired

    def _fire_count_breakpoints(self) -> str | None:
        done = self._sim._events_processed
        fired = None
        for armed in list(self._armed.values()):
            bp = armed.bp
            if bp.kind == "event_count" and not bp.hits and bp.event_count <= done:
                self._fire(armed)
                fired = self._fired
        self._sim._pause_requested = False  # the loop already stopped for this pause
        return fired

    def _arm_metric(self, armed: _Armed) -> None:
        cond = armed.bp.metric_condition
        rt = self._rt
        if not (rt.config.enabled and rt.config.metrics):
            raise ValueError(
                "metric breakpoints need recorded metrics, but this simulation's "
                "ObservabilityConfig has metrics off; use ObservabilityConfig.default()")
        known = [(t.source, t.name) for t in rt.bus.topics(ObservationKind.METRIC)]
        if not any(fnmatchcase(s, cond.source) and fnmatchcase(n, cond.name) for s, n in known):
            names = sorted({f"{s}.{n}" for s, n in known})
            close = difflib.get_close_matches(f"{cond.source}.{cond.name}", names, n=3)
            warnings.warn(
                f"no series {cond.source}.{cond.name} is known yet; the breakpoint fires only "
                f"if one appears. Did you mean: {', '.join(close) or 'n/a'}? "
                f"Known: {', '.join(names[:20]) or 'none'}",
                stacklevel=3,
            )
        for_ = cond.for_
        clock = self._sim.clock

        compare = _OPERATORS[cond.operator]
        threshold = cond.threshold
        sources = armed.sources

        hysteresis = cond.hysteresis
        rearms = cond.rearms
        cooldown = cond.cooldown
        last_fired: list[float | None] = [None]

        def fire(st: list, source: str, value: Any, onset: float | None = None) -> None:
            st[2] = True  # (this episode is done with, fired or not)
            now = clock.now()
            if cooldown and last_fired[0] is not None and now < last_fired[0] + cooldown:
                return  # within the cooldown: the episode is ignored
            last_fired[0] = now
            # a sustained condition names the value that began the episode, and when: the
            # value at the pause may differ (the condition only had to keep holding)
            detail = (f" ({source}={value:g})" if onset is None
                      else f" ({source}={value:g} since t={onset:g}s)")
            self._fire(armed, detail)

        def on_value(source: str, time_s: float, value: Any) -> None:  # every observation
            st = sources.get(source)
            if not compare(value, threshold):
                if st is not None and (st[0] or st[1] is not None):
                    if hysteresis and not rearms(value):
                        return  # inside the hysteresis band: the episode goes on
                    st[0] = st[2] = False
                    if st[1] is not None:
                        st[1].cancel()
                        st[1] = None
                return
            if st is None:
                st = sources[source] = [False, None, False]
            if st[0]:
                return  # still true: edge-triggered, already fired or timing
            st[0] = True
            if not for_:
                fire(st, source, value)
                return
            start_timer(st, time_s, value, source)

        def start_timer(st: list, t0: float, value: Any, source: str) -> None:
            def elapsed() -> None:
                st[1] = None
                if st[0] and not st[2]:
                    fire(st, source, value, t0)

            st[1] = clock.call_at(t0 + for_, elapsed)

        if cond.operator in _ORDERING:
            # its truth changes only when the value crosses the threshold: emitters may
            # skip the values in between (a queue-depth breakpoint then costs ~nothing)
            # (with hysteresis, the re-arm level too)
            level = cond.rearm_level
            on_value.thresholds = (  # type: ignore[attr-defined]
                (threshold,) if level is None else tuple(sorted({threshold, level})))
        armed.subscription = rt.bus.listen(ObservationKind.METRIC, cond.name, cond.source,
                                           on_value)
        # A gauge that already satisfies the condition when the breakpoint is armed is in
        # an episode that began before: edge-triggered, it does not fire at once, but a
        # `for_` condition starts timing now (so "queue_depth > 50 for 5 s" armed while the
        # queue is at 60 fires 5 s later if the queue stays above 50).
        store = rt.query.metric_store
        for series in store.select(cond.name, cond.source) if store is not None else ():
            if series.series_kind != "gauge" or series.source in armed.sources:
                continue
            last = (rt.query.metrics(glob.escape(series.name))
                    .from_entity(glob.escape(series.source)).aggregate("last").execute().scalar)
            if last is None or not cond.holds(last):
                continue
            st = armed.sources[series.source] = [True, None, False]
            if for_:
                start_timer(st, clock.now(), last, series.source)

    # per-event checks, run by the runtime's hook
    def _needs_hook(self) -> bool:
        return bool(self._event_hooks) or self._collect is not None or (
            not self._ignoring and any(a.bp.kind == "condition" for a in self._armed.values()))

    def _watched_types(self) -> dict[Any, list[_Armed]]:
        watched: dict[Any, list[_Armed]] = {}
        if self._ignoring:
            return watched
        for armed in self._armed.values():
            if armed.bp.kind == "event_type":
                watched.setdefault(armed.bp.event_type, []).append(armed)
        return watched

    def _on_watched_event(self, ev: Any) -> bool:
        """The engine saw an event of a watched type (no per-event hook needed)."""
        self._last_event = ev
        for armed in self._watched_types().get(ev.event_type, ()):
            self._fire(armed)
        if self._sim._pause_requested:
            self._sim._pause_requested = False
            return True
        return False

    def _event_checker(self) -> Callable[[Any], None] | None:
        """The per-event check of condition breakpoints for the next stretch of the run
        (None when there are none; event types are watched by the engine itself)."""
        others = [a for a in self._armed.values() if a.bp.kind == "condition"]
        if not others or self._ignoring:
            return None
        fire = self._fire

        def check(ev: Any) -> None:
            for armed in others:
                try:
                    truth = bool(armed.bp.condition(self._state()))
                except Exception as exc:
                    self._observer_fault(f"breakpoint condition {armed.bp.describe()!r}", exc)
                    continue
                if truth and not armed.last_truth:
                    fire(armed)
                armed.last_truth = truth

        return check

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
        return self._sim.clock.call_at(seconds_of(time, "at_time(time)"), fn)

    def _notify(self, method: str) -> None:
        if not self._observers:
            return
        state = self._state()
        for obs in list(self._observers):
            try:
                getattr(obs, method)(state)
            except Exception as exc:
                self._observer_fault(f"{type(obs).__name__}.{method}", exc)


def _forbid_wall_clock() -> Any:
    """`happysim_rx.forbid_wall_clock()` once reactivex is loaded; before that no
    wall-clock scheduler can exist and nothing needs refusing (a run that nobody
    subscribes to does not import reactivex for it)."""
    if "reactivex" not in sys.modules:
        return contextlib.nullcontext()
    from happysim_rx.scheduler import forbid_wall_clock

    return forbid_wall_clock()


def _noop() -> None:
    return None


def _positive_int(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{what} needs an int >= 1, got {n!r}")
    if n < 1:
        raise ValueError(f"{what} needs an int >= 1, got {n}")
    return n


def _detail(value: Any) -> str:
    if hasattr(value, "onset") and hasattr(value, "metric"):  # an AnomalyReport
        return f" ({value.source}.{value.metric}={value.value:.4g}, onset t={value.onset:g}s)"
    text = repr(value)
    return f" ({text[:80]})"
