"""Issue 19, items 6, 8, 9, 10 and 17: ranges past now, globs over mixed kinds, stores
that do not record a kind, and entities asked about before their first record.

References are computed here from the raw rows of an exact store (brute force)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from happysim_rx import ManualClock, MetricStore, ObservationBus, QueryEngine
from happysim_rx.query import QueryError
from happysimulator import (
    ConstantLatency,
    ExponentialLatency,
    LatencyTracker,
    Server,
    Simulation,
    Source,
)
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol.session import SessionProtocol


def _mm1(cfg=None, stop=1000.0, seed=42):
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    src = Source.poisson(rate=8.0, target=server, stop_after=stop)
    return Simulation(sources=[src], entities=[server, sink], seed=seed,
                      observability=cfg or ObservabilityConfig.full())


def _raw(sim, name, entity="Server"):
    rows = sim.query.metrics(name).from_entity(entity).execute().rows
    return np.array([r["time"] for r in rows]), np.array([r["value"] for r in rows])


def test_item8_counter_rate_past_now_divides_by_the_time_covered_up_to_now():
    sim = _mm1()
    sim.control.run_until(100.0)
    now = sim.control.get_state().current_time.to_seconds()
    t, v = _raw(sim, "arrivals")
    for a, b in ((50.0, 5000.0), (90.0, 120.0)):
        r = (sim.query.metrics("arrivals").from_entity("Server").between(a, b)
             .aggregate("rate", "count").execute())
        row = r.rows[0]
        n = int(v[(t >= a) & (t <= now)].sum())
        assert row["count"] == n
        assert row["rate"] == pytest.approx(n / (now - a), rel=1e-12)
        # the answer states the range it covers: up to and including now
        assert row["end"] == r.end == math.nextafter(now, math.inf) and r.exact


def test_item8_windows_stop_at_now_and_the_last_one_says_where_it_ends():
    sim = _mm1()
    sim.control.run_until(100.0)
    now = sim.control.get_state().current_time.to_seconds()
    t, v = _raw(sim, "arrivals")
    r = (sim.query.metrics("arrivals").from_entity("Server").between(80.0, 120.0)
         .window(15.0).aggregate("rate").execute())
    # windows on the 15 s grid, the one reaching past now cut there; after now: nothing
    assert [(x["start"], x["end"]) for x in r.rows] == [
        (80.0, 90.0), (90.0, math.nextafter(now, math.inf)), (105.0, 120.0)]
    assert r.rows[-1]["rate"] is None  # not a made-up 0/s for time that has not come
    last = r.rows[1]
    n = int(v[(t >= 90.0) & (t <= now)].sum())
    assert last["rate"] == pytest.approx(n / (now - 90.0), rel=1e-12)


def test_item16_since_after_now_is_refused_and_a_future_range_has_nothing_yet():
    sim = _mm1(stop=30.0)
    sim.run()
    with pytest.raises(QueryError, match="after the current simulated time"):
        sim.query.metrics("queue_depth").since(1000.0).aggregate("mean").execute()
    with pytest.raises(QueryError, match="after the current simulated time"):
        sim.query.spans().since(1000.0).aggregate("count").execute()
    # a fixed range polled from the start answers at any time (nothing yet), no error
    r = sim.query.metrics("queue_depth").between(1000.0, 2000.0).aggregate("count").execute()
    assert r.rows[0]["count"] == 0


def test_item6_a_range_reaching_past_now_holds_the_value_that_fired_at_large_times():
    bus = ObservationBus(ManualClock())
    bus.attach_store(MetricStore())
    engine = QueryEngine(bus)
    depth = bus.metric("Server", "queue_depth", "gauge")
    t0 = 3e7  # past ~1.7e7 s, now + 1e-9 rounds to now
    bus.clock.advance_to(t0)
    depth.emit(t0, 20.0)
    bus.clock.advance_to(t0 + 5.0)
    depth.emit(t0 + 5.0, 21.0)  # the change that fires a breakpoint, at now
    now = bus.clock.now()
    assert now + 1e-9 == now  # (the old way to reach just past now)
    for q in (engine.metrics("queue_depth").since(now - 10.0),
              engine.metrics("queue_depth").between(now - 10.0, now + 10.0)):
        r = q.aggregate("last", "max").execute()
        assert r.value("last") == r.value("max") == 21.0


def test_item6_protocol_last_s_includes_the_value_in_effect_at_now_at_large_times():
    from happysimulator import Instant
    from happysimulator.observability import Breakpoint, MetricCondition

    server = Server("Server", concurrency=1, service_time=ConstantLatency(0.5))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    start = 3e7
    src = Source.constant(rate=4.0, target=server, stop_after=start + 20.0)
    sim = Simulation(sources=[src], entities=[server, sink], seed=1,
                     start_time=Instant.from_seconds(start),
                     observability=ObservabilityConfig.full())
    sim.control.add_breakpoint(Breakpoint(
        metric_condition=MetricCondition("Server", "queue_depth", "gt", 5)))
    sim.run()
    assert sim.control.get_state().is_paused
    session = SessionProtocol(sim)
    ans = session.handle({"op": "query", "query": {
        "kind": "metrics", "name": "queue_depth", "entity": "Server", "last_s": 10,
        "aggregates": ["last", "max"]}})
    row = ans["result"]["rows"][0]
    assert row["last"] == row["max"] == 6.0


def test_item9_glob_grouped_by_name_weights_each_series_by_its_own_kind():
    sim = _mm1()
    sim.control.run_until(100.0)
    now = sim.control.get_state().current_time.to_seconds()
    r = (sim.query.metrics("*").from_entity("Server").between(0.0, 100.0)
         .group_by("name").aggregate("mean").execute())
    by = {row["name"]: row for row in r.rows}
    t, v = _raw(sim, "queue_depth")
    stop = min(100.0, now)
    held = np.diff(np.append(t, stop))
    tw = float(np.dot(v, held) / held.sum())  # explicit held segments from t=0
    assert by["queue_depth"]["mean"] == pytest.approx(tw, rel=1e-9)
    assert by["queue_depth"]["weighting"] == "time"
    wt = _raw(sim, "wait_time")[1]
    assert by["wait_time"]["mean"] == pytest.approx(float(wt.mean()), rel=1e-12)
    assert by["wait_time"]["weighting"] == "sample"
    assert r.weighting == "mixed"


def test_item10_events_under_default_are_refused_naming_the_config():
    sim = _mm1(ObservabilityConfig.default(), stop=10.0)
    sim.run()
    with pytest.raises(QueryError, match=r"events=True|full\(\)"):
        sim.query.events().aggregate("count").execute()
    with pytest.raises(QueryError, match="not recorded"):
        sim.query.events("Request").execute()


def test_item17_an_entity_known_to_the_simulation_answers_empty_before_its_first_span():
    sim = _mm1(stop=10.0)
    r = sim.query.spans().from_entity("Sink").aggregate("count").execute()
    assert r.rows[0]["count"] == 0
    assert sim.query.spans().from_entity("Sink").execute().rows == []
    sim.control.step(1)
    assert sim.query.spans().from_entity("Sink").execute().rows == []
    with pytest.raises(QueryError, match="unknown entity 'Snik'.*did you mean 'Sink'"):
        sim.query.spans().from_entity("Snik").execute()
    sim.run()
    assert sim.query.spans().from_entity("Sink").aggregate("count").execute().rows[0][
        "count"] > 0
