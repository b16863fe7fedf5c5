"""A model written the happysim 0.2.5 way becomes observable with no change to its code.

The model below uses only what 0.2.5 offered: a ``QueuedResource`` subclass that models
its own capacity with ``has_capacity()`` and its own ``in_flight`` counter, a generator
``handle_queued_event`` (three workers), a ``Profile`` subclass (``get_rate``) driving a
``Source`` through the 0.2.5 provider classes, ``Probe.on`` / ``Data``. The test turns
``ObservabilityConfig.full()`` on from the outside and checks every auto-instrumented
series against what the model itself recorded (brute force).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass

import pytest

from happysimulator import (
    Event,
    FIFOQueue,
    Instant,
    LatencyTracker,
    MetricBreakpoint,
    Probe,
    Profile,
    QueuedResource,
    Simulation,
    Source,
)
from happysimulator.load.event_provider import EventProvider
from happysimulator.load.providers.poisson_arrival import PoissonArrivalTimeProvider
from happysimulator.observability import Breakpoint, MetricCondition, ObservabilityConfig

WORKERS = 3
END_S = 60.0


# ---- the model, in the 0.2.5 style (nothing here knows about observability) -----------
@dataclass(frozen=True)
class StepLoad(Profile):
    low: float = 10.0
    high: float = 40.0
    switch_s: float = 20.0
    back_s: float = 35.0

    def get_rate(self, time: Instant) -> float:
        t = time.to_seconds()
        return self.high if self.switch_s <= t < self.back_s else self.low


class Requests(EventProvider):
    def __init__(self, target):
        self._target = target
        self.generated = 0

    def get_events(self, time: Instant) -> list[Event]:
        self.generated += 1
        return [Event(time=time, event_type="Request", target=self._target,
                      context={"created_at": time, "request_id": self.generated})]


class WorkerPool(QueuedResource):
    """Three workers; each request takes an exponential time (mean 0.2 s)."""

    def __init__(self, name: str, downstream, workers: int = WORKERS):
        super().__init__(name, policy=FIFOQueue())
        self.downstream = downstream
        self.workers = workers
        self.in_flight = 0  # the model's own counter (0.2.5 had none)
        self.peak_in_flight = 0
        self.service_draws: list[float] = []
        self.rng = random.Random(11)

    def has_capacity(self) -> bool:
        return self.in_flight < self.workers

    def handle_queued_event(self, event: Event) -> Generator[float, None, list[Event]]:
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        service = self.rng.expovariate(5.0)
        self.service_draws.append(service)
        yield service
        self.in_flight -= 1
        return [self.forward(event, self.downstream, event_type="Done")]


def build(observability=None):
    sink = LatencyTracker("Sink")
    pool = WorkerPool("Pool", downstream=sink)
    provider = Requests(pool)
    source = Source(name="Load", event_provider=provider,
                    arrival_time_provider=PoissonArrivalTimeProvider(StepLoad(),
                                                                     start_time=Instant.Epoch))
    probe, depth = Probe.on(pool, "depth", interval=0.5)
    kw = {} if observability is None else {"observability": observability}
    sim = Simulation(start_time=Instant.Epoch, end_time=Instant.from_seconds(END_S),
                     sources=[source], entities=[pool, sink], probes=[probe], seed=5, **kw)
    return sim, pool, sink, provider, depth


def _values(sim, name, entity):
    r = (sim.query.metrics(name).from_entity(entity).between(0, END_S + 1).execute())
    return [row["value"] for row in r.rows]


@pytest.fixture(scope="module")
def observed():
    sim, pool, sink, provider, depth = build(ObservabilityConfig.full())
    sim.run()
    return sim, pool, sink, provider, depth


def test_model_runs_unchanged_and_respects_its_own_capacity(observed):
    sim, pool, sink, provider, depth = observed
    assert pool.peak_in_flight == WORKERS  # the overload phase fills all three workers
    assert sink.count > 0 and provider.generated >= sink.count
    # the 0.2.5 Data shapes: (time, value) pairs from the probe
    assert depth.values and all(len(p) == 2 for p in depth.values)
    assert max(depth.raw_values()) > WORKERS  # requests queued during the burst


def _ns(values):
    return Counter(round(v * 1e9) for v in values)


def test_samples_match_what_the_model_recorded(observed):
    sim, pool, sink, provider, depth = observed
    lat = _values(sim, "latency", "Sink")
    assert sorted(lat) == pytest.approx(sorted(sink.data.raw_values()), abs=1e-9)
    service = _values(sim, "service_time", "Pool")
    assert len(service) == pool.completed == sink.count
    # every finished service is one of the model's own draws (to the nanosecond)
    draws = Counter(int(d * 1e9 + 0.5) for d in pool.service_draws)
    assert not _ns(service) - draws
    unfinished = draws - _ns(service)
    assert sum(unfinished.values()) == len(pool.service_draws) - pool.completed <= WORKERS
    waits = _values(sim, "wait_time", "Pool")
    assert len(waits) == len(pool.service_draws)  # one wait per started request
    # no delay outside the pool: latency = wait + service per finished request; the
    # requests still in service at the end account for the rest of the waits
    gap = sum(waits) + sum(service) - sum(lat)
    assert -1e-6 <= gap <= sum(sorted(waits)[-sum(unfinished.values()):] or [0.0]) + 1e-6


def test_gauges_are_consistent_with_the_model(observed):
    sim, pool, sink, provider, depth = observed
    in_flight = _values(sim, "in_flight", "Pool")
    assert max(in_flight) == WORKERS and min(in_flight) >= 0
    q = sim.query.metrics("queue_depth").from_entity("Pool").between(0, END_S + 1)
    assert q.aggregate("max").execute().scalar >= max(depth.raw_values())
    assert q.aggregate("last").execute().scalar == pool.depth
    # busy time: the time integral of in_flight is the service time served, plus part of
    # the services still running at the end
    mean_busy = (sim.query.metrics("in_flight").from_entity("Pool").between(0, END_S)
                 .aggregate("mean").execute().scalar)
    service = _values(sim, "service_time", "Pool")
    draws = Counter(int(d * 1e9 + 0.5) for d in pool.service_draws)
    in_progress = sum((draws - _ns(service)).elements()) / 1e9
    assert sum(service) - 1e-6 <= mean_busy * END_S <= sum(service) + in_progress + 1e-6


def test_every_request_has_spans_through_pool_and_sink(observed):
    sim, pool, sink, provider, depth = observed
    rows = sim.query.spans().from_entity("Sink").limit(5).execute().rows
    assert rows
    for row in rows:
        path = sim.query.trace_store.trace(row["trace_id"])
        assert [s.entity for s in path] == ["Load", "Pool", "Sink"]
    pool_spans = sim.query.spans().from_entity("Pool").aggregate("count").execute().scalar
    assert pool_spans == pool.completed


def test_pauses_on_the_models_own_breakpoint_and_resumes_to_the_same_result(observed):
    ref_sim, ref_pool, ref_sink, *_ = observed
    sim, pool, sink, provider, depth = build(ObservabilityConfig.full())
    sim.control.add_breakpoint(MetricBreakpoint(entity_name="Pool", attribute="depth",
                                                operator="gt", threshold=5))
    sim.run()
    state = sim.control.get_state()
    assert state.is_paused and "Pool.depth" in state.paused_by
    assert pool.depth > 5
    # the same question through the query API, at the pause
    now = state.current_time.to_seconds()
    assert (sim.query.metrics("queue_depth").from_entity("Pool").between(0, now + 1e-9)
            .aggregate("last").execute().scalar) == pool.depth
    sim.control.clear_breakpoints()
    sim.control.add_breakpoint(Breakpoint(
        metric_condition=MetricCondition("Pool", "in_flight", "ge", WORKERS)))
    sim.control.resume()
    while sim.control.get_state().is_paused:
        assert pool.in_service == WORKERS
        sim.control.clear_breakpoints()
        sim.control.resume()
    # pausing changed nothing: the run equals the uninterrupted one
    assert sink.data.samples() == ref_sink.data.samples()
    assert _values(sim, "queue_depth", "Pool") == _values(ref_sim, "queue_depth", "Pool")
