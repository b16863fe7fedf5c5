"""The lean tumbling state (operators/tumbling.py) against the general pane-based one
(operators/aligned_windows.py, ``fast=False``): same windows, emitted at the same
simulated times, on random streams (late and out-of-order items, None values, gaps,
completion mid-window, with and without a clock, every emit_empty setting)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ops_testkit import ClockedRun, Obs, run_list
from reactivex.testing import ReactiveTest, TestScheduler

import operators as ops
from operators.aggregators import aggregator_factory
from operators.aligned_windows import AlignedWindows
from operators.sample_aggregators import Quantile, quantile_of_factory
from operators.tumbling import TumblingWindows
from operators.window_result import WindowResult
from operators.windows import _aligned_operator

on_next, on_completed, on_error = (ReactiveTest.on_next, ReactiveTest.on_completed,
                                   ReactiveTest.on_error)

SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

AGG_SETS = [
    ["p99"],  # quantiles only: a window keeps raw values up to the exact limit
    ["p50", "p99", "p999"],
    ["median"],
    ["count", "max", "p50"],
    ["rate", "first", "last"],
    ["mean", "stddev", "sum", "min"],
]


def _window(size: float, aggs: list[str], fast: bool, emit_empty: bool | None = None,
            exact: bool = False):
    return _aligned_operator(size, size, None, aggs, None, "sample", emit_empty, None, None,
                             {"exact": True} if exact else None, fast=fast)


def _same(a: list[Any], b: list[Any]) -> None:
    """Equal lists of windows (NaN equal to NaN: a quantile of infinities is NaN)."""
    assert len(a) == len(b), (a, b)
    for x, y in zip(a, b, strict=True):
        assert (x.start, x.end, x.count, x.partial) == (y.start, y.end, y.count, y.partial)
        assert x.values.keys() == y.values.keys()
        for k in x.values:
            u, v = x.values[k], y.values[k]
            assert u == v or (isinstance(u, float) and math.isnan(u) and math.isnan(v)), (k, u, v)


# (kind, ms after the previous step, value): "item" pushes an item at that time, "tick"
# only moves the clock. Mostly short steps (several items per window); a negative step
# makes a late or out-of-order item (the clock never goes back), a long one a gap.
_steps = st.lists(
    st.tuples(st.sampled_from(["item", "item", "item", "tick"]),
              st.one_of(st.integers(0, 200), st.integers(-400, 3000)),
              st.one_of(st.integers(-100, 100).map(float), st.floats(-100, 100),
                        st.none(), st.sampled_from([math.inf, -math.inf]))),
    min_size=3, max_size=80)


def _clocked(steps, op_factory, start_ms: int, end_ms: int | None):
    run = ClockedRun(op_factory(), start=start_ms / 1000)
    now = t_ms = start_ms
    for kind, dt_ms, v in steps:
        t_ms = max(0, t_ms + dt_ms)
        if kind == "tick":
            now = max(now, t_ms)
            run.advance_to(now / 1000)
        else:
            if t_ms >= now:  # the clock moves to the item; an older item is just late
                now = t_ms
                run.advance_to(now / 1000)
            run.subject.on_next(Obs(t_ms / 1000, v))
    if end_ms is not None:
        run.complete(max(now, end_ms) / 1000)
    return run


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's own inf - inf
@SETTINGS
@given(_steps, st.sampled_from([0.25, 1.0, 0.7]), st.sampled_from(AGG_SETS),
       st.sampled_from([None, True, False]), st.integers(0, 3000),
       st.one_of(st.none(), st.integers(0, 6000)))
def test_clocked_fast_equals_general(steps, size, aggs, emit_empty, start_ms, end_ms):
    fast = _clocked(steps, lambda: _window(size, aggs, True, emit_empty), start_ms, end_ms)
    ref = _clocked(steps, lambda: _window(size, aggs, False, emit_empty), start_ms, end_ms)
    _same(fast.out, ref.out)
    assert fast.at == ref.at  # emitted at the same simulated times
    assert fast.completed_at == ref.completed_at
    assert fast.clock.pending == ref.clock.pending  # no timer left behind, none missing
    fast.disposable.dispose()
    ref.disposable.dispose()
    assert fast.clock.pending == ref.clock.pending == 0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@SETTINGS
@given(st.lists(st.tuples(st.integers(-2000, 5000),
                          st.one_of(st.none(), st.floats(-100, 100, allow_nan=False))),
                max_size=60),
       st.sampled_from([0.25, 1.0, 0.7]), st.sampled_from(AGG_SETS),
       st.sampled_from(["obs", "tuple", "dict"]))
def test_unclocked_fast_equals_general(items, size, aggs, form):
    """Items as objects with .time/.value, as (t, v) tuples (the default accessors fall
    back to indexing), or dicts read by custom accessors."""
    acc: dict[str, Any] = {}
    if form == "obs":
        obs: list[Any] = [Obs(t / 1000, v) for t, v in items]
    elif form == "tuple":
        obs = [(t / 1000, v) for t, v in items]
    else:
        obs = [{"t": t / 1000, "v": v} for t, v in items]
        acc = {"time_of": lambda d: d["t"], "value_of": lambda d: d["v"]}

    def window(fast: bool):
        return _aligned_operator(size, size, None, aggs, None, "sample", None,
                                 acc.get("time_of"), acc.get("value_of"), None, fast=fast)

    _same(run_list(obs, window(True)), run_list(obs, window(False)))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 10, allow_nan=False), min_size=250, max_size=600),
       st.booleans(), st.sampled_from([["p99"], ["p50", "p99"], ["p99", "count"]]))
def test_large_windows_spill_to_the_sketch_like_the_general_state(values, exact, aggs):
    """Past the exact limit a p99 is the sketch's (or exact with exact=True) in both;
    the window's first 256 values may have been kept raw (quantiles only)."""
    obs = [Obs(i / len(values), v) for i, v in enumerate(values)]
    fast = run_list(obs, _window(1.0, aggs, True, exact=exact))
    ref = run_list(obs, _window(1.0, aggs, False, exact=exact))
    _same(fast, ref)
    assert fast[0].count == len(values)


def test_which_factories_keep_raw_values() -> None:
    assert quantile_of_factory(aggregator_factory("p99")) == 0.99
    assert quantile_of_factory(aggregator_factory("median", exact=True)) == 0.5
    assert quantile_of_factory(aggregator_factory("p99", weighting="time")) is None
    assert quantile_of_factory(aggregator_factory("mean")) is None
    assert quantile_of_factory(lambda: Quantile(0.99, "p99")) is None  # opaque: kept as is


def test_tumbling_of_samples_uses_the_lean_state_and_gauges_the_general_one(
        monkeypatch) -> None:
    seen: list[type] = []
    for cls in (TumblingWindows, AlignedWindows):
        def spy(self, *a, _orig=cls.__init__, _cls=cls, **k):
            seen.append(_cls)
            _orig(self, *a, **k)

        monkeypatch.setattr(cls, "__init__", spy)
    run_list([Obs(0.5, 1.0)], ops.tumbling_window(1.0, "p99"))
    run_list([Obs(0.5, 1.0)], ops.tumbling_window(1.0, "mean", weighting="time"))
    run_list([Obs(0.5, 1.0)], ops.sliding_window(2.0, 1.0, "p99"))
    assert seen == [TumblingWindows, AlignedWindows, AlignedWindows]


def _marble(fast: bool, msgs: list[Any], emit_empty: bool | None):
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(*msgs)
    return scheduler.start(lambda: xs.pipe(_window(10.0, ["count", "p99"], fast, emit_empty)))


@pytest.mark.parametrize("emit_empty", [None, False])
def test_marble_fast_equals_general_with_error(emit_empty) -> None:
    err = ValueError("boom")
    msgs = [on_next(212, Obs(212.0, 1.0)), on_next(247, Obs(247.0, 4.0)),
            on_next(248, Obs(241.0, 2.0)), on_error(255, err)]
    fast, ref = _marble(True, msgs, emit_empty), _marble(False, msgs, emit_empty)
    assert fast.messages == ref.messages
    assert fast.messages[-1] == on_error(255, err)  # no flush before an error


def test_a_subscriber_that_raises_leaves_the_same_state() -> None:
    """An observer error out of a timer close: the next item closes the same window
    again, in both states (nothing half-advanced in the lean one)."""
    outs = []
    for fast in (True, False):
        run = ClockedRun(_window(1.0, ["count"], fast), start=0.0)
        got: list[Any] = []
        calls = {"n": 0}

        def flaky(w, got=got, calls=calls):
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("subscriber bug")
            got.append((w.start, w.count))

        run.subject.pipe(_window(1.0, ["count"], fast)).subscribe(flaky, scheduler=run.clock)
        run.emit(0.5, 1.0)
        with pytest.raises(RuntimeError):
            run.advance_to(1.0)
        run.emit(1.5, 2.0)
        run.complete(3.0)
        outs.append(got)
    assert outs[0] == outs[1]


@pytest.mark.parametrize("fast", [True, False])
def test_without_empty_windows_no_timer_is_left_after_a_close(fast) -> None:
    run = ClockedRun(_window(1.0, ["count"], fast, emit_empty=False))
    run.emit(0.5, 1.0)
    assert run.clock.pending == 1  # the window's end
    run.advance_to(1.0)
    assert [(w.start, w.count) for w in run.out] == [(0.0, 1)]
    assert run.clock.pending == 0  # nothing to close until the next item
    run.emit(3.2, 1.0)
    run.advance_to(10.0)
    assert [(w.start, w.count) for w in run.out] == [(0.0, 1), (3.0, 1)]
    assert run.at == [1.0, 4.0]


def test_marble_quantiles_from_raw_values_are_numpys() -> None:
    """Quantile-only windows (raw values): closed on time, the empty one has None, the
    open one is flushed partial at completion; each value is numpy.quantile's."""
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(201, Obs(201.0, 3.0)), on_next(203, Obs(203.0, 1.0)),
        on_next(205, Obs(205.0, 7.0)), on_next(207, Obs(207.0, 2.0)),
        on_next(231, Obs(231.0, 5.0)), on_completed(234))
    res = scheduler.start(lambda: xs.pipe(ops.tumbling_window(10.0, aggregates=["p50", "p99"])))
    q = lambda vs, p: float(np.quantile(vs, p))  # noqa: E731
    W = WindowResult
    assert res.messages == [
        on_next(210, W(200.0, 210.0, 4, {"p50": q([3, 1, 7, 2], 0.5),
                                         "p99": q([3, 1, 7, 2], 0.99)})),
        on_next(220, W(210.0, 220.0, 0, {"p50": None, "p99": None})),
        on_next(230, W(220.0, 230.0, 0, {"p50": None, "p99": None})),
        on_next(234, W(230.0, 240.0, 1, {"p50": 5.0, "p99": 5.0}, partial=True)),
        on_completed(234),
    ]
