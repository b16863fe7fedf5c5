"""InstrumentedEntity, instrument_queued_resource, and Rx time operators in simulated time."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import reactivex.operators as rxops
from obs_testkit import metric_arrays, mm1

from happysimulator import LatencyTracker, QueuedResource, Simulation, Source
from happysimulator.observability import (
    InstrumentedEntity,
    ObservabilityConfig,
    instrument_queued_resource,
)


class Cache(InstrumentedEntity):
    """Keeps the last few keys; records what it does both in lists and via the bus."""

    def __init__(self, name="Cache"):
        super().__init__(name)
        self.keys: list[int] = []
        self.log = {"lookup": [], "size": [], "hits": [], "evicted": [], "mode": []}

    def handle_event(self, event):
        t = self.now.to_seconds()
        key = int(self.rng.random() * 8)
        hit = key in self.keys
        if hit:
            self.increment("hits")
            self.log["hits"].append(t)
        else:
            self.keys.append(key)
            if len(self.keys) > 4:
                old = self.keys.pop(0)
                self.emit_event("evicted", {"key": old})
                self.log["evicted"].append((t, old))
        lookup = 0.001 if hit else 0.01
        self.observe("lookup_time", lookup, hit=hit)
        self.log["lookup"].append((t, lookup))
        self.set_gauge("size", len(self.keys))
        self.log["size"].append((t, len(self.keys)))
        mode = "warm" if len(self.keys) >= 4 else "cold"
        if not self.log["mode"] or self.log["mode"][-1][1] != mode:
            self.set_state("mode", mode)
            self.log["mode"].append((t, mode))
        return None


def _cache_sim(config=None, seed=5):
    cache = Cache()
    source = Source.poisson(rate=20.0, target=cache, stop_after=30.0)
    sim = Simulation(
        sources=[source],
        entities=[cache],
        seed=seed,
        observability=config or ObservabilityConfig.full(),
    )
    return sim, cache


def test_instrumented_entity_calls_are_queryable():
    sim, cache = _cache_sim()
    states = []
    sim.observations.state("mode", source="Cache").subscribe(
        lambda o: states.append((o.time, o.value))
    )
    sim.run()
    q = sim.query
    lt, lv = metric_arrays(sim, "Cache", "lookup_time")
    assert list(zip(lt, lv, strict=True)) == cache.log["lookup"]
    res = q.metrics("lookup_time").from_entity("Cache").aggregate("count", "mean", "p90").execute()
    x = np.array([v for _, v in cache.log["lookup"]])
    assert res.value("count") == len(x) and res.value("mean") == pytest.approx(x.mean())
    assert res.weighting == "sample"
    # tags on samples: filter and group
    hits = q.metrics("lookup_time").where(hit=True).aggregate("count").execute().scalar
    assert hits == len(cache.log["hits"])
    # gauge: time-weighted
    g = q.metrics("size").between(5.0, 25.0).aggregate("mean").execute()
    assert g.weighting == "time"
    st, sv = (
        np.array([t for t, _ in cache.log["size"]]),
        np.array([v for _, v in cache.log["size"]]),
    )
    grid = np.linspace(5.0, 25.0, 200_001)[:-1]
    idx = np.searchsorted(st, grid, side="right") - 1
    assert g.scalar == pytest.approx(sv[idx].mean(), abs=1e-3)
    # counter
    c = q.metrics("hits").aggregate("sum", "rate").execute()
    assert c.value("sum") == len(cache.log["hits"])
    # events and state changes
    ev = q.events("evicted").execute().rows
    assert [(r["time"], r["value"]["key"]) for r in ev] == cache.log["evicted"]
    mode_rows = q.events("mode").execute().rows
    assert [(r["time"], r["value"]) for r in mode_rows] == cache.log["mode"]
    assert states == cache.log["mode"]


def test_instrumented_entity_is_a_no_op_when_disabled():
    sim, cache = _cache_sim(ObservabilityConfig.disabled())
    sim.run()
    assert len(cache.log["lookup"]) > 100  # ran fine, recorded nothing
    sim2, cache2 = _cache_sim(ObservabilityConfig.full())
    sim2.run()
    assert cache2.log == cache.log  # same model behaviour


class Worker(QueuedResource):
    """A custom QueuedResource: 0.04 s of work per request, then on to the sink."""

    def __init__(self, name, sink):
        super().__init__(name, concurrency=2)
        self.sink = sink

    def handle_queued_event(self, event):
        yield 0.04
        return self.forward(event, self.sink)


def _worker_sim(reachable: bool):
    sink = LatencyTracker("Sink")
    worker = Worker("Worker", sink)
    if reachable:
        source = Source.poisson(rate=40.0, target=worker, stop_after=20.0)
        entities = [worker, sink]
    else:
        # the worker is hidden behind a closure: the simulation cannot discover it
        from happysimulator import CallbackEntity

        front = CallbackEntity("Front", lambda ev: front.forward(ev, worker))
        source = Source.poisson(rate=40.0, target=front, stop_after=20.0)
        entities = [front, sink]
    sim = Simulation(
        sources=[source], entities=entities, seed=9, observability=ObservabilityConfig.full()
    )
    return sim, worker, sink


def _check_standard_series(sim, worker, sink):
    q = sim.query
    agg = lambda n, a: q.metrics(n).from_entity("Worker").aggregate(a).execute().scalar  # noqa: E731
    assert worker.arrivals > 500
    assert agg("arrivals", "sum") == worker.arrivals
    assert agg("completed", "sum") == worker.completed == worker.arrivals
    _, svc = metric_arrays(sim, "Worker", "service_time")
    np.testing.assert_allclose(svc, 0.04, atol=1e-9)
    assert agg("in_flight", "max") == 2
    assert agg("queue_depth", "max") >= 1
    assert agg("in_flight", "mean") == pytest.approx(worker.utilization * 2, rel=1e-9)
    wt, wv = metric_arrays(sim, "Worker", "wait_time")
    assert len(wt) == worker.arrivals and (wv >= 0).all()
    # latency = wait + service, request by request (FIFO)
    lat = q.metrics("latency").from_entity("Sink").aggregate("mean").execute().scalar
    assert lat == pytest.approx(wv.mean() + 0.04, rel=1e-6)
    ts = q.trace_store
    for tid in ts.trace_ids()[:50]:
        ents = [s.entity for s in ts.trace(tid)]
        assert "Worker" in ents and ents[-1] == "Sink"


def test_custom_queued_resource_is_auto_instrumented_when_reachable():
    sim, worker, sink = _worker_sim(reachable=True)
    instr = worker._instr
    assert instr is not None
    instrument_queued_resource(worker, sim)  # already instrumented: nothing changes
    assert worker._instr is instr
    assert len(metric_arrays(sim, "Worker", "queue_depth")[0]) == 1  # one initial value
    sim.run()
    _check_standard_series(sim, worker, sink)


def test_instrument_queued_resource_for_an_unreachable_resource():
    sim, worker, sink = _worker_sim(reachable=False)
    assert worker._instr is None
    assert instrument_queued_resource(worker, sim) is worker
    assert worker._instr is not None
    sim.run()
    _check_standard_series(sim, worker, sink)
    with pytest.raises(TypeError):
        instrument_queued_resource(sink, sim)
    with pytest.raises(ValueError, match="not in an observable simulation"):
        instrument_queued_resource(Worker("Lonely", sink))


def test_rx_time_operator_runs_in_simulated_time_without_threads():
    sim, source, server, sink = mm1(seed=13, stop_after=20.0)
    batches = []
    done = []
    threads_before = {t.ident for t in threading.enumerate()}
    sim.observations.metrics("latency").pipe(rxops.buffer_with_time(1.0)).subscribe(
        on_next=lambda b: batches.append((sim.clock.now(), [o.time for o in b])),
        on_completed=lambda: done.append(sim.clock.now()),
    )
    started = []
    orig = threading.Thread.start

    def spy(self, *a, **k):
        started.append(self)
        return orig(self, *a, **k)

    threading.Thread.start = spy
    try:
        sim.run()
    finally:
        threading.Thread.start = orig
    assert started == []
    assert {t.ident for t in threading.enumerate()} <= threads_before
    # each buffer is emitted at simulated k seconds and holds the samples of [k-1, k)
    full = [b for b in batches[:-1]]
    assert [round(t, 9) for t, _ in full] == [float(k) for k in range(1, len(full) + 1)]
    for t_emit, times in full:
        assert all(t_emit - 1.0 <= x < t_emit for x in times)
    all_times = [x for _, b in batches for x in b]
    assert all_times == sink.data.times()
    assert done == [sim.clock.now()]
