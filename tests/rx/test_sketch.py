"""QuantileSketch: answers within the stated relative bound, exact merges."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from operators.sketch import QuantileSketch

values = st.lists(
    st.floats(min_value=1e-6, max_value=1e6, allow_nan=False), min_size=1, max_size=300
)
quantiles = st.floats(min_value=0.0, max_value=1.0)


def rank_item(x: np.ndarray, q: float) -> float:
    """The item the sketch promises to approximate (rank q*(n-1), rounded down)."""
    xs = np.sort(x)
    return float(xs[int(np.floor(q * (len(xs) - 1)))])


@settings(max_examples=150, deadline=None)
@given(values, quantiles)
def test_quantile_within_relative_bound(vs, q):
    x = np.asarray(vs)
    s = QuantileSketch(0.01)
    s.add_many(x)
    got = s.quantile(q)
    want = rank_item(x, q)
    assert abs(got - want) <= 0.01 * abs(want) * (1 + 1e-9)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.floats(min_value=-1e4, max_value=1e4, allow_nan=False), min_size=1, max_size=200),
    quantiles,
)
def test_signed_values_and_zero(vs, q):
    x = np.asarray(vs)
    s = QuantileSketch(0.01)
    for v in x:
        s.add(v)
    got, want = s.quantile(q), rank_item(x, q)
    assert abs(got - want) <= 0.01 * abs(want) + 1e-9 + 0.01 * 1e-9 or abs(want) < 1e-9


@settings(max_examples=60, deadline=None)
@given(values, values)
def test_merge_equals_sketch_of_concatenation(a, b):
    sa, sb, sab = QuantileSketch(), QuantileSketch(), QuantileSketch()
    sa.add_many(a)
    sb.add_many(b)
    sab.add_many(a + b)
    sa.merge(sb)
    assert sa.count == sab.count
    for q in (0.0, 0.1, 0.5, 0.9, 0.99, 1.0):
        assert sa.quantile(q) == sab.quantile(q)


def test_scalar_add_equals_add_many():
    x = np.random.default_rng(0).lognormal(0, 1.5, 5000)
    a, b = QuantileSketch(), QuantileSketch()
    for v in x:
        a.add(v)
    b.add_many(x)
    assert a.quantiles([0.5, 0.99, 0.999]) == b.quantiles([0.5, 0.99, 0.999])


def test_lognormal_targets_within_one_percent():
    x = np.random.default_rng(1).lognormal(0, 1.5, 200_000)
    s = QuantileSketch()
    s.add_many(x)
    for q in (0.5, 0.99, 0.999):
        exact = np.quantile(x, q)
        assert abs(s.quantile(q) - exact) / exact < 0.01


def test_weighted_quantile_inverted_cdf():
    s = QuantileSketch(0.001)
    s.add_many([1.0, 10.0], weights=[9.0, 1.0])  # value 1 held 90% of the time
    assert s.quantile(0.5) == pytest.approx(1.0, rel=0.001)
    assert s.quantile(0.95) == pytest.approx(10.0, rel=0.001)


def test_bucket_count_bounded_by_collapsing():
    s = QuantileSketch(0.01, max_buckets=64)
    s.add_many(np.geomspace(1e-6, 1e6, 10_000))
    assert s.nbytes() < 64 * 8 + 1000
    assert s.collapsed
    assert s.quantile(0.99) == pytest.approx(
        np.quantile(np.geomspace(1e-6, 1e6, 10_000), 0.99), rel=0.02
    )


def test_round_trip_dict_and_errors():
    s = QuantileSketch()
    s.add_many([1.0, 2.0, 3.0])
    t = QuantileSketch.from_dict(s.to_dict())
    assert t.quantile(0.5) == s.quantile(0.5) and t.count == 3
    assert QuantileSketch().quantile(0.5) is None
    with pytest.raises(ValueError, match="quantile"):
        s.quantile(1.5)
    with pytest.raises(ValueError):
        QuantileSketch(0.0)
    with pytest.raises(ValueError, match="relative_accuracy"):
        s.merge(QuantileSketch(0.02))


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=400),
    cuts=st.lists(st.integers(1, 399), max_size=12),
    sign=st.sampled_from(["positive", "zeros", "any", "constant runs"]),
    weighted=st.sampled_from([None, "positive", "some zero"]),
    max_buckets=st.sampled_from([8, 2048]),
    prefill=st.booleans(),
)
def test_add_runs_equals_add_many_per_run(values, cuts, sign, weighted, max_buckets,
                                          prefill):
    """Feeding consecutive runs of one array to many sketches in one pass leaves every
    sketch as if each had got its run through add_many (the vectorized fast path for
    non-negative values, weighted or not, with zeros, into sketches already holding
    values or collapsing their low tail, and the fallback alike)."""
    v = np.array(values)
    if sign == "positive":
        v = np.abs(v) + 1e-3
    elif sign == "zeros":  # time-weighted queue depths: many exact zeros
        v = np.where(np.arange(v.size) % 3 == 0, 0.0, np.abs(v))
    w = None
    if weighted is not None:
        w = np.abs(np.cos(np.arange(v.size))) + 0.01
        if weighted == "some zero":
            w[::4] = 0.0
    bounds = sorted({c for c in cuts if c < v.size})
    starts, ends = [0, *bounds], [*bounds, v.size]
    if sign == "constant runs":  # a counter's increments: one value per run
        for a, b in zip(starts, ends, strict=True):
            v[a:b] = abs(v[a]) + 1e-3
    fast = [QuantileSketch(0.01, max_buckets=max_buckets) for _ in starts]
    slow = [QuantileSketch(0.01, max_buckets=max_buckets) for _ in starts]
    if prefill:
        for sk in (*fast, *slow):
            sk.add_many([1e-4, 3.0, 1e5])
    QuantileSketch.add_runs(fast, v, starts, ends, w)
    for sk, a, b in zip(slow, starts, ends, strict=True):
        sk.add_many(v[a:b], None if w is None else w[a:b])
    for f, s in zip(fast, slow, strict=True):
        assert f.count == s.count
        assert f.n == s.n and f.collapsed == s.collapsed
        assert (f.min, f.max) == (s.min, s.max)
        assert f.sum == pytest.approx(s.sum, rel=1e-12, abs=1e-9)
        for q in (0.0, 0.1, 0.5, 0.9, 0.99, 1.0):
            assert f.quantile(q) == s.quantile(q)


@settings(max_examples=20, deadline=None)
@given(accuracy=st.sampled_from([0.001, 0.005, 0.05]),
       values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), max_size=50))
def test_empty_like_is_a_fresh_sketch_with_the_same_parameters(accuracy, values):
    used = QuantileSketch(accuracy, max_buckets=64, min_value=1e-6)
    used.add_many([1.0, 2.0, -3.0])
    like, fresh = used.empty_like(), QuantileSketch(accuracy, max_buckets=64, min_value=1e-6)
    assert like.to_dict() == fresh.to_dict()
    for sk in (like, fresh):
        sk.add_many(values)
    assert like.to_dict() == fresh.to_dict()
    assert used.count == 3.0  # untouched
