"""The M/M/1 models the observer benchmarks share (lambda = 8/s, mu = 10/s, seed 42), in
two shapes: the standard components (``Source.poisson -> Server -> LatencyTracker``) and a
user-written one (a `QueuedResource` subclass whose handler is a generator, and an
`InstrumentedEntity` sink calling ``observe`` once per request); and the first reads a
user makes after a run. Imports happen inside the functions, so a worker process can time
the import itself."""

from __future__ import annotations

import time

LAMBDA, MU, SEED = 8.0, 10.0, 42

def _timed(fn):
    """(result, CPU seconds) of ``fn()``."""
    t0 = time.process_time()
    out = fn()
    return out, time.process_time() - t0


def _config(name: str):
    from happysimulator.observability import ObservabilityConfig

    return getattr(ObservabilityConfig, name)()


def build_server_model(customers: int, config):
    from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source

    server = Server("Server", concurrency=1, service_time=ExponentialLatency(1 / MU))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=LAMBDA, target=server, stop_after=customers / LAMBDA)
    sim = Simulation(sources=[source], entities=[server, sink], seed=SEED,
                     observability=config)
    return sim, sink


def build_user_model(customers: int, config):
    """What a user writes: a QueuedResource with a generator handler and an
    InstrumentedEntity that observes each request's latency."""
    from happysimulator import ExponentialLatency, QueuedResource, Simulation, Source
    from happysimulator.observability import InstrumentedEntity

    class Worker(QueuedResource):
        def __init__(self, name, downstream):
            super().__init__(name, concurrency=1)
            self.downstream = downstream
            self.service = ExponentialLatency(1 / MU)

        def handle_queued_event(self, event):
            yield self.service.sample(self.rng)
            return self.forward(event, self.downstream)

    class Recorder(InstrumentedEntity):
        def handle_event(self, event):
            self.observe("latency", (self.now - event.context["created_at"]).to_seconds())

    sink = Recorder("Sink")
    worker = Worker("Server", sink)
    source = Source.poisson(rate=LAMBDA, target=worker, stop_after=customers / LAMBDA)
    sim = Simulation(sources=[source], entities=[worker, sink], seed=SEED,
                     observability=config)
    return sim, sink


def first_reads(sim, trace_id: int) -> dict[str, float]:
    """CPU seconds of the first reads after a run: a metric query, a span query and an
    event query (10 s in the middle of the run), then one trace."""
    q = sim.query
    end = q.now() or 0.0
    mid = end / 2
    if sim.observability.store == "streaming":
        # bounded stores keep recent spans and events only (an older range is refused,
        # never answered empty): read the newest 10 s there
        mid = end - 10.0
    out = {}
    _, out["read_metric_s"] = _timed(
        lambda: q.metrics("latency").aggregate("mean", "p99").execute())
    _, out["read_spans_s"] = _timed(
        lambda: q.spans().from_entity("Server").between(mid, mid + 10.0).execute())
    _, out["read_events_s"] = _timed(lambda: q.events().between(mid, mid + 10.0).execute())
    ts = q.trace_store
    _, out["read_trace_s"] = _timed(lambda: ts.trace(trace_id))
    return out
