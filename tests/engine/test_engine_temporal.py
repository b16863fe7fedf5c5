import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from happysimulator import Duration, Instant

ns = st.integers(min_value=-(10**15), max_value=10**15)


def test_from_to_seconds_roundtrip():
    assert Instant.from_seconds(1.5).nanoseconds == 1_500_000_000
    assert Instant.from_seconds(0.3).nanoseconds == 300_000_000  # rounded, not truncated
    assert Instant.from_seconds(2.25).to_seconds() == 2.25
    assert Duration.from_seconds(0.1).nanoseconds == 100_000_000


def test_epoch_and_infinity():
    assert Instant.Epoch.nanoseconds == 0
    assert Instant.Infinity > Instant.from_seconds(1e15)
    assert Instant.Infinity.to_seconds() == math.inf
    assert (Instant.Infinity + 5.0) == Instant.Infinity
    assert Instant.from_seconds(math.inf) == Instant.Infinity


def test_mixed_arithmetic():
    t = Instant.from_seconds(1.0)
    assert t + 0.5 == Instant.from_seconds(1.5)
    assert t + Duration.from_seconds(2) == Instant.from_seconds(3)
    assert t - 0.25 == Instant.from_seconds(0.75)
    assert Instant.from_seconds(3) - t == Duration.from_seconds(2)
    assert isinstance(Instant.from_seconds(3) - t, Duration)
    assert Duration.from_seconds(1) * 3 == Duration.from_seconds(3)
    assert Duration.from_seconds(3) / Duration.from_seconds(1.5) == 2.0
    assert t < 2.0 and t > 0.5  # ordering against float seconds


def test_nan_rejected():
    with pytest.raises(ValueError):
        Instant.from_seconds(float("nan"))


def test_compare_with_wrong_type_is_type_error():
    with pytest.raises(TypeError):
        _ = Instant.from_seconds(1) < "x"


@given(ns, ns)
def test_instant_duration_algebra(a, b):
    ia, d = Instant(a), Duration(b)
    assert (ia + d) - d == ia
    assert (ia + d) - ia == d
    assert (ia + d).nanoseconds == a + b
    assert (Instant(a) < Instant(b)) == (a < b)
    assert (Instant(a) == Instant(b)) == (a == b)
    assert (hash(Instant(a)) == hash(Instant(b))) or a != b
    assert Duration(a) + Duration(b) == Duration(a + b)


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_seconds_roundtrip_is_within_half_ns(s):
    i = Instant.from_seconds(s)
    assert abs(i.to_seconds() - s) <= 1e-9
    assert i + 0.0 == i


@given(st.lists(ns, max_size=30))
def test_ordering_matches_ints(xs):
    assert [i.nanoseconds for i in sorted(Instant(x) for x in xs)] == sorted(xs)
    assert len({Instant(x) for x in xs}) == len(set(xs))
