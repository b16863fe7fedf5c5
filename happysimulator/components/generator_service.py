"""A `QueuedResource`'s service of one request by a generator ``handle_queued_event``.

A `_Service` is a `Process` whose end runs the resource's bookkeeping (`_done`). The
service of a resource with the inline bookkeeping (``_plain`` LEAN), made while nobody
sees processed events (`Engine.unseen`), is a `_LeanService`: it is given a driver
(`process.drive`) when made, and a finished one is kept as a spare for a later request
(`QueuedResource._spares`), so a busy resource allocates no service objects; it resumes
by a `Wakeup` event of its own (the class of every internal event: see `Wakeup`). Its
`handle_event` resumes the generator and, when it returned, ends the service and starts
the next waiting request in the same frame (the hot path of user-written models: one
Python frame per resume, as a SimPy process has one ``_resume`` per event).
"""

from __future__ import annotations

from heapq import heappush
from math import floor as _floor
from types import GeneratorType
from typing import TYPE_CHECKING, Any

from happysimulator.core.component_instrumentation import DONE, Visit, trace_id
from happysimulator.core.event import Event, ProcessContinuation, Wakeup
from happysimulator.core.process import FINISHED, Process, drive

if TYPE_CHECKING:
    from happysimulator.components.queued_resource import QueuedResource

_new = object.__new__
PLAIN, LEAN = 1, 2  # `QueuedResource._plain` (0: counts apart or decides starts itself)
SPARES = 4  # finished service objects a resource keeps (`QueuedResource._spares`)


class _Service(Process):
    """One request's service by a generator ``handle_queued_event``: when the generator
    finishes, the resource's `_done` (which runs the request's completion hooks).

    Made by `service` (not ``__init__``): a resource starts one per request."""

    __slots__ = ("start_ns", "arr_ns")

    def _done(self, result: Any) -> None:
        self.entity._done(self.origin, self.start_ns, self.arr_ns)


class _LeanService(_Service):
    """The service of a resource that ends services with the inline bookkeeping
    (``QueuedResource._plain`` is LEAN), made while nobody sees processed events: it has
    a driver, serves the next waiting request itself when it finishes (else it is kept
    as a spare), and resumes by its own `Wakeup` events: ``_ev``, and ``_ev2`` (made
    when needed) for the request it serves next while ``_ev`` is being processed."""

    __slots__ = ("_ev2",)

    def handle_event(self, event: Event) -> Event | None:
        """`Process.handle_event`; when the generator returned while nothing is recorded
        and no completion hook waits (the M/M/c hot path of user-written models),
        `Process._finish` with the resource's `_done` and `_drain` written out."""
        value = self._send
        if value is not None:
            self._send = None
        y = self._step(value)
        sim = self.sim
        if y is not FINISHED:
            w = self._ev
            if y.__class__ is float and y >= 0.0 and self._own and w._x is None \
                    and sim.engine.unseen:
                t = sim.now_ns + _floor(y * 1e9 + 0.5)  # (`Process.handle_event`'s)
                w._time_ns = t
                heappush(sim._heap, (t, 1, next(sim._counter), w))
                return None
            return self._stepped(y)
        result = self._box[0]
        r = self.entity
        if r._hooks or r._plain != LEAN:
            return self._finish(result)  # (-> `_done`: the resource's own)
        now = sim.now_ns
        engine = sim.engine
        unseen = engine.unseen  # (set when a run starts: no handler changes it)
        now_ev = None
        if result is not None:
            if (result.__class__ is Event and result._x is None and result.target is not None
                    and result._time_ns == now and not engine.traced):
                now_ev = result
            else:
                sim.schedule_result(result)
        r.in_flight -= 1
        r.completed += 1
        r.busy_ns += now - self.start_ns
        i = r._instr
        q = r._queue
        seq = -1
        again = False  # (it serves the next waiting request itself)
        if now_ev is not None and (q or i is not None and i.live is not None):
            # it goes before what the next start (or a live delivery of the facts)
            # schedules for now: its heap sequence number is drawn first
            seq = next(sim._counter)  # (`Engine.next_seq`)
        if i is not None:  # (`_record_done` inline)
            done = self.origin
            i.done.append(now)
            if i.visit_facts:
                i.served.append(now - self.start_ns)
                i.traced_starts.append(self.arr_ns)
            if i.traced:
                c = done._ctx
                if c is None:  # (`trace_id` inline: a traced source's request has its id)
                    try:
                        tid = done._id
                    except AttributeError:
                        tid = None
                    i.traced_ids.append(trace_id(done) if tid is None else tid)
                else:
                    i.traced_ids.append(c["id"] if c.__class__ is dict else trace_id(done))
            if i.live is not None:
                i.live(DONE, now, Visit(self.arr_ns, self.start_ns, done))
        if q and not r._draining and r.in_flight < r._concurrency:
            # the next waiting request starts (`_drain` and `_begin` inline: the hot path
            # of a busy user-model resource)
            r._draining = True
            try:
                item = q.pop()
                if item is not None:  # (None: an active policy discarded all that waited)
                    event, arr = item
                    r.in_flight += 1
                    if i is not None:
                        b = i.depth_band
                        if b is not None and not b[0] < len(q) < b[1]:
                            i.depth_moved(now)
                        if i.start_facts or i.live is not None:  # (else nothing to record)
                            r._record_start(i, event, now, arr)
                    else:
                        arr = now  # (a span attached mid-service starts at its start)
                    res = r.handle_queued_event(event)
                    if res.__class__ is GeneratorType:
                        # this service object serves it (it is done), by its other
                        # `Wakeup`: the one being processed is reported as the request
                        # it served (a failure's `failed_event`, a pause's `last_event`)
                        w = self._ev2
                        if w is None:
                            w = self._ev2 = _wakeup(self, now, event)
                        if self._own and unseen and w._x is None:
                            # (`service`'s reuse of a spare, and its first step -- its
                            # `handle_event` -- written out)
                            self._ev2 = self._ev
                            self._ev = w
                            again = True
                            self.gen = res
                            self.origin = event
                            self.start_ns = w._time_ns = now
                            self.arr_ns = arr
                            w.event_type = event.event_type
                            c = event._ctx
                            w._ctx = event if c is None else c
                            x = event._x
                            if x is not None and x.daemon:
                                self._own = False
                            y = self._step(res)  # (sent to its driver: it starts)
                            if (y.__class__ is float and y >= 0.0 and self._own
                                    and w._x is None):
                                t = now + _floor(y * 1e9 + 0.5)  # (see `Process`)
                                w._time_ns = t
                                heappush(sim._heap, (t, 1, next(sim._counter), w))
                                res = None
                            else:
                                res = self._stepped(y)
                        else:
                            res = service(sim, res, event, r, now, arr).handle_event(None)
                        if res is not None:  # (it finished at once: an event for now)
                            sim.schedule_result(res)
                    else:
                        sim.schedule_result(res)
                        r._done(event, now, arr)
            finally:
                r._draining = False
            if q and r.in_flight < r._concurrency:  # (more room: the general way)
                r._drain(sim)
        if (not again and self._own and self._ev._x is None and unseen
                and len(r._spares) < SPARES):
            r._spares.append(self)  # (it serves a later request: see `service`)
        if seq >= 0:  # (`Engine.push_if_due` inline)
            heap = sim._heap
            if heap and heap[0][0] <= now:
                heappush(heap, (now, 1, seq, now_ev))
                return None
        # (else nothing was scheduled since it was made: the loop runs `now_ev` next, or
        # schedules it after what is due now, as the heap would order it)
        return now_ev


def service(sim: Any, gen: Any, request: Event, resource: QueuedResource, start_ns: int,
             arr_ns: int) -> _Service:
    """A service object for `request`: one of the resource's spares (finished ones, kept
    while nobody sees processed events: nobody else holds them), else a new one
    (`Process.__init__` for a `_Service`, written out; run_hooks False: the resource's
    `_done` runs the request's hooks)."""
    spares = resource._spares
    if spares:
        s = spares.pop()
        w = s._ev
        if s.sim is sim and sim.engine.unseen and w.event_type == request.event_type:
            # (the same type: the event log reads it after the handler returns; a spare
            # has a driver, see `_LeanService.handle_event`)
            s.gen = s._send = gen  # (sent to the driver: it starts)
            s.origin = request
            s.start_ns = w._time_ns = start_ns
            s.arr_ns = arr_ns
            c = request._ctx
            w._ctx = request if c is None else c
            x = request._x
            if x is not None and x.daemon:
                s._own = False
            return s
    x = request._x
    own = (x is None or not x.daemon) and not sim.engine.traced
    lean = own and sim.engine.unseen and resource._plain == LEAN
    s = _new(_LeanService if lean else _Service)
    s.sim = sim
    s.gen = gen
    s.origin = request
    s.entity = resource
    s.on_done = None
    s._send = None
    s.run_hooks = False
    s.start_ns = start_ns
    s.arr_ns = arr_ns
    s._time_ns = start_ns
    s.event_type = request.event_type
    s.target = s
    c = request._ctx
    s._ctx = request if c is None else c
    s._x = None
    s._own = own
    s._step = None
    s._ev = s
    if lean:
        drive(s)  # (it may serve again as a spare: its generators run through a driver)
        s._send = gen  # (sent to the driver: it starts)
        # its continuation: a `Wakeup` of its own, not itself (the run loop's reads of a
        # popped event then see one class, whatever it pops: see `Wakeup`)
        s._ev = _wakeup(s, start_ns, request)
        s._ev2 = None
    return s


def _wakeup(s: _LeanService, time_ns: int, request: Event) -> Wakeup:
    """A continuation event of `s` for `request`."""
    w = _new(Wakeup)
    w._time_ns = time_ns
    w.event_type = request.event_type
    w.target = s
    c = request._ctx
    w._ctx = request if c is None else c
    w._x = None
    w.kind = ProcessContinuation
    return w


__all__ = ["service"]
