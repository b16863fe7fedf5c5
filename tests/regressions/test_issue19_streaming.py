"""Issue 19, items 1, 2 and 5: what the streaming stores answer about evicted ranges.

Each test holds the streaming answer against a brute-force reference computed here
from the same observations (sorting, explicit held segments), or expects a refusal.
"""

from __future__ import annotations

import numpy as np
import pytest

from happysim_rx.query import QueryError
from happysim_rx.stores.metric import MetricStore
from happysim_rx.stores.streaming import StreamingMetricStore
from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import ObservabilityConfig
from operators.sketch import QuantileSketch


def _held_quantile(values: list[float], q: float) -> float:
    """A gauge changing every whole second holds each value 1 s: the time-weighted
    quantile is the inverted CDF over the held seconds (the first value whose
    cumulative held time exceeds q * total)."""
    v = np.sort(np.asarray(values, dtype=float))
    k = int(np.searchsorted(np.arange(1, v.size + 1), q * v.size, side="right"))
    return float(v[min(k, v.size - 1)])


def test_item1_time_weighted_percentile_on_whole_seconds_uses_the_weighted_rank():
    # a probe-like gauge changing on whole seconds: held seconds == segments
    values = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 5.0, 6.0, 7.0]
    store = StreamingMetricStore(raw_capacity=2)  # [0, 4) is only in the rollups
    s = store.series_for("Probe", "depth", "gauge")
    exact = MetricStore()
    e = exact.series_for("Probe", "depth", "gauge")
    for i, v in enumerate(values):
        s.append(float(i), v)
        e.append(float(i), v)
    got = store.aggregate([s], ["p90", "p50"], 0.0, 4.0, weighting="time")
    ref = exact.aggregate([e], ["p90", "p50"], 0.0, 4.0, weighting="time").values
    assert not got.exact and got.error_bound is not None
    for q, name in ((0.9, "p90"), (0.5, "p50")):
        want = _held_quantile(values[:4], q)
        assert ref[name] == want
        assert abs(got.values[name] - want) <= got.error_bound * abs(want), name


def test_item1_sketch_rank_rule_follows_weights_not_a_coincidence_of_counts():
    weighted, plain = QuantileSketch(0.001), QuantileSketch(0.001)
    weighted.add_many([0.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0])  # W == n
    plain.add_many([0.0, 0.0, 0.0, 1.0])
    assert abs(weighted.quantile(0.9) - 1.0) <= 0.0011  # q*W = 3.6 -> the 4th
    assert plain.quantile(0.9) == 0.0  # numpy's linear rank q*(n-1) = 2.7 -> 3rd
    assert plain.quantile(0.9) == pytest.approx(float(np.quantile([0, 0, 0, 1.0], 0.9,
                                                                  method="lower")))
    merged = QuantileSketch(0.001)
    merged.merge(weighted)
    assert merged.quantile(0.9) == weighted.quantile(0.9)
    back = QuantileSketch.from_dict(weighted.to_dict())
    assert back.quantile(0.9) == weighted.quantile(0.9)


def test_item2_sample_weighted_percentiles_of_a_gauge_are_not_taken_from_time_rollups():
    store = StreamingMetricStore(raw_capacity=4)
    s = store.series_for("Router", "load", "gauge")
    values = [1.0 if i % 2 == 0 else float(i + 1) for i in range(100)]
    for i, v in enumerate(values):
        s.append(float(i), v)
    with pytest.raises(ValueError, match="per-sample quantiles of the gauge Router.load"):
        store.aggregate([s], ["p50"], 0.0, 100.0, weighting="sample")
    # where the raw ring reaches, the samples' own quantile is answered exactly
    tail = store.aggregate([s], ["p50", "count"], 97.0, 100.0, weighting="sample")
    assert tail.values["count"] == 3
    assert tail.values["p50"] == float(np.quantile(values[97:], 0.5))
    # counts and means of samples over the rollups stay exact
    whole = store.aggregate([s], ["count", "mean"], 0.0, 100.0, weighting="sample")
    assert whole.values["count"] == 100
    assert whole.values["mean"] == pytest.approx(float(np.mean(values)))


def test_item2_through_the_query_api_the_refusal_is_a_query_error():
    sim = _mm1(ObservabilityConfig.streaming().replace(raw_samples=16, rollup_s=1.0), 60.0)
    sim.run()
    q = sim.query.metrics("queue_depth").from_entity("Server").between(0.0, 30.0)
    with pytest.raises(QueryError, match="per-sample quantiles"):
        q.weighting("sample").aggregate("p50").execute()
    assert q.aggregate("p50").execute().weighting == "time"


def _mm1(cfg: ObservabilityConfig, stop: float) -> Simulation:
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    src = Source.poisson(rate=8.0, target=server, stop_after=stop)
    return Simulation(sources=[src], entities=[server, sink], seed=42, observability=cfg)


@pytest.mark.parametrize("kind", ["events", "spans"])
def test_item5_aggregate_over_an_evicted_range_is_refused_not_zero(kind):
    cfg = ObservabilityConfig.streaming().replace(event_capacity=300, trace_capacity=100)
    sim = _mm1(cfg, 200.0)
    sim.run()
    q = sim.query.events() if kind == "events" else sim.query.spans()
    with pytest.raises(QueryError, match="evicted by the bounded store"):
        q.between(0.0, 50.0).aggregate("count").execute()


@pytest.mark.parametrize("kind", ["events", "spans"])
def test_item5_a_range_partly_evicted_states_the_narrower_range_it_covers(kind):
    cfg = ObservabilityConfig.streaming().replace(event_capacity=300, trace_capacity=100)
    full = _mm1(ObservabilityConfig.full(), 200.0)
    full.run()
    sim = _mm1(cfg, 200.0)
    sim.run()
    q = sim.query.events() if kind == "events" else sim.query.spans()
    r = q.between(0.0, 200.0).aggregate("count").execute()
    row = r.rows[0]
    assert row["start"] > 0.0 and r.start == row["start"] and r.exact
    # over the stated range the count is the exact store's
    qf = full.query.events() if kind == "events" else full.query.spans()
    ref = qf.between(row["start"], row["end"]).aggregate("count").execute().rows[0]["count"]
    assert row["count"] == ref > 0
