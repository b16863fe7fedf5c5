"""The run loop of ``Simulation``: ``step()`` runs one event, ``_run_loop`` runs many.

Read it like SimPy's ``Environment.step``: pop the earliest heap entry; a plain model
event moves the clock to its time and calls ``event.target.handle_event(event)``; what
the handler returns is scheduled. Every other entry (a clock timer, an interrupt, a
daemon or cancelled event, one with completion hooks) goes through `_run_special`.

Immediate dispatch: when a handler returns an event for *now* (alone or as a list of
one) and nothing else in the heap is due by now, that event is exactly what the next pop
would return, so it runs at once, without the heap round trip (the source -> server ->
sink hand-offs of a queueing model: without it a plain M/M/1 run takes 1.36x as long,
benchmarks/results/2026-12-02-run-loop.txt; a toolkit request's client -> balancer ->
server hops). An event with completion hooks runs so too; its hooks run after its
handler's result is scheduled, as when it is popped (`_run_special`).

Observations a handler queued for Rx subscribers (``_pending``) are delivered by
``_deliver()`` before the next heap entry of any kind (a follow-on event due now then
waits in the heap): subscriber code runs between events, never inside one.

`_run_loop` reads the seams once into a `LoopPlan` and runs one of two variants:
`_run_checked` when something may stop the run after an event (an event limit, watched
event types, a per-event hook or a trace recorder), `_run_fast` otherwise. Both append
to the processed-event log when there is one (three list appends per event).
"""

from __future__ import annotations

import gc
import time as _wall
from collections.abc import Callable
from dataclasses import dataclass
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

from happysimulator.core._active import ACTIVE
from happysimulator.core.engine import recyclable_types
from happysimulator.core.event import Event, ProcessContinuation, new_event
from happysimulator.core.event_heap import TimerHandle
from happysimulator.core.temporal import past_horizon

if TYPE_CHECKING:
    from happysimulator.core.engine import Engine
    from happysimulator.core.event_heap import EventHeap

_NS = 1_000_000_000
_GC_GEN0 = 10_000
_INF = float("inf")
_NO_BOUND = (1 << 63) - 1  # int sentinel: int-int compares are cheaper than int-float
# heap time of an interrupt entry (see `interrupt`): before every real entry; the loop
# recognises it among the special entries, so it costs model events nothing
INTERRUPT_NS = -(1 << 62)

COMPLETE = "complete"
END_TIME = "end_time"
MAX_EVENTS = "max_events"
UNTIL = "until"
PAUSED = "paused"
# what `_run_special` did, besides a stop reason (or a 1-tuple: a model event ran and
# returned what the tuple holds, for the loop to schedule or run at once)
NEXT = "next"  # nothing to count: go on with the next entry (bounds may have moved)


@dataclass(frozen=True, slots=True)
class LoopPlan:
    """What one `_run_loop` call does besides running events, read once from the seams."""

    until_ns: int | None  # stop before any event later than this ("until")
    limit: int  # stop after this many model events ("max_events"); -1: no limit
    log: list | None  # the processed-event log: (t, target, event type) appended
    watch: frozenset | None  # event types whose events go to `_on_watched`
    hooked: bool  # a per-event hook or a trace recorder sees every event
    # pending events were handed out (`peek_next`): their holders may keep them, so no
    # event object is reused for another request for the rest of the simulation
    held: bool = False

    @classmethod
    def of(cls, sim: RunLoop, max_events: int | None, until_ns: int | None) -> LoopPlan:
        return cls(until_ns=until_ns, limit=-1 if max_events is None else max_events,
                   log=sim._event_log, watch=sim._watch_types,
                   hooked=sim._hook is not None or sim._trace is not None,
                   held=sim._events_held)

    @property
    def checked(self) -> bool:
        """Something may stop the run after a model event (else `_run_fast` runs)."""
        return self.hooked or self.limit > 0 or self.watch is not None

    @property
    def unseen(self) -> bool:
        """Nobody sees processed events of any type (`Engine.unseen`)."""
        return not self.hooked and not self.held and self.watch is None

    @property
    def may_recycle(self) -> bool:
        """Nobody keeps processed events (the log keeps no event objects), so components
        may reuse them (`Engine.may_recycle`)."""
        return not self.hooked and not self.held and (
            self.watch is None or self.watch.isdisjoint(recyclable_types()))


class RunLoop:
    """The run loop, mixed into `Simulation` (the attributes below are the seams it
    reads; docs/internals.md section 2)."""

    _heap: list
    _events: EventHeap
    _counter: Any
    engine: Engine
    now_ns: int
    _end_ns: int | None
    _events_processed: int
    events_cancelled: int
    _wall_s: float
    _hook: Callable[[Event], bool] | None
    _trace: Any
    _events_held: bool  # `LoopPlan.held`
    _pause_at_ns: int | None
    _watch_types: frozenset | None
    _on_watched: Callable[[Event], bool] | None
    _event_log: list | None
    _pause_requested: bool
    _on_interrupt: Callable[[], bool] | None
    # observations queued for Rx subscribers (observability/delivery.py): while the list
    # is not empty, the loop calls `_deliver()` (True: pause) before the next heap entry;
    # False when no subscriber can queue (read once per `_run_loop`)
    _pending: list | bool
    _deliver: Callable[[], bool]
    _on_timer_error: Callable[[Any, Exception], None] | None
    clock: Any
    control: Any
    paused_by: Any
    last_stop_reason: str | None
    last_logged_event: Event | None
    failed_event: Event | None
    failure: str | None
    _after_event: Callable[[Event, Any, Any], None]

    # ---- one event at a time ------------------------------------------------------------
    def step(self) -> Event | None:
        """Process the next model event (after the timers due before it) and return it.

        None when no event ran: the run is over, or stopped first (``end_time``, a pause);
        ``last_stop_reason`` says which. With observability this is
        ``sim.control.step(1)`` (pause bookkeeping, observers, breakpoints)."""
        if self.control is not None:
            ran = self.control.step(1)
            return ran[0] if ran else None
        if ACTIVE.sim is self:
            raise RuntimeError("the simulation is already running (step() called from a "
                               "handler or a timer?)")
        got: list[Event] = []
        outer = self._hook

        def keep(ev: Event) -> bool:
            got.append(ev)
            return outer is not None and outer(ev)

        self._hook = keep
        try:
            self._run_loop(max_events=1)
        finally:
            self._hook = outer
        return got[0] if got else None

    # ---- many events ----------------------------------------------------------------------
    def _run_loop(self, max_events: int | None = None, until_ns: int | None = None) -> str:
        """Process events; return why it stopped. Resumable: call again to continue.

        Stops when only daemon work is left (open-ended runs) or the heap is empty
        (``"complete"``), before any event later than ``end_time`` (``"end_time"``), after
        ``max_events`` model events (``"max_events"``), before any event later than
        ``until_ns`` (``"until"``), or on a pause (``"paused"``: ``_hook`` returned True,
        ``request_pause()``, or the next event is later than ``_pause_at_ns``).
        """
        if max_events is not None and max_events <= 0:
            return MAX_EVENTS
        if self._pause_requested:
            self._pause_requested = False
            self.last_stop_reason = PAUSED
            return PAUSED
        self.paused_by = None
        plan = LoopPlan.of(self, max_events, until_ns)
        self.engine.may_recycle = plan.may_recycle
        self.engine.unseen = plan.unseen
        prev_active, ACTIVE.sim = ACTIVE.sim, self
        # The loop allocates many short-lived tuples; with CPython's default gen-0
        # threshold (700) the cyclic GC then rescans the run's live objects (events,
        # recorded observations) over and over. A larger gen-0 threshold while the loop
        # runs measured 1.4x faster with full observability (benchmarks/README.md);
        # nothing is disabled, and the caller's settings are restored afterwards.
        gc_thresholds = gc.get_threshold()
        if gc_thresholds[0] and gc_thresholds[0] < _GC_GEN0:
            gc.set_threshold(_GC_GEN0, *gc_thresholds[1:])
        w0 = _wall.perf_counter()
        try:
            if self._end_ns is None and not self._events.has_live_events():
                reason = COMPLETE  # only daemon work left
            elif plan.checked:
                reason = self._run_checked(plan)
            else:
                reason = self._run_fast(plan)
        finally:
            self.engine.may_recycle = self.engine.unseen = True
            gc.set_threshold(*gc_thresholds)
            ACTIVE.sim = prev_active
            self._wall_s += _wall.perf_counter() - w0
        self.last_stop_reason = reason
        return reason

    def _run_fast(self, plan: LoopPlan) -> str:
        """The loop when nothing may stop the run after an event (`LoopPlan.checked`);
        the event log, if any, is appended to."""
        heap, counter, until_ns, log = self._heap, self._counter, plan.until_ns, plan.log
        pop, push, pending = heappop, heappush, self._pending  # (locals: faster)
        deliver = self._deliver
        bound, bound_reason = self._bound(until_ns)
        base = self._events_processed
        count = logged_t = 0
        ev = logged = None
        try:
            while heap or pending:
                if pending:  # the last handler's observations, before anything else
                    self._events_processed = base + count
                    if deliver():  # (False: all delivered, `pending` is empty)
                        return PAUSED
                    if not heap:
                        break
                t, pri, seq, ev = pop(heap)
                if t > bound:
                    push(heap, (t, pri, seq, ev))
                    return self._stop_at_bound(bound, bound_reason, until_ns)
                if pri and ev._x is None:  # a plain model event
                    self.now_ns = t
                    target = ev.target
                    res = target.handle_event(ev)
                else:
                    done = self._run_special(t, pri, seq, ev, base + count)
                    if done.__class__ is not tuple:
                        if done is not NEXT:
                            return done
                        bound, bound_reason = self._bound(until_ns)
                        continue
                    res, target = done[0], ev.target
                count += 1
                if log is not None:
                    log.append(t)
                    log.append(target)
                    log.append(ev.event_type)
                    logged, logged_t = ev, t
                # `ev` ran and returned `res`. (`while True` + `break`, not `while res is
                # not None`: the latter measured 1.17x slower runs on CPython 3.11.)
                while True:
                    if res is None:
                        break
                    x = None
                    if (res.__class__ is not Event or res._x is not None
                            or res.target is None or res._time_ns < t):
                        res = self._dispatchable(ev, res, t)  # (lists, hooks, generators)
                        if res is None:
                            break
                        x = res._x
                    if res._time_ns > t or heap and heap[0][0] <= t or pending:
                        push(heap, (res._time_ns, 1, next(counter), res))
                        break
                    ev = res  # immediate dispatch (module docstring)
                    target = ev.target
                    res = target.handle_event(ev)
                    if x is not None and x.on_complete:
                        self._after_event(ev, res, x)  # (then its completion hooks)
                        res = None
                    count += 1  # (a second log site: it sees plain Events only, so CPython
                    if log is not None:  # specializes it; one shared site: full() 3 % slower)
                        log.append(t)
                        log.append(target)
                        log.append(ev.event_type)
                        logged = ev  # (`logged_t` is `t` already: one instant)
            return COMPLETE
        except Exception as exc:
            self._failed(exc, ev, base + count)
            raise
        finally:
            self._events_processed = base + count
            if logged is not None:
                self._keep_logged(logged, logged_t)

    def _run_checked(self, plan: LoopPlan) -> str:
        """The loop when something may stop the run after an event: the event limit,
        watched types, the hook or the trace recorder (and the event log, if any)."""
        heap, counter, until_ns = self._heap, self._counter, plan.until_ns
        pop, push, pending, deliver = heappop, heappush, self._pending, self._deliver
        log, limit, watch, hooked = plan.log, plan.limit, plan.watch, plan.hooked
        bound, bound_reason = self._bound(until_ns)
        pause_at = self._pause_at_ns
        base = self._events_processed
        count = logged_t = 0
        ev = logged = None
        try:
            while heap or pending:
                if pending:  # (as in `_run_fast`)
                    self._events_processed = base + count
                    if deliver():
                        return PAUSED
                    if not heap:
                        break
                t, pri, seq, ev = pop(heap)
                if t > bound:
                    push(heap, (t, pri, seq, ev))
                    return self._stop_at_bound(bound, bound_reason, until_ns)
                if pri and ev._x is None:
                    self.now_ns = t
                    target = ev.target
                    res = target.handle_event(ev)
                else:
                    done = self._run_special(t, pri, seq, ev, base + count)
                    if done.__class__ is not tuple:
                        if done is not NEXT:
                            return done
                        pause_at = self._pause_at_ns
                        bound, bound_reason = self._bound(until_ns)
                        continue
                    res, target = done[0], ev.target
                while True:  # `ev` ran and returned `res`
                    now_res = None  # `res` if it may run at once (immediate dispatch)
                    if res is not None and (res.__class__ is not Event or res._x is not None
                                            or res.target is None or res._time_ns < t):
                        res = self._dispatchable(ev, res, t)  # (lists, hooks, generators)
                    if res is not None:
                        if res._time_ns == t:
                            now_res = res
                        else:
                            push(heap, (res._time_ns, 1, next(counter), res))
                    count += 1
                    if log is not None:
                        log.append(t)
                        log.append(target)
                        log.append(ev.event_type)
                        logged, logged_t = ev, t
                    stop = (PAUSED if hooked and self._hooked(ev, t, base + count)
                            or watch is not None and ev.event_type in watch
                            and self._watched(ev, base + count)
                            else MAX_EVENTS if count == limit else None)
                    if now_res is None:
                        break
                    if stop is not None or heap and heap[0][0] <= t or pending:
                        # (a hook or watcher scheduled something for now: it goes first)
                        push(heap, (t, 1, next(counter), now_res))
                        break
                    ev = now_res
                    target, x = ev.target, ev._x
                    res = target.handle_event(ev)
                    if x is not None and x.on_complete:
                        self._after_event(ev, res, x)  # (then its completion hooks)
                        res = None
                if stop is not None:
                    return stop
                if self._pause_at_ns != pause_at:  # a hook or watcher moved the time bound
                    pause_at = self._pause_at_ns
                    bound, bound_reason = self._bound(until_ns)
            return COMPLETE
        except Exception as exc:
            self._failed(exc, ev, base + count)
            raise
        finally:
            self._events_processed = base + count
            if logged is not None:
                self._keep_logged(logged, logged_t)

    # ---- helpers ----------------------------------------------------------------------------
    def _run_special(self, t: int, pri: int, seq: int, item: Any, processed: int) -> str:
        """Run a heap entry other than a plain model event: an interrupt, a clock timer,
        or a model event with extras (daemon, cancelled, completion hooks).

        Returns ``(result,)`` (a model event ran: the loop schedules or runs its
        ``result``), NEXT (nothing to count), or why to stop: COMPLETE (only daemon work
        is left) or PAUSED. ``processed`` is the number of model events run so far,
        published before other code runs."""
        heap, events = self._heap, self._events
        if t == INTERRUPT_NS:
            # another thread or a signal handler wants an event boundary: serve it (the
            # clock stays at the last event's time)
            self._events_processed = processed
            on_interrupt = self._on_interrupt
            return PAUSED if on_interrupt is not None and on_interrupt() else NEXT
        if not pri or item._x.daemon:
            # Nothing live below it: done -- except for a timer due at the current
            # instant, the boundary of the event that just ran (e.g. the delivery of its
            # observations to a metric breakpoint, which may pause on the last event).
            if (self._end_ns is None and len(heap) < events.ndaemon
                    and (pri or t > self.now_ns)):
                heappush(heap, (t, pri, seq, item))
                return COMPLETE
            if heap and heap[0][0] == INTERRUPT_NS:
                # an interrupt (not counted in ndaemon) may have inflated len(heap) above:
                # serve it first, then decide again
                heappush(heap, (t, pri, seq, item))
                return NEXT
            events.ndaemon -= 1
        if pri:  # a model event with extras
            x = item._x
            if x.cancelled:
                self.events_cancelled += 1
                return NEXT
            self.now_ns = t
            res = item.target.handle_event(item)
            if x.on_complete:
                self._after_event(item, res, x)  # its result, then its completion hooks
                return (None,)
            return (res,)  # (no hooks: its result is handled like a plain event's)
        if item.cancelled:
            return NEXT
        self.now_ns = t
        self._events_processed = processed
        try:
            item.fn()
        except Exception as exc:
            if self._on_timer_error is None:
                raise
            self._on_timer_error(item.fn, exc)
        if self._pause_requested:
            self._pause_requested = False
            return PAUSED
        return NEXT

    def _dispatchable(self, ev: Event, res: Any, t: int) -> Event | None:
        """`ev` ran at ``t`` and returned `res`, not a plain event: an event (alone or a
        list of one) that may still run at once -- with completion hooks, neither daemon
        nor cancelled -- is returned; anything else is scheduled (or refused) here."""
        if res.__class__ is list and len(res) == 1 and res[0].__class__ is Event:
            res = res[0]
        x = res._x if res.__class__ is Event else None
        if (res.__class__ is Event and res.target is not None and res._time_ns >= t
                and (x is None or not (x.daemon or x.cancelled))):
            return res
        self._after_event(ev, res, None)  # (generators, longer lists, errors)
        return None

    def _bound(self, until_ns: int | None) -> tuple[int, str]:
        """The earliest time bound and the reason to give when the next entry is past it."""
        bound, reason = _NO_BOUND, COMPLETE
        p = self._pause_at_ns
        if p is not None:
            bound, reason = p, PAUSED
        if until_ns is not None and until_ns <= bound:
            bound, reason = until_ns, UNTIL
        e = self._end_ns
        if e is not None and e <= bound:
            bound, reason = e, END_TIME
        return bound, reason

    def _stop_at_bound(self, bound: int, reason: str, until_ns: int | None = None) -> str:
        """The next entry is later than ``bound``: the clock moves up to it -- except for
        a time breakpoint or a ``run(until=)`` that no event reaches: an open-ended run
        with only daemon work left ends at its last event, and a paused run resumed must
        end where the uninterrupted one does (so the breakpoint does not fire and the run
        is over), whether the next daemon tick comes before the bound or after it.

        Past the int64-ns horizon (``COMPLETE``), a finite entry that is not a daemon's
        (a continuation computed from a huge delay) is an error, not a silent end."""
        if reason == COMPLETE and self._heap:
            t, _, _, ev = self._heap[0]
            if t != _INF and not getattr(ev, "daemon", False):
                raise past_horizon(t)
        if self._end_ns is None and (reason == UNTIL
                                     or (reason == PAUSED and until_ns is None)):
            heap = self._heap
            # (interrupt entries, pushed from outside, are not counted among the daemon
            # ones: they are no live work either)
            live = len(heap) - self._events.ndaemon
            if live > 0 and heap[0][0] == INTERRUPT_NS:
                live -= sum(1 for e in heap if e[0] == INTERRUPT_NS)
            if live <= 0:
                return COMPLETE
        if bound > self.now_ns:
            self.now_ns = bound
        if reason == PAUSED:
            self._pause_at_ns = None
        return reason

    def _hooked(self, ev: Event, t: int, processed: int) -> bool:
        """After `ev` ran with a trace recorder or a hook: record it; True to pause."""
        self._events_processed = processed
        trace = self._trace
        if trace is not None:
            trace.record(t / _NS, "simulation.dequeue", event_type=ev.event_type,
                         target=getattr(ev.target, "name", None), event_id=ev.context["id"])
        hook = self._hook
        return hook is not None and hook(ev)

    def _watched(self, ev: Event, processed: int) -> bool:
        """An event of a watched type ran: True to pause."""
        self._events_processed = processed
        on_watched = self._on_watched
        return on_watched is not None and on_watched(ev)

    def _keep_logged(self, ev: Event, t: int) -> None:
        """`ev` is the newest event put in the log (at ``t``): keep it (or a copy, when
        its component reused it since) as `last_logged_event`."""
        if ev._time_ns != t or isinstance(ev, ProcessContinuation):
            # (a process or a resource may run a continuation event object again: a copy,
            # with the context of the request it served)
            ctx = ev._ctx
            ev = new_event(t, ev.event_type, ev.target)
            ev._ctx = ctx
        self.last_logged_event = ev

    def _failed(self, exc: Exception, ev: Any, processed: int) -> None:
        """Attach the simulated time, the event and its entity to a handler's exception."""
        self.failed_event = ev
        if isinstance(ev, Event):
            target = ev.target
            where = (f"while {getattr(target, 'name', None) or type(target).__name__} "
                     f"handled event {ev.event_type!r} at t={ev._time_ns / _NS:g}s")
        else:
            where = f"in timer {getattr(ev, 'fn', ev)!r} at t={self.now_ns / _NS:g}s"
        self.failure = f"{type(exc).__name__}: {exc} ({where})"
        exc.add_note(f"happysimulator: {where} (events processed before it: {processed})")

    # ---- stopping from outside ------------------------------------------------------------
    def request_pause(self, reason: Any = None) -> None:
        """Ask the run loop to stop after the current event (reason ``"paused"``)."""
        self._pause_requested = True
        if reason is not None:
            self.paused_by = reason
        # a timer at this very instant wakes the loop (in integer ns: the float seconds
        # of a large time may round to a later instant, which the last event never
        # reaches, and the pause would be lost)
        now = self.now_ns
        self._events.push_timer(now, TimerHandle(_noop, now))

    def interrupt(self) -> None:
        """Make the run loop call ``_on_interrupt()`` at the next event boundary.

        Safe from another thread or a signal handler: one C-level ``heappush`` of an
        entry that sorts before everything else, not counted among the daemon entries
        (so nothing else of the heap's bookkeeping is touched from outside the run
        thread). The loop drops leftovers when it stops (see `drop_interrupts`)."""
        heappush(self._heap, (INTERRUPT_NS, 0, next(self._counter), None))

    def drop_interrupts(self) -> None:
        """Remove interrupt entries the loop did not reach (call when it stopped)."""
        heap = self._heap
        while heap and heap[0][0] == INTERRUPT_NS:
            heappop(heap)


def _noop() -> None:
    return None


__all__ = ["RunLoop", "LoopPlan", "INTERRUPT_NS"]
