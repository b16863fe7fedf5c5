"""`Resource` keeps amounts exactly (a float as the decimal it prints as): a set of
decimal amounts fits a decimal capacity exactly when their decimal sum does (brute force:
`decimal.Decimal`), and releasing every grant, in any order, restores the capacity
without an overflow error."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from happysimulator.components.resource import Resource

_TENTHS = st.integers(1, 30).map(lambda k: k / 10)  # 0.1 .. 3.0 as floats


@settings(max_examples=200, deadline=None)
@given(capacity=_TENTHS, amounts=st.lists(_TENTHS, min_size=1, max_size=12),
       order=st.randoms(use_true_random=False))
def test_decimal_amounts_fit_and_release_exactly(capacity, amounts, order) -> None:
    res = Resource("R", capacity=capacity)
    free = Decimal(repr(capacity))
    grants = []
    for a in amounts:
        if a > capacity:
            continue
        g = res.try_acquire(a)
        fits = Decimal(repr(a)) <= free
        assert (g is not None) == fits, (capacity, amounts, a, free)
        if g is not None:
            free -= Decimal(repr(a))
            grants.append(g)
        assert res.available == float(free)
    order.shuffle(grants)
    for g in grants:
        g.release()
    assert res.available == capacity and res.utilization == 0.0


def test_int_resource_stays_int_and_infinite_capacity_works() -> None:
    res = Resource("R", capacity=3)
    g = res.try_acquire(2)
    assert res.available == 1 and isinstance(res.available, int)
    g.release()
    inf = Resource("Inf", capacity=float("inf"))
    assert inf.try_acquire(0.1) is not None and inf.available == float("inf")
