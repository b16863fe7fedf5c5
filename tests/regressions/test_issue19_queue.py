"""Issue 19, item 7 (a request taken off the waiting line by model code), item 11 (a
live time-weighted window starts from the gauge's value in effect) and the spans of
`InstrumentedEntity`s (item "also")."""

from __future__ import annotations

import bisect

import numpy as np
import pytest

import operators as ops
from happysimulator import (
    ConstantLatency,
    Event,
    ExponentialLatency,
    LatencyTracker,
    Server,
    Simulation,
    Source,
)
from happysimulator.observability import InstrumentedEntity, ObservabilityConfig


def _model(cfg):
    server = Server("Server", concurrency=1, service_time=ConstantLatency(1.0))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    src = Source.constant(rate=4.0, target=server, stop_after=20.0)  # overloaded
    sim = Simulation(sources=[src], entities=[server, sink], seed=1, observability=cfg)
    return sim, server


@pytest.mark.parametrize("name", ["full", "streaming"])
def test_item7_requests_popped_by_model_code_leave_queue_depth_when_they_go(name):
    cfg = {"full": ObservabilityConfig.full(),
           "streaming": ObservabilityConfig.streaming().replace(raw_samples=4096)}[name]
    sim, server = _model(cfg)
    truth: list[tuple[float, int]] = []  # the model's own depth after every event
    sim.control.on_event(lambda ev: truth.append((sim.now.to_seconds(), server.depth)))

    def cancel():  # e.g. a timeout: three waiting requests are abandoned
        for _ in range(3):
            server.queue.policy.pop()

    sim.control.at_time(5.0, cancel)
    sim.control.at_time(9.5, lambda: server.queue.policy.pop())
    sim.control.run_until(12.0)
    rows = sim.query.metrics("queue_depth").from_entity("Server").execute().rows
    times = [r["time"] for r in rows]
    for t, depth in {t: d for t, d in truth}.items():  # the value after each instant
        k = bisect.bisect_right(times, t) - 1
        assert rows[k]["value"] == depth, (t, rows[k], depth)
    sim.control.resume()
    # the four abandoned requests never started: no wait time, no service time
    waits = sim.query.metrics("wait_time").from_entity("Server").aggregate("count")
    assert waits.execute().scalar == server.completed == 80 - 4


def test_item7_a_run_read_in_between_records_the_removals_alike():
    def run(step: bool):
        sim, server = _model(ObservabilityConfig.full())
        sim.control.at_time(5.0, lambda: server.queue.policy.pop())
        if step:
            while sim.control.step(7):
                sim.query.metrics("queue_depth").from_entity("Server").aggregate("max") \
                    .execute()
        else:
            sim.run()
        return [(r["time"], r["value"]) for r in sim.query.metrics("queue_depth")
                .from_entity("Server").execute().rows]

    assert run(True) == run(False)


def test_item11_live_time_weighted_window_includes_the_value_in_effect_at_start():
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    src = Source.poisson(rate=8.0, target=server, stop_after=30.0)
    sim = Simulation(sources=[src], entities=[server, sink], seed=7,
                     observability=ObservabilityConfig.full())
    got = []
    sim.observations.metrics("in_flight", source="Server").pipe(
        ops.time_weighted(2.0, clock=sim.scheduler),
    ).subscribe(got.append)
    sim.run()
    assert len(got) > 5
    for w in got[:8]:
        q = (sim.query.metrics("in_flight").from_entity("Server")
             .between(w.start, w.end).aggregate("mean").execute().scalar)
        assert w.value == pytest.approx(q, rel=1e-9, abs=1e-12), (w.start, w.value, q)


class Router(InstrumentedEntity):
    """A user's entity: its spans are its own to record (docs: record_span)."""

    def __init__(self, name, target):
        super().__init__(name)
        self.target = target

    def handle_event(self, event):
        self.record_span(event, self.now.to_seconds(), hop="router")
        return [Event(self.now, "Request", self.target, context=event.context)]


def test_instrumented_entity_spans_are_recorded_by_record_span_and_join_the_trace():
    server = Server("Server", concurrency=1, service_time=ConstantLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    router = Router("Router", server)
    src = Source.constant(rate=2.0, target=router, stop_after=5.0)
    sim = Simulation(sources=[src], entities=[router, server, sink], seed=1,
                     observability=ObservabilityConfig.full())
    sim.run()
    spans = sim.query.spans().from_entity("Router").execute().rows
    assert len(spans) == sink.count > 0
    tid = spans[0]["trace_id"]
    chain = [s.entity for s in sim.query.trace_store.critical_path(tid)]
    assert chain.index("Router") < chain.index("Server") < chain.index("Sink")
    assert np.all([s["duration"] == 0.0 for s in spans])
