"""The gauges derived at each flush (queue_depth, in_flight) against a brute-force walk.

`_level` turns sorted +1 times and -1 times into the gauge's settled changes with numpy;
the reference below replays the records one by one in plain Python."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from happysimulator.observability.auto_instrument import _level


def _reference(ups: list[int], downs: list[int], last: int) -> tuple[list[int], list[int]]:
    """Replay: at each instant apply every record, then keep the value if it changed."""
    times, values, value = [], [], last
    for t in sorted(set(ups) | set(downs)):
        value += ups.count(t) - downs.count(t)
        if value != (values[-1] if values else last):
            times.append(t)
            values.append(value)
    return times, values


times = st.lists(st.integers(0, 30), max_size=40).map(sorted)


@settings(max_examples=200, deadline=None)
@given(times, times, st.integers(-5, 5))
def test_level_matches_a_replay(ups, downs, last):
    t, v = _level(np.array(ups, dtype=np.int64), np.array(downs, dtype=np.int64), last)
    assert t.dtype == np.int64 and v.dtype == np.int64
    assert (t.tolist(), v.tolist()) == _reference(ups, downs, last)


def test_level_with_big_times_and_a_momentary_dip():
    # a server handing over at 2e12 ns: 1 -> 0 -> 1 within the instant is no change
    ns = 2 * 10**12
    t, v = _level(np.array([ns, ns + 5], dtype=np.int64), np.array([ns + 5], dtype=np.int64), 0)
    assert (t.tolist(), v.tolist()) == ([ns], [1])


# times whose doubles overflow int64 (past 2**62 ns, before -2**62 ns) take the other path
edge = st.lists(st.sampled_from([-(2**63) + 1, -(2**62) - 1, -(2**62), -1, 0, 7,
                                 2**62 - 1, 2**62, 2**63 - 1]), max_size=12).map(sorted)


@settings(max_examples=200, deadline=None)
@given(edge, edge, st.integers(-5, 5))
def test_level_matches_a_replay_at_the_ends_of_int64(ups, downs, last):
    t, v = _level(np.array(ups, dtype=np.int64), np.array(downs, dtype=np.int64), last)
    assert (t.tolist(), v.tolist()) == _reference(ups, downs, last)
