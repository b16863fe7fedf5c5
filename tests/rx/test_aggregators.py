"""Aggregators equal numpy on raw data; merging split streams equals the whole."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from operators.aggregators import AGGREGATE_NAMES, make_aggregator, parse_quantile

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
samples = st.lists(finite, min_size=1, max_size=120)

NUMPY = {
    "count": lambda x: float(len(x)),
    "sum": np.sum,
    "mean": np.mean,
    "min": np.min,
    "max": np.max,
    "stddev": np.std,
    "variance": np.var,
    "first": lambda x: x[0],
    "last": lambda x: x[-1],
    "p50": lambda x: np.quantile(x, 0.5),
    "p99": lambda x: np.quantile(x, 0.99),
    "p999": lambda x: np.quantile(x, 0.999),
    "p12.5": lambda x: np.quantile(x, 0.125),
}


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6 * (1 + abs(b)))


@settings(max_examples=60, deadline=None)
@given(samples, st.sampled_from(sorted(NUMPY)), st.integers(min_value=0, max_value=120))
def test_sample_aggregates_match_numpy_and_merge(xs, spec, cut):
    x = np.asarray(xs)
    whole = make_aggregator(spec)
    a, b = make_aggregator(spec), make_aggregator(spec)
    for i, v in enumerate(xs):
        whole.add(float(i), v)
        (a if i < cut else b).add(float(i), v)
    a.merge(b)
    want = float(NUMPY[spec](x))
    assert close(whole.result(), want)
    assert close(a.result(), want)
    assert whole.exact and whole.weighting == "sample"


def brute_force_time_mean(changes, end):
    """Integrate a step function by walking the change points one by one."""
    area = dur = 0.0
    for (t0, v0), (t1, _) in zip(changes, changes[1:] + [(end, None)], strict=True):
        area += v0 * (t1 - t0)
        dur += t1 - t0
    return area / dur


gauge = st.lists(
    st.tuples(st.floats(min_value=0.0, max_value=100.0), st.floats(min_value=-50, max_value=50)),
    min_size=1,
    max_size=60,
).map(lambda pts: sorted(pts, key=lambda p: p[0]))


@settings(max_examples=80, deadline=None)
@given(gauge, st.floats(min_value=0.001, max_value=50.0), st.integers(min_value=0, max_value=60))
def test_time_weighted_mean_vs_brute_force(pts, extra, cut):
    end = pts[-1][0] + extra
    agg = make_aggregator("mean", weighting="time")
    a, b = make_aggregator("mean", weighting="time"), make_aggregator("mean", weighting="time")
    for i, (t, v) in enumerate(pts):
        agg.add(t, v)
        (a if i < cut else b).add(t, v)
    want = brute_force_time_mean(pts, end)
    assert math.isclose(agg.result(end=end), want, rel_tol=1e-9, abs_tol=1e-9)
    a.merge(b)
    assert math.isclose(a.result(end=end), want, rel_tol=1e-9, abs_tol=1e-9)
    agg.close(end)
    assert math.isclose(agg.result(), want, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=60, deadline=None)
@given(gauge, st.floats(min_value=0.001, max_value=50.0), st.sampled_from([0.1, 0.5, 0.9]))
def test_time_weighted_quantile_vs_expanded_grid(pts, extra, q):
    # Integer-time version: expand each value by its whole seconds held.
    pts = [(float(round(t)), round(v)) for t, v in pts]
    pts = sorted(dict(pts).items())
    end = pts[-1][0] + math.ceil(extra)
    agg = make_aggregator(f"p{int(q * 100)}", weighting="time")
    grid = []
    for (t0, v0), (t1, _) in zip(pts, pts[1:] + [(end, None)], strict=True):
        agg.add(t0, v0)
        grid += [v0] * int(t1 - t0)
    got = agg.result(end=end)
    xs = np.sort(grid)
    assert got == xs[int(math.ceil(q * len(xs))) - 1]  # inverted-CDF quantile


def test_rate_needs_span():
    r = make_aggregator("rate")
    for t in range(10):
        r.add(t * 0.5, 1.0)
    assert r.result(0.0, 10.0) == 1.0
    r.span = 5.0
    assert r.result() == 2.0
    c = make_aggregator("rate", rate_of="sum")
    c.add(0.0, 3.0)
    assert c.result(0.0, 2.0) == 1.5


def test_quantile_spills_to_sketch_with_bound():
    agg = make_aggregator("p99")
    x = np.random.default_rng(3).lognormal(0, 1.5, 5000)
    for i, v in enumerate(x):
        agg.add(float(i), float(v))
    assert not agg.exact and agg.error_bound == 0.005
    assert abs(agg.result() - np.quantile(x, 0.99)) / np.quantile(x, 0.99) < 0.01
    exact = make_aggregator("p99", exact=True)
    for i, v in enumerate(x):
        exact.add(float(i), float(v))
    assert exact.exact and exact.result() == pytest.approx(np.quantile(x, 0.99))


def test_empty_results_are_none_and_count_zero():
    for name in AGGREGATE_NAMES:
        agg = make_aggregator(name)
        assert agg.result() == (0.0 if name == "count" else None), name


def test_spec_parsing_and_errors():
    assert parse_quantile("p50") == 0.5 and parse_quantile("p999") == 0.999
    assert parse_quantile("p99.9") == 0.999 and parse_quantile("p5") == 0.05
    assert parse_quantile("p100") == 1.0 and parse_quantile("p101.5") is None
    with pytest.raises(ValueError, match="did you mean 'p99'.*valid: count, sum"):
        make_aggregator("p99x")
    with pytest.raises(ValueError, match="valid"):
        make_aggregator("median_ish")
    with pytest.raises(ValueError, match="weighting"):
        make_aggregator("mean", weighting="wall")
    assert make_aggregator("mean", weighting="time").weighting == "time"
    assert make_aggregator("max", weighting="time").weighting == "sample"
