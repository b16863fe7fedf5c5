"""``Server``: a queued resource with a service-time distribution and a downstream."""

from __future__ import annotations

from collections.abc import Generator
from math import floor as _floor
from math import log as _log
from types import MethodType
from typing import Any

from happysimulator.components.queued_resource import QueuedResource
from happysimulator.core.component_instrumentation import (
    ARRIVED,
    DONE,
    DROP,
    NO_SPAN_PARENT,
    OPEN_SPAN_KEY,
    STARTED,
    trace_id,
)
from happysimulator.core.engine import declare_recyclable
from happysimulator.core.entity import Entity, bind_simulation
from happysimulator.core.event import Event, Wakeup, _Kind
from happysimulator.distributions.latency_distribution import (
    EXPO_INLINE,
    ExponentialLatency,
    LatencyDistribution,
    as_distribution,
)

_NS = 1_000_000_000
# (a service time is >= 0: `floor` is `int` there, a cheaper call; times the float 1e9,
# the same double as times the int, a specialized multiply)
_NS_F = 1e9
SERVICE_DONE = "service.done"
declare_recyclable(SERVICE_DONE)  # (`_complete` reuses its ServiceDone)


class ServiceDone(Event, metaclass=_Kind):
    """Internal completion event of a ``Server``: a `Wakeup` of this kind (its target is
    the server's ``done_port``; ``request``, ``start_ns``, ``arr_ns``)."""

    __slots__ = ()
    event_type = SERVICE_DONE  # class constant shadows the slot (never reassigned)


def _service_done() -> Wakeup:
    """A new completion event (its time, context and payload are set by the caller)."""
    ce = _new(Wakeup)
    ce.event_type = SERVICE_DONE
    ce._x = None
    ce.kind = ServiceDone
    return ce


class _DonePort:
    """Target of a server's completion events: dispatches straight to ``Server._complete``.

    ``name`` and ``entity`` identify the owning server.
    """

    __slots__ = ("handle_event", "entity", "name")

    def __init__(self, server: Server) -> None:
        self.handle_event = server._complete
        self.entity = server
        self.name = server.name


_new = object.__new__


class ServerStats:
    """A server's counters in the happysim 0.2.5 shape; ``stats()`` is the summary dict."""

    __slots__ = ("requests_completed", "requests_rejected", "total_service_time", "_server")

    def __init__(self, server: Server) -> None:
        self.requests_completed = server.completed
        self.requests_rejected = server.dropped
        self.total_service_time = server.busy_ns / _NS
        self._server = server

    def __call__(self) -> dict[str, Any]:
        return QueuedResource.stats(self._server)

    def __repr__(self) -> str:
        return (f"ServerStats(requests_completed={self.requests_completed}, "
                f"requests_rejected={self.requests_rejected}, "
                f"total_service_time={self.total_service_time:.6g})")


class Server(QueuedResource):
    """Serves ``concurrency`` requests at a time, each for a ``service_time`` sample.

    Finished requests go to ``downstream`` (keeping their context) if set. Arrivals that find
    ``queue_capacity`` requests waiting are dropped. Counters: ``arrivals``, ``completed``,
    ``dropped``; gauges: ``queue_depth`` (waiting; also the ``depth`` attribute) and
    ``in_flight`` (in service).
    Override ``handle_queued_event`` for custom service logic (then this is a plain
    ``QueuedResource``).
    """

    def __init__(
        self,
        name: str,
        concurrency: int = 1,
        service_time: LatencyDistribution | float | Any = 0.1,
        queue_capacity: int | None = None,
        downstream: Entity | None = None,
        *,
        policy: Any = None,
        queue_policy: Any = None,
    ) -> None:
        if queue_policy is not None:  # happysim 0.2.5 name
            if policy is not None:
                raise ValueError("give policy or queue_policy, not both")
            policy = queue_policy
        model = None
        if hasattr(concurrency, "acquire") and hasattr(concurrency, "limit"):
            # a concurrency model (components.server.concurrency): its limit, followed
            model, concurrency = concurrency, concurrency.limit
        super().__init__(
            name, policy=policy, concurrency=concurrency, queue_capacity=queue_capacity
        )
        self._concurrency_model = model
        if model is not None and hasattr(model, "_on_limit_change"):
            model._on_limit_change(self._follow_limit)
        self.service_time = service_time
        self.downstream = downstream
        # (an active queue policy takes the general path: it may refuse or discard; one
        # that holds its line itself -- a `BalkingQueue` -- is active too)
        self._fast = (type(self).handle_queued_event is Server.handle_queued_event
                      and self._queue is self.policy and not hasattr(self.policy, "attach"))
        self.done_port = _DonePort(self)
        if not self._fast and type(self).handle_event is Server.handle_event:
            # custom handle_queued_event: behave as a plain QueuedResource
            self.handle_event = MethodType(QueuedResource.handle_event, self)

    @property
    def service_time(self) -> Any:
        """The service-time distribution (a number given is a constant, in seconds). May
        be replaced mid-run (a what-if branch): the next service draws from the new one."""
        return self._service_time

    @service_time.setter
    def service_time(self, value: Any) -> None:
        st = as_distribution(value, "service_time")
        self._service_time = st
        # the hot path's caches follow the distribution
        self._exp_rate = st.rate if type(st) is ExponentialLatency else None
        self._sample_ns = st.sample_ns
        self._inline_exp = self._exp_rate is not None and EXPO_INLINE

    def _follow_limit(self, limit: int) -> None:
        self.concurrency = limit

    # ---- happysim 0.2.5 names -----------------------------------------------------------
    @property
    def concurrency_model(self) -> Any:
        """The concurrency model given, else a ``FixedConcurrency`` of ``concurrency``."""
        if self._concurrency_model is not None:
            return self._concurrency_model
        from happysimulator.components.server.concurrency import FixedConcurrency

        return FixedConcurrency(self.concurrency)

    @property
    def active_requests(self) -> int:
        """Requests in service."""
        return self.in_flight

    @property
    def available_capacity(self) -> int:
        return max(0, self.concurrency - self.in_flight)

    @property
    def average_service_time(self) -> float:
        """Mean service time of the completed requests, seconds (0.0 before any)."""
        return self.busy_ns / self.completed / _NS if self.completed else 0.0

    @property
    def stats(self) -> ServerStats:  # type: ignore[override]
        """Counters (``.requests_completed``, ...); calling it gives the summary dict."""
        return ServerStats(self)

    def handle_queued_event(self, event: Event) -> Generator[Any, Any, Any]:
        """Default service: wait a service-time sample, then forward downstream."""
        yield self.service_time.sample(self.rng)
        if self.downstream is not None:
            return self.forward(event, self.downstream)
        return None

    # ---- fast path (the M/M/c hot loop: keep it lean) -----------------------------------
    # The exponential case is written out inline in three places: a method call per
    # request was measurable on this path (the instrumented run went through `_serve`
    # and its `rng.expovariate` call until this session).
    def _serve(self, sim: Any, req: Event, arrived_ns: int, now: int) -> None:
        r = self._exp_rate
        if self._inline_exp:  # random.expovariate's formula, without its call
            done = now + _floor(-_log(1.0 - self._stream_random()) / r * _NS_F + 0.5)
        elif r is not None:
            done = now + _floor(self.rng.expovariate(r) * _NS_F + 0.5)
        else:
            done = now + self._sample_ns(self.rng)
        ce = _new(Wakeup)  # (`_service_done` inline)
        ce.event_type = SERVICE_DONE
        ce.kind = ServiceDone
        ce._x = None
        ce._time_ns = done
        ce.target = self.done_port
        c = req._ctx
        ce._ctx = req if c is None else c
        ce.request = req
        ce.start_ns = now
        ce.arr_ns = arrived_ns
        sim.engine.schedule_at(done, ce)
        i = self._instr
        if i is not None:
            if i.start_facts:
                i.started.append(now)
                i.waited.append(now - arrived_ns)
            if i.live is not None:
                i.live(STARTED, now, ce)

    def handle_event(self, event: Event) -> None:
        sim = self._sim or bind_simulation(self)
        now = sim.now_ns
        self.arrivals += 1
        if event._x is not None:
            self._defer_hooks(event)
        i = self._instr
        if self.in_flight < self._concurrency:
            self.in_flight += 1
            if i is not None:
                h = i.hops  # (its hop's parent, read now: `HopParents.arrived` inline)
                if h is not None:
                    c = event._ctx
                    if c.__class__ is dict and c["id"].__class__ is int:
                        h.extend((c["id"], now, c.get(OPEN_SPAN_KEY, NO_SPAN_PARENT)))
                    else:
                        i.arriving(event, now)
                i.arrived.append(now)
                if i.live is not None:
                    i.live(ARRIVED, now, event)
            if self._inline_exp:
                done = now + _floor(-_log(1.0 - self._stream_random()) / self._exp_rate * _NS_F
                                   + 0.5)
                ce = _new(Wakeup)  # (`_service_done` inline: an idle server's start)
                ce.event_type = SERVICE_DONE
                ce.kind = ServiceDone
                ce._x = None
                ce._time_ns = done
                ce.target = self.done_port
                c = event._ctx
                ce._ctx = event if c is None else c
                ce.request = event
                ce.start_ns = now
                ce.arr_ns = now
                sim.engine.schedule_at(done, ce)
                if i is not None:
                    if i.start_facts:
                        i.started.append(now)
                        i.waited.append(0)
                    if i.live is not None:
                        i.live(STARTED, now, ce)
            else:
                self._serve(sim, event, now, now)
            return None
        q = self._queue
        cap = self.queue_capacity
        if cap is not None and len(q) >= cap:
            self.dropped += 1
            if i is not None:
                if i.arriving is not None:
                    i.arriving(event, now)
                i.dropped.append(now)
                if i.traced:
                    i.dropped_ids.append(trace_id(event))
                if i.live is not None:
                    i.live(DROP, now, event)
            if self._hooks:
                self._run_hooks(sim, event)
            return None
        q.push((event, now))
        if i is not None:
            h = i.hops  # (`HopParents.arrived` inline)
            if h is not None:
                c = event._ctx
                if c.__class__ is dict and c["id"].__class__ is int:
                    h.extend((c["id"], now, c.get(OPEN_SPAN_KEY, NO_SPAN_PARENT)))
                else:
                    i.arriving(event, now)
            i.arrived.append(now)
            b = i.depth_band
            if b is not None and not b[0] < len(q) < b[1]:
                i.depth_moved(now)
            if i.live is not None:
                i.live(ARRIVED, now, event)
        return None

    def _complete(self, ce: Wakeup) -> Event | None:
        sim = self._sim
        now = sim.now_ns
        req = ce.request
        svc = now - ce.start_ns
        self.completed += 1
        self.busy_ns += svc
        i = self._instr
        q = self._queue
        if i is not None:
            i.done.append(now)
            if i.visit_facts:
                i.served.append(svc)
                i.traced_starts.append(ce.arr_ns)
            if i.traced:
                c = ce._ctx
                if c.__class__ is Event and c._ctx is None:  # (`trace_id` inline)
                    try:
                        tid = c._id  # (a traced source's request)
                    except AttributeError:
                        tid = None
                    i.traced_ids.append(trace_id(req) if tid is None else tid)
                else:
                    i.traced_ids.append(c["id"] if c.__class__ is dict else trace_id(req))
        if q and self._inline_exp:
            # hot path: the next waiting request starts now (in_flight is unchanged)
            if i is not None and i.live is not None:
                i.live(DONE, now, ce)
            nreq, arr = q.pop()
            done = now + _floor(-_log(1.0 - self._stream_random()) / self._exp_rate * _NS_F
                                   + 0.5)
            if not sim.engine.may_recycle:
                # someone may see or keep the processed event: use a fresh one
                ce = _service_done()
                ce.target = self.done_port
            ce._time_ns = done
            c = nreq._ctx
            ce._ctx = nreq if c is None else c
            ce.request = nreq
            ce.start_ns = now
            ce.arr_ns = arr
            sim.engine.schedule_at(done, ce)
            if i is not None:
                if i.start_facts:
                    i.started.append(now)
                    i.waited.append(now - arr)
                b = i.depth_band
                if b is not None and not b[0] < len(q) < b[1]:
                    i.depth_moved(now)
                if i.live is not None:
                    i.live(STARTED, now, ce)
        else:
            self.in_flight -= 1
            if i is not None and i.live is not None:
                i.live(DONE, now, ce)
            if q:
                nreq, arr = q.pop()
                self.in_flight += 1
                if i is not None:
                    b = i.depth_band
                    if b is not None and not b[0] < len(q) < b[1]:
                        i.depth_moved(now)
                self._serve(sim, nreq, arr, now)
        if self._hooks:
            self._run_hooks(sim, req)
        ds = self.downstream
        if ds is None:
            return None
        # returned (not pushed) so the loop can dispatch it immediately
        e = _new(Event)
        e._time_ns = now
        e.event_type = req.event_type
        e.target = ds
        c = req._ctx
        e._ctx = req if c is None else c
        e._x = None
        return e


__all__ = ["Server", "ServiceDone", "SERVICE_DONE"]
