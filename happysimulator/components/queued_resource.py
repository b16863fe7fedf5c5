"""``QueuedResource``: an entity that queues requests and serves ``concurrency`` at a time."""

from __future__ import annotations

import inspect
from types import GeneratorType
from typing import Any

from happysimulator.components.generator_service import LEAN, PLAIN, _LeanService, service
from happysimulator.components.queue_policy import make_policy
from happysimulator.core.component_instrumentation import (
    ARRIVED,
    DONE,
    DROP,
    REMOVED,
    STARTED,
    Visit,
    trace_id,
)
from happysimulator.core.entity import Entity, bind_simulation
from happysimulator.core.event import Event


def _read_only(cls: type, name: str) -> bool:
    """True if `cls` defines `name` as a property without a setter."""
    attr = getattr(cls, name, None)
    return isinstance(attr, property) and attr.fset is None


class QueuedResource(Entity):
    """Queues arrivals; runs ``handle_queued_event(event)`` for up to ``concurrency`` at once.

    ``handle_queued_event`` may return events or a generator; service ends when the
    generator finishes. ``depth`` counts waiting requests, ``in_flight`` those in service.
    With ``queue_capacity`` set, arrivals finding that many waiting are dropped.

    Concurrency: ``concurrency`` requests at once (default 1). A subclass that overrides
    ``has_capacity()`` (the happysim 0.2.5 way to model capacity) is *gated* by it
    instead: a waiting request starts whenever ``has_capacity()`` is true, and, unless
    ``concurrency`` is also given, there is no other limit. Such a subclass may keep its
    own ``in_flight`` counter: the resource then counts requests in service apart
    (``in_service``), and that count is what observability reports.
    """

    def __init__(
        self,
        name: str,
        *,
        policy: Any = None,
        concurrency: int | None = None,
        queue_capacity: int | None = None,
    ) -> None:
        super().__init__(name)
        if queue_capacity is not None and queue_capacity < 0:
            raise ValueError(f"queue_capacity must be >= 0 or None, got {queue_capacity}")
        self._gated = type(self).has_capacity is not QueuedResource.has_capacity
        # a subclass that keeps its own `in_flight` (a read-only property, as 0.2.5 models
        # may define) or gates on `has_capacity` is counted apart, in `_in_service`
        self._own_count = self._gated or _read_only(type(self), "in_flight")
        # PLAIN: counts `in_flight` itself against `concurrency` (the hot paths inline
        # that); LEAN: also ends a generator's service with the inline bookkeeping of
        # `_LeanService.handle_event` (while nothing is recorded and no completion hook waits). One
        # attribute, not two: CPython 3.11 keeps at most 30 attribute names of a class
        # inline, and a `Server` is near that (past it every attribute access is slower)
        cls = type(self)
        plain = (not self._own_count and cls._can_start is QueuedResource._can_start
                 and cls._started is QueuedResource._started)
        lean = plain and (cls._done is QueuedResource._done
                          and cls._drain is QueuedResource._drain
                          and cls._begin is QueuedResource._begin)
        self._plain = LEAN if lean else PLAIN if plain else 0
        if concurrency is None:
            self._concurrency = _UNLIMITED if self._gated else 1
        else:
            self.concurrency = concurrency
        self.policy = make_policy(policy)
        self._queue = self.policy
        if hasattr(self.policy, "attach"):
            # an active policy (components.queue_policies) holds the requests themselves,
            # may refuse one (push returns False) and may discard waiting ones: its line
            # keeps their arrival times and reports its discards (see `_removed`)
            self._queue = self.policy.attach(self)
        elif queue_capacity is None:  # a happysim 0.2.5 bounded policy: FIFOQueue(capacity=n)
            queue_capacity = getattr(self.policy, "capacity", None)
        self.queue_capacity = queue_capacity
        self._in_service = 0  # (gated subclasses: the resource's own count)
        if not _read_only(type(self), "in_flight"):
            self.in_flight = 0
        self.arrivals = 0
        self.completed = 0
        self.dropped = 0
        self.busy_ns = 0
        self._hooks: dict[int, list] = {}
        self._draining = False
        # finished service objects, for the next requests (`generator_service.service`):
        # at most ``concurrency`` + 1 are ever alive at once (the finishing one is the event
        # being processed when it starts the next request), so a busy resource allocates none
        self._spares: list[_LeanService] = []

    @property
    def concurrency(self) -> int:
        """How many requests are served at once (an int >= 1; may change mid-run)."""
        return self._concurrency

    @concurrency.setter
    def concurrency(self, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"concurrency must be an int >= 1, got {value!r}")
        if value == getattr(self, "_concurrency", None):
            return
        i = self._instr
        if i is not None and i.reconfigured is not None:
            i.reconfigured()  # before the change: what was recorded so far used the old value
        self._concurrency = value

    # ---- gauges -------------------------------------------------------------------------
    @property
    def depth(self) -> int:
        """Requests waiting (not in service)."""
        return len(self._queue)

    queue_depth = depth

    def has_capacity(self) -> bool:
        return self.in_flight < self._concurrency

    @property
    def in_service(self) -> int:
        """Requests in service, as the resource counts them."""
        return self._in_service if self._own_count else self.in_flight

    def _can_start(self) -> bool:
        if self._gated:
            return self._in_service < self._concurrency and bool(self.has_capacity())
        if self._own_count:
            return self._in_service < self._concurrency
        return self.in_flight < self._concurrency

    def _started(self) -> None:
        if self._own_count:
            self._in_service += 1
        else:
            self.in_flight += 1

    # happysim 0.2.5 names
    @property
    def stats_accepted(self) -> int:
        """Requests accepted (not dropped)."""
        return self.arrivals - self.dropped

    @property
    def stats_dropped(self) -> int:
        return self.dropped

    @property
    def queue(self) -> Any:
        """The waiting line (its ``policy``, ``depth``, ``stats_accepted``...)."""
        return _QueueView(self)

    # ---- to override --------------------------------------------------------------------
    def handle_queued_event(self, event: Event) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.handle_queued_event is not implemented")

    # ---- mechanics ----------------------------------------------------------------------
    def _defer_hooks(self, event: Event) -> None:
        """Run the request's completion hooks when its service ends, not on arrival."""
        x = event._x
        if x is not None and x.on_complete:
            self._hooks[id(event)] = x.on_complete
            x.on_complete = None

    def _run_hooks(self, sim: Any, event: Event) -> None:
        hooks = self._hooks.pop(id(event), None)
        if hooks:
            sim.run_completion_hooks(hooks)

    def handle_event(self, event: Event) -> None:
        sim = self._sim or bind_simulation(self)
        now = sim.now_ns
        self.arrivals += 1
        if event._x is not None:
            self._defer_hooks(event)
        i = self._instr
        q = self._queue
        if not q:  # (else it waits: requests start in arrival order)
            if self._plain:  # (`_can_start` and `_started` inline: the common case)
                start = self.in_flight < self._concurrency
                if start:
                    self.in_flight += 1
            else:
                start = self._can_start()
                if start:
                    self._started()
            if start:
                if i is not None:
                    if i.arriving is not None:  # (its hop's parent, read now)
                        i.arriving(event, now)
                    i.arrived.append(now)
                    if i.live is not None:
                        i.live(ARRIVED, now, event)
                elif self._plain == LEAN:  # (`_begin` inline for a generator service)
                    res = self.handle_queued_event(event)
                    if res.__class__ is GeneratorType:
                        res = service(sim, res, event, self, now, now).handle_event(None)
                        if res is not None:  # (it finished at once: an event for now)
                            sim.schedule_result(res)
                        return None
                    sim.schedule_result(res)
                    self._done(event, now, now)
                    return None
                self._begin(sim, event, now, now)
                return None
        cap = self.queue_capacity
        if cap is not None and len(q) >= cap:
            self._refuse(sim, event, now)
            return None
        if q.push((event, now)) is False:  # the policy refused it (e.g. a balking line)
            self._refuse(sim, event, now)
            return None
        if i is not None:
            if i.arriving is not None:
                i.arriving(event, now)
            i.arrived.append(now)
            b = i.depth_band
            if b is not None and not b[0] < len(q) < b[1]:
                i.depth_moved(now)
            if i.live is not None:
                i.live(ARRIVED, now, event)
        return None

    def _refuse(self, sim: Any, event: Event, now: int) -> None:
        """An arrival that does not join the line (full, or refused by the policy)."""
        self.dropped += 1
        i = self._instr
        if i is not None:
            if i.arriving is not None:  # (an arrival too)
                i.arriving(event, now)
            i.dropped.append(now)
            if i.traced:
                i.dropped_ids.append(trace_id(event))
            if i.live is not None:
                i.live(DROP, now, event)
        self._run_hooks(sim, event)

    def _begin(self, sim: Any, event: Event, start_ns: int, arr_ns: int) -> None:
        i = self._instr
        if i is not None:
            self._record_start(i, event, start_ns, arr_ns)
        else:
            arr_ns = start_ns  # (a span attached mid-service starts at the service start)
        res = self.handle_queued_event(event)
        if res.__class__ is GeneratorType or res is not None and inspect.isgenerator(res):
            res = service(sim, res, event, self, start_ns, arr_ns).handle_event(None)
            if res is not None:  # (it finished at once, returning an event for now)
                sim.schedule_result(res)
            return
        sim.schedule_result(res)
        self._done(event, start_ns, arr_ns)

    def _done(self, event: Event, start_ns: int, arr_ns: int) -> None:
        sim = self._sim
        now = sim.now_ns
        svc = now - start_ns
        if self._own_count:
            self._in_service -= 1
        else:
            self.in_flight -= 1
        self.completed += 1
        self.busy_ns += svc
        i = self._instr
        if i is not None:
            self._record_done(i, event, now, start_ns, arr_ns)
        if self._hooks:
            self._run_hooks(sim, event)
        if self._queue and not self._draining:
            self._drain(sim)

    def _record_start(self, i: Any, event: Event, start_ns: int, arr_ns: int) -> None:
        """The instrumentation's facts of a service start."""
        if i.start_facts:  # (else the instrumentation derives them: FIFO, see auto_instrument)
            i.started.append(start_ns)
            i.waited.append(start_ns - arr_ns)
        if i.live is not None:
            i.live(STARTED, start_ns, Visit(arr_ns, start_ns, event))

    def _record_done(self, i: Any, event: Event, now: int, start_ns: int, arr_ns: int) -> None:
        """The instrumentation's facts of a service end (its counts are updated)."""
        i.done.append(now)
        if i.visit_facts:
            i.served.append(now - start_ns)
            i.traced_starts.append(arr_ns)
        if i.traced:  # (`trace_id` inlined for a made context: once per request)
            c = event._ctx
            i.traced_ids.append(c["id"] if c.__class__ is dict else trace_id(event))
        if i.live is not None:
            i.live(DONE, now, Visit(arr_ns, start_ns, event))

    def _drain(self, sim: Any) -> None:
        """Start waiting requests while there is capacity."""
        self._draining = True
        try:
            q = self._queue
            plain = self._plain
            while q and (self.in_flight < self._concurrency if plain else self._can_start()):
                item = q.pop()
                if item is None:  # an active policy discarded all that was waiting
                    break
                event, arr = item
                if plain:
                    self.in_flight += 1
                else:
                    self._started()
                i = self._instr
                if i is not None:
                    b = i.depth_band
                    if b is not None and not b[0] < len(q) < b[1]:
                        i.depth_moved(sim.now_ns)
                self._begin(sim, event, sim.now_ns, arr)
        finally:
            self._draining = False

    def _removed(self, event: Event, arr_ns: int) -> None:
        """An active queue policy discarded `event` while it waited (CoDel, an expired
        deadline): a drop, counted and traced like one, and its hooks run."""
        sim = self._sim or bind_simulation(self)
        now = sim.now_ns
        self.dropped += 1
        i = self._instr
        if i is not None:
            i.removed.append(now)
            if i.traced:
                i.removed_ids.append(trace_id(event))
                i.removed_starts.append(arr_ns)
            b = i.depth_band
            if b is not None and not b[0] < len(self._queue) < b[1]:
                i.depth_moved(now)
            if i.live is not None:
                i.live(REMOVED, now, Visit(arr_ns, now, event))
        if self._hooks:
            self._run_hooks(sim, event)

    # ---- reporting ----------------------------------------------------------------------
    @property
    def utilization(self) -> float | None:
        """Busy time / (elapsed time * concurrency) from the simulation start."""
        sim = self._sim
        if sim is None:
            return None
        if self._concurrency == _UNLIMITED:
            return None  # no fixed number of servers to be a fraction of
        elapsed = sim.now_ns - sim.start_ns
        return self.busy_ns / (elapsed * self.concurrency) if elapsed > 0 else None

    def stats(self) -> dict[str, Any]:
        return {
            "arrivals": self.arrivals,
            "completed": self.completed,
            "dropped": self.dropped,
            "depth": self.depth,
            "in_flight": self.in_service,
        }


_UNLIMITED = 1 << 62  # gated by has_capacity() alone


class _QueueView:
    """``resource.queue`` in the happysim 0.2.5 shape."""

    __slots__ = ("_r",)

    def __init__(self, resource: QueuedResource) -> None:
        self._r = resource

    @property
    def policy(self) -> Any:
        # instrumented: a view of the policy that records what model code takes off it
        watched = getattr(self._r._instr, "watched_policy", None)
        return self._r.policy if watched is None else watched()

    @property
    def depth(self) -> int:
        return len(self._r._queue)

    @property
    def capacity(self) -> int | None:
        return self._r.queue_capacity

    @property
    def stats_accepted(self) -> int:
        return self._r.stats_accepted

    @property
    def stats_dropped(self) -> int:
        return self._r.dropped

    def __len__(self) -> int:
        return len(self._r._queue)


__all__ = ["QueuedResource"]
