"""The vectorized window pass answers exactly what per-window aggregation answers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happysim_rx import MetricStore

SAMPLE_AGGS = ["count", "sum", "mean", "min", "max", "first", "last", "stddev", "variance",
               "rate", "p0", "p50", "p99", "p100"]
GAUGE_AGGS = ["count", "sum", "mean", "min", "max", "first", "last", "stddev", "rate"]

pts = st.lists(st.tuples(st.integers(0, 60), st.integers(-5, 20)), max_size=60).map(sorted)


def same(got, want):
    for k, w in want.items():
        g = got[k]
        assert (g is None) == (w is None), k
        if w is not None:
            assert g == pytest.approx(w, rel=1e-9, abs=1e-9), k
            assert isinstance(g, int) == isinstance(w, int), k  # ints stay ints


@settings(max_examples=80, deadline=None)
@given(pts, pts, st.integers(0, 30), st.integers(1, 70), st.sampled_from([0.5, 1.0, 3.0, 7.0]),
       st.booleans(), st.sampled_from(["sample", "counter"]))
def test_sample_windows_match_per_window(p1, p2, a, length, w, pooled, kind):
    store = MetricStore()
    s1, s2 = store.series_for("A", "x", kind), store.series_for("B", "x", kind)
    for t, v in p1:
        s1.append(t / 2, float(v))
    for t, v in p2:
        s2.append(t / 2, float(v) / (1 if v % 3 else 2))  # some non-whole values
    series = [s1, s2] if pooled else [s1]
    edges = list(np.arange(a, a + length + w / 2, w))
    counter = kind == "counter"
    got = store.aggregate_windows(series, SAMPLE_AGGS, edges, weighting="sample",
                                  counter=counter)
    for i, (lo, hi) in enumerate(zip(edges, edges[1:], strict=False)):
        want = store.aggregate(series, SAMPLE_AGGS, lo, hi, weighting="sample",
                               counter=counter).values
        same(got[i], want)


@settings(max_examples=80, deadline=None)
@given(pts, st.integers(0, 30), st.integers(1, 70), st.sampled_from([0.5, 1.0, 3.0, 7.0]),
       st.one_of(st.none(), st.integers(0, 80)))
def test_gauge_windows_match_per_window(p, a, length, w, now):
    store = MetricStore()
    s = store.series_for("A", "g", "gauge")
    for t, v in p:
        s.append(t / 2, float(v))
    edges = list(np.arange(a, a + length + w / 2, w))
    hold = None if now is None else max(float(now), p[-1][0] / 2 if p else 0.0)
    got = store.aggregate_windows([s], GAUGE_AGGS, edges, weighting="time", hold_until=hold)
    for i, (lo, hi) in enumerate(zip(edges, edges[1:], strict=False)):
        want = store.aggregate([s], GAUGE_AGGS, lo, hi, weighting="time",
                               hold_until=hold).values
        same(got[i], want)
    assert store.aggregate_windows([s], ["p50"], edges, weighting="time") is None
