"""``LoadBalancer``: spreads requests over backends by a strategy.

Requests go to a healthy backend chosen by ``strategy`` (default `RoundRobin`), keeping
their context (so their trace); the caller is answered when the backend finishes. With
no healthy backend a request is refused (``on_no_backend="reject"``: the caller is
answered with a rejection, reason ``"no_backend"``) or held until one is back
(``"queue"``). Health comes from `mark_unhealthy` / `mark_healthy` (a `HealthChecker`
calls them). Observed: ``routed`` counter (tag ``backend``), ``rejected`` counter,
``healthy_backends``, ``queued`` gauges, ``backend_health`` events, one span per request
(attribute ``backend``; the backends' own series tell their waits and service times).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from happysim_rx.observation import Span
from happysimulator.components.fast_recording import STALE, FastRecording, NsTagged, resolve
from happysimulator.components.forwarding import answer_rejected, run_hooks
from happysimulator.components.load_balancer.strategies import (
    STRATEGIES,
    LeastResponseTime,
    LoadBalancingStrategy,
    RoundRobin,
    bind_rng,
)
from happysimulator.components.span_facts import NO_PARENT
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event, _Extra
from happysimulator.core.observed import _OPEN_SPAN, ObservedEntity, counter, gauge
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion

ON_NO_BACKEND = ("reject", "queue")
_TAKE = object()  # (`handle_event`'s default: take the hooks off the arriving request)
_new = object.__new__
#: what the hot path records (`fast_recording`): `routed` batched (times in ns and the
#: backend's tags dict, one per backend) while only its store listens
_SERIES = ("routed", "counter:ns-tagged")


@dataclass
class BackendInfo:
    """What the load balancer knows of one backend."""

    backend: Entity
    weight: int = 1
    is_healthy: bool = True
    consecutive_successes: int = 0
    consecutive_failures: int = 0
    total_requests: int = 0
    total_failures: int = 0
    outstanding: int = 0

    def __post_init__(self) -> None:
        # the completion hook of the requests routed to this backend, bound once (not a
        # field: no part of the backend's state)
        self._on_answer = self._answered

    def _answered(self, _finish: Any = None) -> None:
        """The backend finished a request routed to it (a completion hook)."""
        self.outstanding -= 1
        self.consecutive_successes += 1
        self.consecutive_failures = 0


class _Route:
    """What a balancer records of the requests it routes to one backend, in one
    simulation's recording (`FastRecording.shared`, by backend name): the ``routed``
    sample's tags, its spans' attributes (one dict each, shared by all: a dict per sample
    cost the store as much again as the rest of the sample) and their `SpanFacts` code
    (``kind``; None: no facts)."""

    __slots__ = ("lb", "tags", "attrs", "kind")


class _SpanClose(_Extra):
    """The flags of a request routed with its balancer span open, and what closing the
    span needs: `closed` is the request's first completion hook."""

    __slots__ = ("route", "info", "ctx", "since_ns", "sid", "parent")

    def closed(self, _finish: Any = None) -> None:
        """The backend finished the request (context ``ctx``) whose span ``sid``
        (opened at ``since_ns``) is open; ``route``: its backend's `_Route`, ``info``
        its `BackendInfo`."""
        # (the hooks list holds this bound method, which holds this object: let go of
        # the list, so the request's objects are freed without the cycle collector)
        self.on_complete = None
        info = self.info  # (`info._answered()` inline)
        info.outstanding -= 1
        info.consecutive_successes += 1
        info.consecutive_failures = 0
        ctx, sid, parent = self.ctx, self.sid, self.parent
        if ctx.get(_OPEN_SPAN) == sid:  # closed: what follows is its parent's
            ctx[_OPEN_SPAN] = parent
        route = self.route
        lb = route.lb
        f = lb._fast
        sim = lb._sim
        if f.sim is not sim:
            f = lb._fast = resolve(lb, _SERIES)
        rows = f.rows  # (`record_span` inline)
        if rows is not None:  # (the trace store alone listens: six ints, or its list)
            kind = route.kind
            if kind is not None:
                sf = f.facts
                if not rows or rows[-1] is not sf.batch:
                    sf.begin()
                sf.ints.extend((ctx["id"], sid, NO_PARENT if parent is None else parent,
                                self.since_ns, sim.now_ns, kind))
                return
            rows.append(Span(ctx["id"], sid, parent, f.name, self.since_ns / _NS,
                             sim.now_ns / _NS, route.attrs))
        elif f.spans is not None:
            now = sim.now_ns / _NS
            f.spans.emit(now, Span(ctx["id"], sid, parent, f.name, self.since_ns / _NS, now,
                                   route.attrs))


@dataclass(frozen=True)
class LoadBalancerStats:
    """Snapshot of a load balancer's counts."""

    requests_received: int = 0
    requests_forwarded: int = 0
    requests_failed: int = 0
    no_backend_available: int = 0
    backends_marked_unhealthy: int = 0
    backends_marked_healthy: int = 0


class LoadBalancer(ObservedEntity):
    """Routes each request to one backend (see the module docstring)."""

    #: the attribute keys its spans carry (see its `record_span` calls)
    span_attributes = ("backend",)
    observed_series = (
        counter("routed", "requests", "requests sent to a backend", tags=("backend",)),
        counter("rejected", "requests", "requests refused: no healthy backend"),
        gauge("healthy_backends", "backends", "backends taking requests"),
        gauge("queued", "requests", "requests held for want of a healthy backend"),
    )
    downstream_attributes = ("all_backends",)

    #: this balancer's series in its simulation (`fast_recording`; STALE: to resolve;
    #: set in ``__init__``: a class default of a mutable type's instance would keep
    #: CPython from specializing the attribute's reads)
    _fast: FastRecording | None = None

    def __init__(self, name: str, backends: list[Entity] | None = None,
                 strategy: LoadBalancingStrategy | None = None,
                 on_no_backend: str = "reject") -> None:
        super().__init__(name)
        if on_no_backend not in ON_NO_BACKEND:
            raise ValueError(
                f"on_no_backend must be one of {ON_NO_BACKEND}, got {on_no_backend!r}")
        self._strategy = strategy if strategy is not None else RoundRobin()
        self._on_no_backend = on_no_backend
        self._backends: dict[str, BackendInfo] = {}
        #: every backend it was given or added, with its weight (a setting may bring
        #: one back by name)
        self._known_backends: dict[str, tuple[Entity, int]] = {}
        self._healthy: list[Entity] = []
        self._held: deque[tuple[Event, list | None, int]] = deque()
        self._rng_bound = False
        # (strategy, it is told no response times): re-checked if the strategy changes
        self._plain_for: tuple[Any, bool] = (None, False)
        self._fast = STALE
        self._requests_received = 0
        self._requests_forwarded = 0
        self._requests_failed = 0
        self._no_backend_available = 0
        self._backends_marked_unhealthy = 0
        self._backends_marked_healthy = 0
        for backend in backends or ():
            self.add_backend(backend)

    # ---- configuration and state ---------------------------------------------------------
    @property
    def stats(self) -> LoadBalancerStats:
        return LoadBalancerStats(self._requests_received, self._requests_forwarded,
                                 self._requests_failed, self._no_backend_available,
                                 self._backends_marked_unhealthy,
                                 self._backends_marked_healthy)

    @property
    def strategy(self) -> LoadBalancingStrategy:
        """How a backend is chosen. Settable (a what-if fork) by name -- one of
        `STRATEGIES` -- or as a strategy object; the backends carry over."""
        return self._strategy

    @strategy.setter
    def strategy(self, value: LoadBalancingStrategy | str) -> None:
        if isinstance(value, str):
            made = STRATEGIES.get(value)
            if made is None:
                raise ValueError(f"unknown strategy {value!r}; strategies: "
                                 f"{sorted(STRATEGIES)}")
            value = made()
        if not callable(getattr(value, "select", None)):
            raise TypeError(f"a strategy has select(backends, request), got {value!r}")
        self._strategy = value
        for info in self._backends.values():
            if hasattr(value, "add_backend"):
                value.add_backend(info.backend)
            if hasattr(value, "set_weight"):
                value.set_weight(info.backend, info.weight)
        self._rng_bound = False  # (a randomized one takes this balancer's stream)

    @property
    def backends(self) -> list[Entity]:
        """The backends it routes to (`all_backends`). Settable (a what-if fork) by
        names: those of the backends it was given or added ("what if S1 were gone");
        the others are removed, as `remove_backend` does."""
        return self.all_backends

    @backends.setter
    def backends(self, value: list[Any]) -> None:
        known = self._known_backends
        names = [v if isinstance(v, str) else getattr(v, "name", v) for v in value]
        unknown = [n for n in names if n not in known]
        if unknown or not names or len(set(names)) < len(names):
            raise ValueError(f"backends are distinct names among {sorted(known)}, "
                             f"at least one; got {names!r}")
        for name in [n for n in self._backends if n not in names]:
            self.remove_backend(self._backends[name].backend)
        for name in names:
            if name not in self._backends:
                backend, weight = known[name]
                self.add_backend(backend, weight)

    def _setting_choices(self) -> dict[str, tuple[str, list[str]]]:
        """What a what-if setting may name for the attributes set by name: ``strategy``
        one of the strategies, ``backends`` some of the backends it knows."""
        return {"strategy": ("one", sorted(STRATEGIES)),
                "backends": ("some", sorted(self._known_backends))}

    @property
    def all_backends(self) -> list[Entity]:
        return [info.backend for info in self._backends.values()]

    @property
    def healthy_backends(self) -> list[Entity]:
        return list(self._healthy)

    @property
    def unhealthy_backends(self) -> list[Entity]:
        return [i.backend for i in self._backends.values() if not i.is_healthy]

    @property
    def backend_count(self) -> int:
        return len(self._backends)

    @property
    def healthy_count(self) -> int:
        return len(self._healthy)

    def downstream_entities(self) -> list[Entity]:
        return self.all_backends

    def get_backend_info(self, backend: Entity) -> BackendInfo | None:
        return self._backends.get(backend.name)

    def get_backend_info_by_name(self, name: str) -> BackendInfo | None:
        return self._backends.get(name)

    def outstanding(self, backend: Entity) -> int:
        """Requests this balancer sent to ``backend`` that are not answered yet."""
        info = self._backends.get(backend.name)
        return 0 if info is None else info.outstanding

    # ---- membership and health -----------------------------------------------------------
    def add_backend(self, backend: Entity, weight: int = 1) -> None:
        """Add ``backend`` (or change its weight); held requests go to it."""
        if weight < 1:
            raise ValueError(f"weight must be >= 1, got {weight}")
        self._known_backends[backend.name] = (backend, weight)
        info = self._backends.get(backend.name)
        if info is not None:
            info.weight = weight
        else:
            self._backends[backend.name] = BackendInfo(backend, weight)
            self._refresh()
            if hasattr(self._strategy, "add_backend"):
                self._strategy.add_backend(backend)
        if hasattr(self._strategy, "set_weight"):
            self._strategy.set_weight(backend, weight)
        self._release_held()

    def remove_backend(self, backend: Entity) -> None:
        if self._backends.pop(backend.name, None) is None:
            return
        self._refresh()
        if hasattr(self._strategy, "remove_backend"):
            self._strategy.remove_backend(backend)

    def mark_unhealthy(self, backend: Entity) -> None:
        info = self._backends.get(backend.name)
        if info is None or not info.is_healthy:
            return
        info.is_healthy = False
        info.consecutive_successes = 0
        self._backends_marked_unhealthy += 1
        self._refresh()
        self.emit_event("backend_health", {"backend": backend.name, "healthy": False})

    def mark_healthy(self, backend: Entity) -> None:
        """Take ``backend`` back (held requests go to it)."""
        info = self._backends.get(backend.name)
        if info is None or info.is_healthy:
            return
        info.is_healthy = True
        info.consecutive_failures = 0
        self._backends_marked_healthy += 1
        self._refresh()
        self.emit_event("backend_health", {"backend": backend.name, "healthy": True})
        self._release_held()

    def record_success(self, backend: Entity) -> None:
        info = self._backends.get(backend.name)
        if info is not None:
            info.consecutive_successes += 1
            info.consecutive_failures = 0

    def record_failure(self, backend: Entity) -> None:
        info = self._backends.get(backend.name)
        if info is not None:
            info.consecutive_failures += 1
            info.consecutive_successes = 0
            info.total_failures += 1

    def _refresh(self) -> None:
        self._healthy = [i.backend for i in self._backends.values() if i.is_healthy]
        self.set_gauge("healthy_backends", len(self._healthy))

    # ---- requests ------------------------------------------------------------------------
    def handle_event(self, event: Event, hooks: Any = _TAKE,
                     since_ns: int | None = None) -> list[Event]:
        """Route a request that arrived now; or (``hooks`` given: the caller's hooks, and
        ``since_ns``: when it arrived) one this balancer held."""
        if hooks is _TAKE:  # (from the run loop: a new arrival)
            self._requests_received += 1
            if self._requests_received == 1:
                self.set_gauge("healthy_backends", len(self._healthy))
            if not self._rng_bound:
                bind_rng(self._strategy, self.rng)
                self._rng_bound = True
            x = event._x  # (`take_hooks(event)` inline)
            if x is None or not x.on_complete:
                hooks = None
            else:
                hooks, x.on_complete = x.on_complete, None
        healthy = self._healthy
        strategy = self._strategy
        if not healthy:
            backend = None
        elif strategy.__class__ is RoundRobin:  # (`RoundRobin.select` inline)
            backend = healthy[strategy._index % len(healthy)]
            strategy._index += 1
        else:
            backend = strategy.select(healthy, event)
        if backend is None:
            self._no_backend_available += 1
            if since_ns is None:
                since_ns = self._sim.now_ns
            if self._on_no_backend == "queue" and not healthy:
                self._held.append((event, hooks, since_ns))
                self.set_gauge("queued", len(self._held))
                return []
            self._requests_failed += 1
            self.increment("rejected")
            return answer_rejected(self, event, hooks, "no_backend")
        info = self._backends.get(backend.name)
        if info is not None:
            info.total_requests += 1
            info.outstanding += 1
        self._requests_forwarded += 1
        start_ns = self._sim.now_ns
        # (`forward(self, event, backend, on_answer)` inline: once per request)
        out = _new(Event)  # (`new_event(start_ns, event.event_type, backend, event)` inline)
        out._time_ns = start_ns
        out.event_type = event.event_type
        out.target = backend
        c = event._ctx
        out._ctx = event if c is None else c
        f = self._fast  # (a disabled run stops at `f.on`)
        if f.sim is not self._sim:
            f = self._fast = resolve(self, _SERIES)
        sid = None
        if f.on:  # (`increment("routed", backend=...)` and `open_span` inline)
            route = f.shared.get(backend.name)
            if route is None:
                route = f.shared[backend.name] = self._route(f, backend.name)
            s = f.series[0]
            if s.__class__ is NsTagged:  # (batched: the time in ns, the tags)
                s[0].append(start_ns)
                s[1].append(route.tags)
            else:
                f.topics[0].emit(start_ns / _NS, 1, route.tags)
            if f.ids is not None:  # (`open_span` inline)
                ctx = c if c.__class__ is dict else event.context
                sid = next(f.ids)
                parent = ctx.get(_OPEN_SPAN)
                ctx[_OPEN_SPAN] = sid
        plain = self._plain_for
        if plain[0] is not strategy:
            plain = self._plain_for = (strategy, not isinstance(strategy, LeastResponseTime))
        if since_ns is None:  # (not a held request's: it began now)
            since_ns = start_ns
        if info is not None and plain[1]:
            # the caller's hooks go with the request: they run when the backend
            # finishes it, after the balancer's own bookkeeping (and span)
            if sid is None:
                x = out._x = _new(_Extra)  # (`_Extra()` inline)
                own = info._on_answer
            else:
                # (the span's close is a method of the request's own flags object,
                # which holds what it needs: no `partial` and its argument tuple and
                # empty keywords dict made per request)
                x = out._x = _new(_SpanClose)
                x.route = route
                x.info = info
                x.ctx = ctx
                x.since_ns = since_ns
                x.sid = sid
                x.parent = parent
                own = x.closed
            x.daemon = x.cancelled = False
            x.on_complete = [own, *hooks] if hooks else [own]
            return [out]
        x = out._x = _new(_Extra)
        x.daemon = x.cancelled = False
        span = None if sid is None else (sid, parent)
        x.on_complete = [lambda _t: self._answered(event, hooks, backend, info, start_ns,
                                                   since_ns, span)]
        return [out]

    def _route(self, f: FastRecording, backend: str) -> _Route:
        """`backend`'s `_Route` in recording `f`."""
        route = _new(_Route)
        route.lb = self
        route.tags = {"backend": backend}
        route.attrs = attrs = {"backend": backend}
        route.kind = None if f.facts is None else f.facts.kind(f.name, attrs)
        return route

    def _answered(self, event: Event, hooks: list | None, backend: Entity,
                  info: BackendInfo | None, start_ns: int, since_ns: int,
                  span: Any = None) -> list[Event]:
        rt = (self._sim.now_ns - start_ns) / _NS
        if info is not None:
            info.outstanding -= 1
            info.consecutive_successes += 1
            info.consecutive_failures = 0
        if isinstance(self._strategy, LeastResponseTime):
            self._strategy.record_response_time(backend, rt)
        if span is not None:
            self.record_span(event, since_ns / _NS, span=span, backend=backend.name)
        return run_hooks(self, hooks)

    def _release_held(self) -> None:
        """Route the held requests now (a backend is back)."""
        sim = self._sim
        if not self._held or not self._healthy or not hasattr(sim, "schedule"):
            return
        while self._held and self._healthy:
            event, hooks, since_ns = self._held.popleft()
            sim.schedule(self.handle_event(event, hooks, since_ns))
        self.set_gauge("queued", len(self._held))


__all__ = ["BackendInfo", "LoadBalancer", "LoadBalancerStats"]
