"""threshold (hysteresis), sustained (timer-exact), edge_triggered, comparisons."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_testkit import ClockedRun, Obs, run_list
from reactivex.testing import ReactiveTest, TestScheduler

import operators as ops
from operators import FakeClock, SchedulerClock, SustainedEvent, ThresholdEvent

on_next, on_completed = ReactiveTest.on_next, ReactiveTest.on_completed


# -- comparisons / validation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "name"),
    [("gt", "gt"), (">", "gt"), (">=", "ge"), ("le", "le"), ("<", "lt"), ("==", "eq"),
     ("!=", "ne"), ("GE", "ge")],
)
def test_parse_comparison(op: str, name: str) -> None:
    assert ops.parse_comparison(op)[0] == name


def test_unknown_op_lists_valid_ones() -> None:
    with pytest.raises(ValueError) as exc:
        ops.threshold("bigger", 1.0)
    for valid in ("gt", "ge", "lt", "le", "eq", "ne", ">", ">="):
        assert repr(valid) in str(exc.value)


def test_nan_threshold_rejected() -> None:
    with pytest.raises(ValueError, match="NaN"):
        ops.threshold("gt", float("nan"))
    with pytest.raises(ValueError, match="NaN"):
        ops.threshold("gt", 1.0, clear_at=math.nan)
    with pytest.raises(ValueError, match="NaN"):
        ops.compare(">", float("nan"))


def test_clear_at_must_be_on_the_clearing_side() -> None:
    with pytest.raises(ValueError, match="clear_at"):
        ops.threshold("gt", 50, clear_at=60)
    with pytest.raises(ValueError, match="clear_at"):
        ops.threshold("lt", 10, clear_at=5)
    with pytest.raises(ValueError, match="clear_at"):
        ops.threshold("eq", 10, clear_at=5)


# -- threshold ----------------------------------------------------------------------------


def test_threshold_hysteresis() -> None:
    xs = [(0, 10), (1, 51), (2, 45), (3, 55), (4, 40), (5, 41), (6, 60), (7, 39)]
    out = run_list(xs, ops.threshold("gt", 50, clear_at=40))
    assert out == [
        ThresholdEvent(1, 51, True),
        ThresholdEvent(4, 40, False),  # 45 stays active; 40 clears (not > 40)
        ThresholdEvent(6, 60, True),
        ThresholdEvent(7, 39, False),
    ]


def test_threshold_without_hysteresis_and_emit_all() -> None:
    xs = [(0, 1), (1, 6), (2, 4), (3, float("nan")), (4, 7)]
    assert [(e.time, e.active) for e in run_list(xs, ops.threshold(">", 5))] == [
        (1, True), (2, False), (4, True)
    ]
    allv = run_list(xs, ops.threshold(">", 5, emit="all"))
    assert [e.active for e in allv] == [False, True, False, True]  # NaN ignored


def test_threshold_lt_hysteresis() -> None:
    xs = [(0, 5), (1, 0.5), (2, 1.5), (3, 2.5), (4, 0.9)]
    out = run_list(xs, ops.threshold("<", 1, clear_at=2))
    assert [(e.time, e.active) for e in out] == [(1, True), (3, False), (4, True)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 100), max_size=60))
def test_threshold_state_machine_property(values) -> None:
    out = run_list([(i, v) for i, v in enumerate(values)],
                   ops.threshold(">=", 60, clear_at=30, emit="all"))
    active = False
    for e, v in zip(out, values, strict=True):
        active = v >= 60 if not active else v >= 30
        assert e.active == active


# -- sustained -------------------------------------------------------------------------


def _sustained_run(d: float = 5.0) -> tuple[ClockedRun, FakeClock]:
    clock = FakeClock()
    run = ClockedRun(ops.sustained(ops.compare(">", 50), d, clock=clock), clock=clock)
    return run, clock


def test_sustained_fires_exactly_at_start_plus_duration_without_new_items() -> None:
    run, _ = _sustained_run(5.0)
    run.emit(1.0, 10)
    run.emit(2.3, 60)  # starts holding at 2.3
    run.emit(4.0, 70)
    run.advance_to(7.2999)
    assert run.out == []
    run.advance_to(100.0)
    assert run.out == [SustainedEvent(7.3, 2.3, 70)]
    assert run.at == [7.3]  # by the timer, at exactly start + duration


def test_sustained_does_not_fire_when_condition_breaks_earlier() -> None:
    run, clock = _sustained_run(5.0)
    run.emit(0.0, 60)
    run.emit(4.999, 40)  # broke just before 5.0
    run.advance_to(20.0)
    assert run.out == []
    assert clock.pending == 0  # the timer was cancelled
    run.emit(21.0, 99)
    run.emit(25.0, 99)
    run.advance_to(26.0)
    assert run.out == [SustainedEvent(26.0, 21.0, 99)]


def test_sustained_fires_once_per_episode_and_rearms() -> None:
    run, _ = _sustained_run(1.0)
    for t in (0.0, 0.5, 1.5, 2.5):
        run.emit(t, 60)
    run.emit(3.0, 10)
    run.emit(4.0, 60)
    run.advance_to(10.0)
    assert [(e.since, e.time) for e in run.out] == [(0.0, 1.0), (4.0, 5.0)]


def test_sustained_false_item_exactly_at_deadline_still_fires() -> None:
    # Without a clock the deadline is discovered by the next item.
    xs = [(0.0, 60), (5.0, 10)]
    out = run_list(xs, ops.sustained(ops.compare(">", 50), 5.0))
    assert out == [SustainedEvent(5.0, 0.0, 60)]
    assert run_list([(0.0, 60), (4.9, 10)], ops.sustained(ops.compare(">", 50), 5.0)) == []


def test_sustained_zero_duration_fires_immediately() -> None:
    out = run_list([(0, 1), (1, 60), (2, 70)], ops.sustained(ops.compare(">", 50), 0.0))
    assert out == [SustainedEvent(1.0, 1.0, 60)]


def test_sustained_marble_with_test_scheduler() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(210, Obs(210.0, 60)),
        on_next(220, Obs(220.0, 10)),  # breaks: no fire
        on_next(230, Obs(230.0, 70)),
        on_next(240, Obs(240.0, 80)),
        on_completed(300),
    )
    pred = ops.compare(">", 50)
    res = scheduler.start(
        lambda: xs.pipe(ops.sustained(pred, 15.0, clock=SchedulerClock(scheduler)))
    )
    assert res.messages == [
        on_next(245, SustainedEvent(245.0, 230.0, 80)),
        on_completed(300),
    ]


def test_sustained_on_threshold_state_uses_hysteresis() -> None:
    clock = FakeClock()
    run = ClockedRun(
        ops.threshold("gt", 50, clear_at=40, emit="all"),
        ops.sustained(lambda e: e.active, 3.0, clock=clock),
        clock=clock,
    )
    run.emit(0.0, 55)
    run.emit(1.0, 45)  # still active thanks to hysteresis
    run.emit(2.0, 42)
    run.advance_to(3.0)
    assert run.at == [3.0] and run.out[0].since == 0.0


def test_sustained_validation() -> None:
    with pytest.raises(ValueError, match="for_seconds"):
        ops.sustained(bool, -1.0)
    with pytest.raises(ValueError, match="for_seconds"):
        ops.sustained(bool, float("nan"))
    with pytest.raises(TypeError):
        ops.sustained(5, 1.0)  # type: ignore[arg-type]


# -- edge_triggered -----------------------------------------------------------------------


def test_edge_triggered_rising_only() -> None:
    xs = [(0, False), (1, True), (2, True), (3, False), (4, True), (5, True)]
    assert [x[0] for x in run_list(xs, ops.edge_triggered())] == [1, 4]
    ys = [(0, True), (1, True), (2, False), (3, True)]
    assert [x[0] for x in run_list(ys, ops.edge_triggered(initial=True))] == [3]
    assert [x[0] for x in run_list(ys, ops.edge_triggered())] == [0, 3]
    out = run_list([(0, 3), (1, 9), (2, 8), (3, 1), (4, 12)],
                   ops.edge_triggered(ops.compare(">", 5)))
    assert [x[0] for x in out] == [1, 4]


def test_edge_triggered_marble() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(210, Obs(210.0, 0)), on_next(220, Obs(220.0, 1)), on_next(230, Obs(230.0, 1)),
        on_next(240, Obs(240.0, 0)), on_next(250, Obs(250.0, 2)), on_completed(260),
    )
    res = scheduler.start(lambda: xs.pipe(ops.edge_triggered()))
    assert res.messages == [
        on_next(220, Obs(220.0, 1)), on_next(250, Obs(250.0, 2)), on_completed(260)
    ]
