"""StreamingMetricStore: bounded structure, exact when the raw ring covers, else within
the stated bound."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happysim_rx import ManualClock, MetricStore, ObservationBus, QueryEngine, StreamingMetricStore


def feed(store, n, kind="sample", seed=0, rate=1000.0):
    rng = np.random.default_rng(seed)
    s = store.series_for("S", "x", kind)
    t = np.arange(n) / rate
    v = rng.lognormal(0, 1.5, n)
    for tt, vv in zip(t.tolist(), v.tolist(), strict=True):
        s.append(tt, vv)
    s.flush()
    return s, t, v


def test_structure_size_bounded_as_run_grows():
    small = StreamingMetricStore(raw_capacity=2048, fine_buckets=16, coarse_buckets=32)
    big = StreamingMetricStore(raw_capacity=2048, fine_buckets=16, coarse_buckets=32)
    s1, _, _ = feed(small, 50_000, rate=100.0)
    s2, _, _ = feed(big, 500_000, rate=100.0)
    assert s2.n_buckets() <= 16 + 32
    assert big.nbytes() <= 1.15 * small.nbytes() + 4096


def test_exact_when_ring_covers_and_bounded_otherwise():
    store = StreamingMetricStore(raw_capacity=4096)
    s, t, v = feed(store, 100_000)
    # Last 2 s (2000 samples) are inside the ring: exact.
    a = store.aggregate([s], ["p99", "count"], 98.0, 100.0, weighting="sample")
    sel = v[(t >= 98.0) & (t < 100.0)]
    assert a.exact and a.values["p99"] == pytest.approx(np.quantile(sel, 0.99))
    # The whole run: approximate, within the stated relative bound (+ rank slack).
    a = store.aggregate(
        [s], ["p50", "p99", "p999", "count", "mean"], 0.0, 100.0, weighting="sample"
    )
    assert not a.exact and a.error_bound == 0.005 and a.time_resolution >= 1.0
    assert a.values["count"] == 100_000
    assert a.values["mean"] == pytest.approx(v.mean())
    for name, q in (("p50", 0.5), ("p99", 0.99), ("p999", 0.999)):
        exact = np.quantile(v, q)
        assert abs(a.values[name] - exact) / exact < 0.01


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 200), st.integers(0, 20)), min_size=2, max_size=400).map(
        lambda p: sorted(p)
    ),
    st.integers(0, 150),
)
def test_gauge_streaming_matches_exact_store(points, t1):
    t2 = t1 + 50
    clock = ManualClock()
    bus = ObservationBus(clock)
    exact = bus.attach_store(MetricStore())
    stream = StreamingMetricStore(
        raw_capacity=16, bucket_width=1.0, fine_buckets=8, coarse_buckets=8
    )
    bus.attach_store(stream)
    g = bus.metric("S", "depth", "gauge")
    for t, v in points:
        g.emit(t, v)
    se, ss = exact.select("depth"), stream.select("depth")
    a = stream.aggregate(ss, ["mean", "max", "p50"], t1, t2, weighting="time")
    # the answer is about the range it states (edges snapped where only rollups remain)
    e = exact.aggregate(se, ["mean", "max", "p50"], a.start, a.end, weighting="time")
    assert a.start <= t2 and a.end >= t1
    if a.exact:
        assert a.values == pytest.approx(e.values, nan_ok=True)
    else:
        assert {k: a.values[k] for k in ("mean", "max")} == pytest.approx(
            {k: e.values[k] for k in ("mean", "max")}, nan_ok=True)
        if e.values["p50"]:
            assert abs(a.values["p50"] - e.values["p50"]) <= a.error_bound * e.values["p50"]


def test_query_engine_over_streaming_store_reports_honesty():
    clock = ManualClock()
    bus = ObservationBus(clock)
    bus.attach_store(StreamingMetricStore(raw_capacity=512))
    x = bus.metric("S", "lat", "sample")
    for i in range(20_000):
        x.emit(i * 0.01, float(i % 100))
    clock.advance_to(200.0)
    eng = QueryEngine(bus)
    r = eng.metrics("lat").aggregate("p99").execute()
    assert not r.exact and r.error_bound == 0.005 and r.time_resolution is not None
    assert r.scalar == pytest.approx(98.0, rel=0.01)
    r = eng.metrics("lat").between(199.0, 200.0).aggregate("p99").execute()
    assert r.exact and r.error_bound is None
