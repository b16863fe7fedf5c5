"""ObservabilityConfig presets and fields, and the query errors users meet first."""

from __future__ import annotations

import math

import numpy as np
import pytest
from obs_testkit import mm1

from happysimulator import Entity, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import ObservabilityConfig, QueryError


class HookSpy(LatencyTracker):
    """A sink that records the simulation's per-event hook while the run is going."""

    def __init__(self, name="Sink"):
        super().__init__(name)
        self.hooks = set()

    def handle_event(self, event):
        self.hooks.add(self._sim._hook)
        return super().handle_event(event)


def _spy_sim(config, seed=3):
    server = Server("Server", concurrency=1, service_time=0.05)
    sink = HookSpy()
    server.downstream = sink
    source = Source.poisson(rate=10.0, target=server, stop_after=30.0)
    sim = Simulation(sources=[source], entities=[server, sink], seed=seed, observability=config)
    return sim, source, server, sink


def test_disabled_installs_no_instrumentation_and_no_hook():
    sim, source, server, sink = _spy_sim(ObservabilityConfig.disabled())
    assert all(e._instr is None for e in (source, server, sink))
    sim.run()
    assert sink.hooks == {None} and sink.count > 100
    assert sim._hook is None
    with pytest.raises(QueryError, match="unknown metric 'latency'|no metric store"):
        sim.query.metrics("latency").aggregate("mean").execute()
    # the same seed gives the same model behaviour with or without observability
    sim2, _, _, sink2 = _spy_sim(ObservabilityConfig.full())
    sim2.run()
    assert sink2.data.raw_values() == sink.data.raw_values()
    assert sim2.events_processed == sim.events_processed


def test_default_and_full_runs_need_no_hook_either():
    for cfg in (ObservabilityConfig.default(), None, True, ObservabilityConfig.full()):
        sim, _, _, sink = _spy_sim(cfg)
        sim.run()
        assert sink.hooks == {None}, cfg
    # full keeps every processed event through the loop's own log, not a hook
    events = sim.query.event_store.between(-1.0, 1e9)
    assert len(events) == sim.events_processed
    assert sim.control.get_state().last_event is not None


def test_last_event_is_the_newest_logged_even_if_its_object_was_reused():
    """With only the event log watching, components reuse processed event objects; the
    state's last event still shows the newest logged event as it was."""
    sim, _, _, _ = _spy_sim(ObservabilityConfig.full())
    kinds = set()
    for _ in range(80):  # one event at a time, without a per-event hook
        sim.run(max_events=1)
        last = sim.control.get_state().last_event
        row = sim.query.event_store.between(-1.0, 1e9)[-1]
        assert (last.time.to_seconds(), last.event_type) == (row["time"], row["name"])
        assert last.time == sim.now
        kinds.add(last.event_type)
    assert {"source.tick", "service.done"} <= kinds  # the types whose objects are reused
    # a bounded event store too: it is trimmed on the flush schedule
    sim, _, _, sink = _spy_sim(ObservabilityConfig.full().replace(event_capacity=100))
    sim.run()
    assert sink.hooks == {None}
    store = sim.query.event_store
    assert len(store) == 100 and store.n_total == sim.events_processed
    newest = store.between(-1.0, 1e9)
    assert newest[-1]["time"] == sim.clock.now() and newest[0]["time"] < newest[-1]["time"]


def test_bounded_event_store_stays_bounded_during_a_long_run():
    server = Server("Server", concurrency=1, service_time=0.005)
    source = Source.poisson(rate=150.0, target=server, stop_after=400.0)
    cfg = ObservabilityConfig.full().replace(event_capacity=1000)
    sim = Simulation(sources=[source], entities=[server], seed=1, observability=cfg)
    store = sim.query.event_store
    sizes = []
    for t in range(10, 401, 10):
        sim.control.at_time(float(t), lambda: sizes.append(len(store._raw)))
    sim.run()
    assert sim.events_processed > 150_000
    # the raw log holds 3 items per event; it is trimmed to ~the flush schedule's 8k facts
    assert max(sizes) < 3 * 30_000
    assert len(store) == 1000 and store.n_total == sim.events_processed


def test_default_records_metrics_and_traces_but_no_processed_events():
    server = Server("Server", concurrency=1, service_time=0.05)
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=10.0, target=server, stop_after=30.0)
    sim = Simulation(sources=[source], entities=[server, sink], seed=2)
    assert sim.observability == ObservabilityConfig.default()
    sim.run()
    assert sim.query.metrics("latency").aggregate("count").execute().scalar == sink.count
    assert len(sim.query.trace_store) == 3 * sink.count
    assert len(sim.query.event_store) == 0
    assert sim.query.catalog()["events"] == []


def test_streaming_answers_approximately_within_its_error_bound():
    cfg = ObservabilityConfig.streaming().replace(raw_samples=256)
    sim, source, server, sink = mm1(seed=12, lam=8.0, mu=10.0, stop_after=1000.0, config=cfg)
    assert sink.max_samples == cfg.raw_samples  # streaming bounds the legacy list too
    sink.max_samples = None  # ... but this test wants every latency as ground truth
    sim.run()
    lat = np.sort(np.asarray(sink.data.raw_values()))
    n = len(lat)
    # rollups answer at bucket resolution: ask for a range made of whole buckets
    end = (math.floor(sim.clock.now() / cfg.rollup_s) + 1) * cfg.rollup_s
    res = (
        sim.query.metrics("latency")
        .between(0.0, end)
        .aggregate("count", "p50", "p99", "max", "mean")
        .execute()
    )
    assert res.exact is False and res.error_bound == pytest.approx(cfg.relative_accuracy)
    assert res.value("count") == n
    assert res.value("max") == lat[-1]
    assert res.value("mean") == pytest.approx(lat.mean(), rel=1e-9)
    for q in (0.5, 0.99):
        got = res.value(f"p{int(q * 100)}")
        lo = lat[max(0, int(np.floor(q * (n - 1))) - 1)]
        hi = lat[min(n - 1, int(np.ceil(q * (n - 1))) + 1)]
        eb = res.error_bound
        assert lo * (1 - eb) - 1e-12 <= got <= hi * (1 + eb) + 1e-12, (q, got, lo, hi)
    # a time-weighted gauge mean agrees with the exact store of an identical run
    exact, *_ = mm1(seed=12, lam=8.0, mu=10.0, stop_after=1000.0)
    exact.run()
    for name in ("queue_depth", "in_flight"):
        a = sim.query.metrics(name).between(0.0, end).aggregate("mean").execute().scalar
        b = exact.query.metrics(name).between(0.0, end).aggregate("mean").execute().scalar
        assert a == pytest.approx(b, rel=1e-6)
    # recent raw data is still exact
    recent = sim.query.metrics("latency").between(990.0, end).aggregate("mean").execute()
    times, vals = np.asarray(sink.data.times()), np.asarray(sink.data.raw_values())
    assert recent.exact
    assert recent.value("mean") == pytest.approx(vals[times >= 990.0].mean(), rel=1e-9)


def test_streaming_memory_does_not_grow_with_run_length():
    # traces=False keeps the test fast; the trace store's own bound is tested below
    cfg = ObservabilityConfig.streaming().replace(traces=False)
    sizes = []
    # both lengths are past the point where the rollup tiers fill up (fine: 64 x 10 s,
    # coarse: 128 buckets that double in width): from there on memory must stay flat.
    # (Not from 3000 s: coarse buckets hold a few unsketched values until a compaction
    # merges them, which is smaller than a sketch: the store is smallest then.)
    for T in (6000.0, 24000.0):
        sim, *_ = mm1(seed=1, stop_after=T, config=cfg)
        sim.run()
        sizes.append((sim.query.metric_store.nbytes(), len(sim.query.event_store)))
    (m1, e1), (m2, e2) = sizes
    assert e1 == e2 == cfg.event_capacity
    # 4x the run length; flat means far from 4x. Realizations vary (seeds 1-3: 1.24x,
    # 1.22x, 0.98x): the rollups' sketches widen with the extremes a longer run sees
    assert m2 < 1.3 * m1, sizes


def test_bounded_trace_store_keeps_the_newest_whole_traces():
    cfg = ObservabilityConfig.full().replace(trace_capacity=50)
    sim, source, *_ = mm1(seed=1, stop_after=40.0, config=cfg)
    sim.run()
    ts = sim.query.trace_store
    ids = ts.trace_ids()
    assert len(ids) == 50 and ts.evicted_traces == source.generated - 50
    assert ids == sorted(ids)[-50:] == list(range(source.generated - 49, source.generated + 1))
    assert len(ts) == 150


def test_bounded_trace_store_skipping_doomed_traces_matches_keeping_everything():
    """A bounded trace store builds only traces that survive; read at arbitrary points it
    keeps exactly the newest whole traces, with the spans an unbounded store has."""
    bounded = ObservabilityConfig.full().replace(trace_capacity=100)
    sim, source, *_ = mm1(seed=2, stop_after=900.0, config=bounded)
    ref, *_ = mm1(seed=2, stop_after=900.0, config=ObservabilityConfig.full())
    ref.run()
    for t in (50.0, 51.0, 400.0):
        sim.control.run_until(t)
        assert len(sim.query.trace_store.trace_ids()) == 100
    sim.run()
    ts, full_ts = sim.query.trace_store, ref.query.trace_store
    ids = ts.trace_ids()
    assert source.generated > 6000
    assert ids == list(range(source.generated - 99, source.generated + 1))
    assert ts.evicted_traces == source.generated - 100
    for tid in ids[::7]:
        assert ts.trace(tid) == full_ts.trace(tid)


def test_replace_and_validation():
    full = ObservabilityConfig.full()
    assert full.replace(events=False).events is False and full.events is True
    with pytest.raises(TypeError, match="unknown config field.*'evnts'.*valid"):
        full.replace(evnts=False)
    with pytest.raises(ValueError, match="store must be one of"):
        ObservabilityConfig(store="fast")
    with pytest.raises(ValueError, match="trace_sample_rate"):
        ObservabilityConfig(trace_sample_rate=1.5)
    with pytest.raises(ValueError, match="trace_sample_rate"):
        ObservabilityConfig(trace_sample_rate=float("nan"))
    with pytest.raises(ValueError, match="rollup_s"):
        ObservabilityConfig(rollup_s=0)
    with pytest.raises(ValueError, match="event_capacity"):
        ObservabilityConfig(event_capacity=0)
    with pytest.raises(TypeError, match="observability must be"):
        mm1(config="full")
    assert not ObservabilityConfig.disabled().records_anything
    assert ObservabilityConfig.streaming().store == "streaming"


def test_unknown_metric_and_entity_errors_suggest_close_names():
    sim, *_ = mm1(seed=2, stop_after=10.0)
    sim.run()
    with pytest.raises(QueryError, match="queue_depth"):
        sim.query.metrics("queue_dept").aggregate("mean").execute()
    with pytest.raises(QueryError, match="Server"):
        sim.query.metrics("queue_depth").from_entity("Servr").aggregate("mean").execute()
    with pytest.raises(QueryError, match="p99"):
        sim.query.metrics("latency").aggregate("p999x").execute()
    with pytest.raises(QueryError):
        sim.query.metrics("latency").between(5.0, 1.0).aggregate("mean").execute()


def test_declared_series_without_data_gives_none_not_zero():
    sim, _, server, _ = mm1(seed=2, stop_after=10.0)
    sim.run()
    assert server.dropped == 0
    res = sim.query.metrics("dropped").aggregate("sum", "mean", "max").execute()
    assert res.scalar is None and res.value("mean") is None and res.value("max") is None
    empty = sim.query.metrics("latency").between(0.0, 1e-6).aggregate("mean", "p99").execute()
    assert empty.value("mean") is None and empty.value("p99") is None


def test_metrics_off_keeps_traces_and_vice_versa():
    sim, _, _, sink = mm1(
        seed=2, stop_after=10.0, config=ObservabilityConfig.default().replace(metrics=False)
    )
    sim.run()
    assert len(sim.query.trace_store) == 3 * sink.count
    assert sim.query.metric_store is None
    sim, _, _, sink = mm1(
        seed=2, stop_after=10.0, config=ObservabilityConfig.default().replace(traces=False)
    )
    sim.run()
    assert sim.query.trace_store is None
    assert sim.query.metrics("latency").aggregate("count").execute().scalar == sink.count


def test_plain_entity_is_not_instrumented():
    class Echo(Entity):
        def handle_event(self, event):
            return None

    e = Echo("Echo")
    sim = Simulation(entities=[e], observability=ObservabilityConfig.full())
    assert e._instr is None
    assert sim.run().stop_reason == "complete"
