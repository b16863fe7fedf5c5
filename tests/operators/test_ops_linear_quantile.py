"""The pure-Python quantile used when a window closes equals numpy.quantile exactly."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from operators.aggregators import linear_quantile, make_aggregator

_values = st.lists(st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.integers(-1000, 1000)),
                   min_size=1, max_size=300)


@settings(max_examples=300, deadline=None)
@given(_values, st.one_of(st.sampled_from([0.0, 0.5, 0.9, 0.99, 0.999, 1.0]),
                          st.floats(0.0, 1.0)))
def test_linear_quantile_is_numpy_bit_for_bit(values, q):
    assert linear_quantile(values, q) == float(np.quantile(values, q))


def test_nan_follows_numpy():
    assert np.isnan(linear_quantile([1.0, float("nan"), 2.0], 0.5))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=256))
def test_the_quantile_aggregator_answers_as_numpy(values):
    agg = make_aggregator("p99")
    for v in values:
        agg.add(0.0, v)
    assert agg.result() == float(np.quantile(values, 0.99))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's own inf - inf
@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=20),
       st.floats(0.0, 1.0))
def test_infinities_and_nan_follow_numpy(values, q):
    np.testing.assert_equal(linear_quantile(values, q), float(np.quantile(values, q)))
