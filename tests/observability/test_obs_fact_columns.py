"""Fact lists become numpy columns at each flush (`fact_recorder._ints` / `_floats`): the
same numbers, bit for bit, as an element-by-element conversion, and the list emptied
(the component keeps appending to the same list object)."""

from __future__ import annotations

import math
import struct

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from happysimulator.observability.fact_recorder import _floats, _ints


def _bits(xs) -> list[bytes]:
    return [struct.pack("<d", float(x)) for x in xs]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
                max_size=300))
def test_floats_are_the_same_doubles_bit_for_bit(values):
    facts = list(values)
    out = _floats(facts)
    assert out.dtype == np.float64 and out.flags.writeable
    assert _bits(out.tolist()) == _bits(values)
    assert facts == []  # emptied in place


def test_floats_edge_values_and_empty():
    values = [0.0, -0.0, math.inf, -math.inf, 5e-324, 1.7976931348623157e308, 0.1 + 0.2]
    facts = list(values)
    same = facts
    out = _floats(facts)
    assert _bits(out.tolist()) == _bits(values)
    assert same is facts and facts == []
    assert _floats([]).shape == (0,)


def test_floats_refuse_what_is_not_a_number():
    # (a sink only records floats; anything else is a bug to surface, not to coerce)
    try:
        _floats([1.0, "2"])
    except (struct.error, TypeError, ValueError):
        pass
    else:
        raise AssertionError("a string fact was accepted")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=200))
def test_ints_are_exact(values):
    facts = list(values)
    out = _ints(facts)
    assert out.dtype == np.int64 and out.tolist() == values and facts == []
