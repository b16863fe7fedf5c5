"""Random models for the differential fuzzer: standard components and user-written ones.

A `ModelSpec` is plain data (hypothesis draws and shrinks it; a repro prints it);
`build(spec, config)` makes a fresh, unrun `Simulation` from it. The user-written parts
are what hostile users write: an `InstrumentedEntity` router that sets a gauge several
times at one instant, a `QueuedResource` subclass whose generator handler may serve for
zero seconds, model code that removes waiting requests through
``server.queue.policy.pop()``, and a handler that raises.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from happysimulator import (
    ConstantLatency,
    Entity,
    Event,
    ExponentialLatency,
    LatencyTracker,
    QueuedResource,
    Server,
    Simulation,
    Source,
)
from happysimulator.components.client import Client, ExponentialBackoff, FixedRetry
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.core.observed import counter, gauge, sample
from happysimulator.observability import InstrumentedEntity

__all__ = ["ModelSpec", "build", "ENTITIES", "DECLARED", "DECLARED_TAGS",
           "DECLARED_SPAN_ATTRIBUTES"]


@dataclass(frozen=True)
class ModelSpec:
    seed: int = 1
    arrivals: str = "poisson"  # poisson | constant
    rate: float = 4.0
    limit: int = 20  # requests the source generates
    start_time: float = 0.0  # 0, or large (3e7, 1e9): float precision at large times
    concurrency: int = 1
    service: str = "exp"  # exp | const | zero
    service_mean: float = 0.2
    queue_capacity: int | None = None
    router: bool = False  # user InstrumentedEntity in front (gauge set twice an instant)
    worker: bool = False  # user QueuedResource subclass with a generator handler
    worker_service: float = 0.0  # 0: zero-length services
    cancels: tuple[float, ...] = field(default_factory=tuple)  # times (s after start)
    raise_at: int | None = None  # the sink-side handler raises at this request
    probe: bool = False  # a user gauge changing on whole seconds (a probe)
    # a Client in front (timeouts and retries: overlapping attempts of one request)
    client_attempts: int = 0  # 0: no client; else its retry policy's max_attempts
    client_timeout: float | None = None
    client_backoff: bool = False  # ExponentialBackoff (jittered) instead of FixedRetry
    balancer: bool = False  # a LoadBalancer over Server and Server2 (a second server)

    def describe(self) -> dict[str, Any]:
        return asdict(self)


#: the series every model declares (kind by (source, name)); the user entities' own
_STANDARD = {
    "queue_depth": "gauge", "in_flight": "gauge", "wait_time": "sample",
    "service_time": "sample", "arrivals": "counter", "completed": "counter",
    "dropped": "counter",
}


_CLIENT = {
    "requests": "counter", "retries": "counter", "timeouts": "counter",
    "rejected": "counter", "failures": "counter", "successes": "counter",
    "wasted": "counter", "latency": "sample",
}
_BALANCER = {"routed": "counter", "rejected": "counter", "healthy_backends": "gauge",
             "queued": "gauge"}


def DECLARED(spec: ModelSpec) -> dict[tuple[str, str], str]:
    """(source, name) -> series kind of every series the model declares."""
    out = {("Server", n): k for n, k in _STANDARD.items()}
    out[("Sink", "latency")] = "sample"
    out[("Source", "generated")] = "counter"
    if spec.router:
        out.update({("Router", "load"): "gauge", ("Router", "routed"): "counter",
                    ("Router", "hops"): "sample"})
    if spec.worker:
        out.update({("Worker", n): k for n, k in _STANDARD.items()})
    if spec.probe:
        out[("Prober", "level")] = "gauge"
    if spec.client_attempts:
        out.update({("Client", n): k for n, k in _CLIENT.items()})
    if spec.balancer:
        out.update({("Server2", n): k for n, k in _STANDARD.items()})
        out.update({("LB", n): k for n, k in _BALANCER.items()})
    return out


def DECLARED_TAGS(spec: ModelSpec) -> dict[tuple[str, str], tuple[str, ...]]:
    """(source, name) -> the tag keys a component declares for the series (written out
    from the components' documented series, not read from them: the Router's tags are
    undeclared, valid only once a sample carries them)."""
    out: dict[tuple[str, str], tuple[str, ...]] = {}
    if spec.probe:
        out[("Prober", "level")] = ("phase",)
    if spec.client_attempts:
        out[("Client", "rejected")] = ("reason",)
        out[("Client", "failures")] = ("reason",)
    if spec.balancer:
        out[("LB", "routed")] = ("backend",)
    return out


def DECLARED_SPAN_ATTRIBUTES(spec: ModelSpec) -> dict[str, tuple[str, ...]]:
    """entity -> the attribute keys its component declares for its spans (written out
    from the components' documentation, not read from them: the Router's ``lane`` is
    undeclared, valid only once one of its spans carries it)."""
    station = ("wait", "service", "status")
    out = {"Server": station, "Sink": ("latency",)}
    if spec.worker:
        out["Worker"] = station
    if spec.client_attempts:
        out["Client"] = ("attempt", "outcome", "rejected_by")
    if spec.balancer:
        out["Server2"] = station
        out["LB"] = ("backend",)
    return out


def ENTITIES(spec: ModelSpec) -> tuple[str, ...]:
    names = ["Source", "Server", "Sink"]
    if spec.router:
        names.append("Router")
    if spec.worker:
        names.append("Worker")
    if spec.cancels:
        names.append("Canceller")
    if spec.raise_at is not None:
        names.append("Faulty")
    if spec.probe:
        names.append("Prober")
    if spec.client_attempts:
        names.append("Client")
    if spec.balancer:
        names += ["Server2", "LB"]
    return tuple(names)


class Router(InstrumentedEntity):
    """Counts requests in and out around each forward: ``load`` goes n+1 then n at the
    same instant (a same-instant transient), ``routed`` counts per backend tag,
    ``hops`` samples a tagged value."""

    observed_series = (gauge("load", ""), counter("routed", "requests"),
                       sample("hops", ""))
    downstream_attributes = ("target",)

    def __init__(self, name: str, target: Entity) -> None:
        super().__init__(name)
        self.target = target
        self.n = 0

    def handle_event(self, event: Event) -> Any:
        self.n += 1
        self.set_gauge("load", self.n % 3 + 1)
        self.set_gauge("load", self.n % 3)  # replaced at the same instant
        lane = "a" if self.n % 2 else "b"
        self.increment("routed", backend=lane)
        self.observe("hops", float(self.n % 5), lane=lane)
        # a zero-length span at the instant the source sends (a tie with the source's
        # span), carrying an undeclared attribute
        self.record_span(event, self.now.to_seconds(), lane=lane)
        return self.forward(event, self.target)


class Prober(InstrumentedEntity):
    """Sets gauge ``level`` on every whole second (a probe): held seconds then equal the
    number of held segments, the case a rank rule must not confuse with a sample count.
    Each set is tagged ``phase`` (declared): "even" or "odd" by the tick's parity, so a
    tag filter on a gauge selects the time held from some of its changes."""

    observed_series = (gauge("level", "", tags=("phase",)),)

    def __init__(self, name: str, ticks: int) -> None:
        super().__init__(name)
        self.ticks = ticks

    def handle_event(self, event: Event) -> Any:
        # (the second tick repeats the first: a set to the value already held, always)
        if self.__dict__.get("last") is None or self.__dict__.get("repeated"):
            self.last = float(self.rng.choice([0, 0, 1, 1, 1, 5]))
        else:
            self.repeated = True
        self.set_gauge("level", self.last, phase="odd" if self.ticks % 2 else "even")
        self.ticks -= 1
        if self.ticks > 0:
            return Event(self.now + 1.0, "Tick", self)
        return None


class Worker(QueuedResource):
    """A user QueuedResource: a generator handler, possibly zero-length service."""

    def __init__(self, name: str, service: float, downstream: Entity) -> None:
        super().__init__(name, concurrency=1)
        self.service = service
        self.downstream = downstream

    def handle_queued_event(self, event: Event) -> Any:
        yield self.service
        return self.forward(event, self.downstream)


class Canceller(Entity):
    """Model code that withdraws the longest-waiting request through the public
    ``server.queue.policy.pop()`` (a timeout, a cancellation)."""

    def __init__(self, name: str, server: Server) -> None:
        super().__init__(name)
        self.server = server
        self.popped = 0

    def handle_event(self, event: Event) -> None:
        policy = self.server.queue.policy
        if len(policy):
            policy.pop()
            self.popped += 1


class Faulty(Entity):
    """Passes requests on; raises at the ``raise_at``-th one (a model bug)."""

    def __init__(self, name: str, raise_at: int, downstream: Entity) -> None:
        super().__init__(name)
        self.raise_at, self.downstream, self.n = raise_at, downstream, 0

    def handle_event(self, event: Event) -> Any:
        self.n += 1
        if self.n == self.raise_at:
            raise RuntimeError(f"model bug at request {self.n}")
        return self.forward(event, self.downstream)


def build(spec: ModelSpec, config: Any) -> Simulation:
    """A fresh simulation of `spec` recording with `config` (not run)."""
    sink = LatencyTracker("Sink")
    entities: list[Entity] = [sink]
    after_server: Entity = sink
    if spec.raise_at is not None:
        faulty = Faulty("Faulty", spec.raise_at, sink)
        entities.append(faulty)
        after_server = faulty
    if spec.worker:
        worker = Worker("Worker", spec.worker_service, after_server)
        entities.append(worker)
        after_server = worker
    service = {"exp": lambda: ExponentialLatency(spec.service_mean),
               "const": lambda: ConstantLatency(spec.service_mean),
               "zero": lambda: ConstantLatency(0.0)}[spec.service]()
    server = Server("Server", concurrency=spec.concurrency, service_time=service,
                    queue_capacity=spec.queue_capacity)
    server.downstream = after_server
    entities.append(server)
    front: Entity = server
    if spec.balancer:
        server2 = Server("Server2", concurrency=spec.concurrency, service_time=service,
                         queue_capacity=spec.queue_capacity, downstream=after_server)
        front = LoadBalancer("LB", backends=[server, server2], strategy=RoundRobin())
        entities += [server2, front]
    if spec.router:
        router = Router("Router", front)  # (in front of the balancer, if any)
        entities.append(router)
        front = router
    if spec.client_attempts:
        n = spec.client_attempts
        retry = (ExponentialBackoff(max_attempts=n, initial_delay=0.05, max_delay=0.4)
                 if spec.client_backoff else FixedRetry(max_attempts=n, delay=0.1))
        front = Client("Client", front, timeout=spec.client_timeout, retry_policy=retry)
        entities.append(front)
    make = Source.poisson if spec.arrivals == "poisson" else Source.constant
    source = make(rate=spec.rate, target=front, name="Source", limit=spec.limit)
    if spec.cancels:
        entities.append(Canceller("Canceller", server))
    prober = Prober("Prober", ticks=max(4, spec.limit // 2))
    if spec.probe:
        entities.append(prober)
    sim = Simulation(start_time=spec.start_time or None, sources=[source], entities=entities,
                     seed=spec.seed, observability=config)
    if spec.probe:
        sim.schedule(Event(_at(spec.start_time), "Tick", prober))
    if spec.cancels:
        canceller = next(e for e in entities if isinstance(e, Canceller))
        for t in spec.cancels:
            sim.schedule(Event(_at(spec.start_time + t), "Cancel", canceller))
    return sim


def _at(seconds: float) -> Any:
    from happysimulator import Instant

    return Instant.from_seconds(seconds)
