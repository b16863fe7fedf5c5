"""rate, ewma, delta, derivative, time_weighted."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_testkit import ClockedRun, Obs, run_list
from reactivex.testing import ReactiveTest, TestScheduler

import operators as ops
from operators import TimedValue

on_next, on_completed = ReactiveTest.on_next, ReactiveTest.on_completed


def test_rate_marble_counts_per_simulated_second() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        *[on_next(t, Obs(float(t), 1)) for t in (201, 203, 205, 207, 212)],
        on_completed(235),
    )
    res = scheduler.start(lambda: xs.pipe(ops.rate(10.0)))
    got = [(m.time, m.value.value.value) for m in res.messages if m.value.kind == "N"]
    assert got == [(210, 0.4), (220, 0.1), (230, 0.0)]  # empty window: rate 0, not None


def test_rate_of_sum_and_partial_window() -> None:
    run = ClockedRun(ops.rate(2.0, of="sum"))
    run.emit(0.5, 3.0)
    run.emit(1.0, 5.0)
    run.emit(2.5, 4.0)
    run.complete(at=3.0)
    assert [(w.start, w.value, w.partial) for w in run.out] == [(0.0, 4.0, False), (2.0, 4.0, True)]
    with pytest.raises(ValueError, match="of"):
        ops.rate(1.0, of="max")


def test_ewma_alpha_matches_recurrence() -> None:
    vs = [3.0, 7.0, -2.0, 10.0]
    out = run_list([(i, v) for i, v in enumerate(vs)], ops.ewma(0.3))
    s = vs[0]
    exp = [s]
    for v in vs[1:]:
        s = s + 0.3 * (v - s)
        exp.append(s)
    assert [o.value for o in out] == pytest.approx(exp)
    assert all(isinstance(o, TimedValue) for o in out)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.01, 100.0), st.lists(st.floats(0.0, 10.0), min_size=1, max_size=20))
def test_ewma_halflife_splitting_invariance(halflife, gaps) -> None:
    # A constant input observed at any times stays constant; a step decays as 0.5**(dt/h).
    times = np.cumsum([0.0, *gaps])
    out = run_list([(float(t), 1.0 if i else 0.0) for i, t in enumerate(times)],
                   ops.ewma(halflife=halflife))
    if len(times) > 1:
        dt_total = float(times[-1] - times[0])
        assert out[-1].value == pytest.approx(1.0 - 0.5 ** (dt_total / halflife), abs=1e-9)


def test_ewma_validation() -> None:
    for bad in (dict(), dict(alpha=0.5, halflife=1.0), dict(alpha=0.0), dict(alpha=1.5),
                dict(alpha=math.nan), dict(halflife=0.0), dict(halflife=-1.0)):
        with pytest.raises(ValueError):
            ops.ewma(**bad)


def test_delta_and_derivative() -> None:
    xs = [(0.0, 1.0), (0.5, 2.0), (0.5, 4.0), (2.5, 0.0)]
    assert run_list(xs, ops.delta()) == [TimedValue(0.5, 1.0), TimedValue(0.5, 2.0),
                                         TimedValue(2.5, -4.0)]
    assert run_list(xs, ops.derivative()) == [TimedValue(0.5, 2.0), TimedValue(2.5, -2.0)]


def test_time_weighted_marble_emits_held_value_windows() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(202, Obs(202.0, 2.0)),  # 2 for 4 s, then 4 for 4 s -> 3
        on_next(206, Obs(206.0, 4.0)),
        on_completed(222),
    )
    res = scheduler.start(lambda: xs.pipe(ops.time_weighted(10.0)))
    vals = [(m.time, m.value.value.start, m.value.value.value, m.value.value.partial)
            for m in res.messages if m.value.kind == "N"]
    assert vals == [(210, 200.0, 3.0, False), (220, 210.0, 4.0, False), (222, 220.0, 4.0, True)]
