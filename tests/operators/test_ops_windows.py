"""Simulated-time windows: marble tests, boundary tests and properties vs numpy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ops_testkit import ClockedRun, Obs, run_list
from reactivex.testing import ReactiveTest, TestScheduler

import operators as ops
from operators import SchedulerClock, WindowResult

on_next, on_completed = ReactiveTest.on_next, ReactiveTest.on_completed
W = WindowResult

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# -- marble tests (reactivex TestScheduler) --------------------------------------------


def _marble_source(scheduler: TestScheduler):
    return scheduler.create_hot_observable(
        on_next(210, Obs(210.0, 1.0)),
        on_next(215, Obs(215.0, 3.0)),
        on_next(235, Obs(235.0, 5.0)),
        on_completed(262),
    )


EXPECTED_TUMBLING = [
    on_next(210, W(200.0, 210.0, 0, {"mean": None})),
    on_next(220, W(210.0, 220.0, 2, {"mean": 2.0})),
    on_next(230, W(220.0, 230.0, 0, {"mean": None})),
    on_next(240, W(230.0, 240.0, 1, {"mean": 5.0})),
    on_next(250, W(240.0, 250.0, 0, {"mean": None})),
    on_next(260, W(250.0, 260.0, 0, {"mean": None})),
    on_completed(262),
]


def test_tumbling_marble_with_scheduler_clock() -> None:
    scheduler = TestScheduler()
    xs = _marble_source(scheduler)
    clock = SchedulerClock(scheduler)
    res = scheduler.start(lambda: xs.pipe(ops.tumbling_window(10.0, "mean", clock=clock)))
    assert res.messages == EXPECTED_TUMBLING


def test_tumbling_marble_uses_subscribe_scheduler_when_no_clock() -> None:
    scheduler = TestScheduler()
    xs = _marble_source(scheduler)
    res = scheduler.start(lambda: xs.pipe(ops.tumbling_window(10.0, "mean")))
    assert res.messages == EXPECTED_TUMBLING


def test_tumbling_marble_without_empty_windows_and_partial_flush() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(212, Obs(212.0, 1.0)),
        on_next(247, Obs(247.0, 4.0)),
        on_completed(248),
    )
    res = scheduler.start(
        lambda: xs.pipe(ops.tumbling_window(10.0, aggregates=["count", "max"], emit_empty=False))
    )
    assert res.messages == [
        on_next(220, W(210.0, 220.0, 1, {"count": 1.0, "max": 1.0})),  # closed by timer
        on_next(248, W(240.0, 250.0, 1, {"count": 1.0, "max": 4.0}, partial=True)),
        on_completed(248),
    ]


def test_sliding_marble() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(201, Obs(201.0, 1.0)),
        on_next(206, Obs(206.0, 2.0)),
        on_next(211, Obs(211.0, 4.0)),
        on_completed(216),
    )
    res = scheduler.start(
        lambda: xs.pipe(ops.sliding_window(10.0, 5.0, "sum", emit_empty=False))
    )
    assert res.messages == [
        on_next(205, W(195.0, 205.0, 1, {"sum": 1.0})),
        on_next(210, W(200.0, 210.0, 2, {"sum": 3.0})),
        on_next(215, W(205.0, 215.0, 2, {"sum": 6.0})),
        on_next(216, W(210.0, 220.0, 1, {"sum": 4.0}, partial=True)),
        on_completed(216),
    ]


def test_session_marble() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(210, Obs(210.0, 1.0)),
        on_next(213, Obs(213.0, 2.0)),
        on_next(230, Obs(230.0, 7.0)),
        on_completed(232),
    )
    res = scheduler.start(lambda: xs.pipe(ops.session_window(5.0, aggregates=["count", "sum"])))
    assert res.messages == [
        on_next(218, W(210.0, 218.0, 2, {"count": 2.0, "sum": 3.0})),  # timer at last+gap
        on_next(232, W(230.0, 235.0, 1, {"count": 1.0, "sum": 7.0}, partial=True)),
        on_completed(232),
    ]


def test_dispose_cancels_timers() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(on_next(210, Obs(210.0, 1.0)))
    res = scheduler.start(
        lambda: xs.pipe(ops.tumbling_window(10.0, "count")), disposed=245
    )
    assert [m.time for m in res.messages] == [210, 220, 230, 240]
    assert len(scheduler._queue) == 0  # no timer chain left behind after dispose


# -- boundaries on integer ticks ---------------------------------------------------------


def test_items_at_exact_multiples_go_to_window_k() -> None:
    # 7 * 0.1 == 0.7000000000000001 and 0.7 / 0.1 == 6.999999999999999 in floats: a
    # float floor would misplace these; integer ticks do not.
    size = 0.1
    items = [Obs(k * size, float(k)) for k in range(20)] + [Obs(0.7, 100.0), Obs(0.3, 50.0)]
    items.sort(key=lambda o: o.time)
    out = run_list(items, ops.tumbling_window(size, aggregates=["count", "min"]))
    assert [round(w.start / size) for w in out] == list(range(20))
    for k, w in enumerate(out):
        assert w.values["min"] == float(k), w  # each window starts with its own item k
        assert w.count == (2 if k in (3, 7) else 1)
    assert out[7].start == pytest.approx(0.7) and out[7].end == pytest.approx(0.8)


@SETTINGS
@given(st.sampled_from([0.1, 0.3, 0.7, 0.001, 0.05, 1.1]),
       st.lists(st.integers(0, 500), min_size=1, max_size=40, unique=True))
def test_items_at_float_multiples_of_size_land_in_window_k(size, ks) -> None:
    ks = sorted(ks)
    out = run_list([(k * size, k) for k in ks], ops.tumbling_window(size, "min"))
    assert [w.value for w in out] == ks  # one window per item, holding that item
    assert [w.start for w in out] == [pytest.approx(k * size) for k in ks]


def test_item_exactly_at_end_goes_to_next_window_with_clock() -> None:
    run = ClockedRun(ops.tumbling_window(1.0, "count"))
    run.emit(0.5, 1)
    run.emit(1.0, 1)  # the [0,1) timer ran first, at 1.0
    assert [(w.start, w.count) for w in run.out] == [(0.0, 1)]
    assert run.at == [1.0]


def test_windows_close_on_timer_without_new_items() -> None:
    run = ClockedRun(ops.tumbling_window(2.0, aggregates=["count", "mean"]))
    run.emit(0.5, 4.0)
    run.emit(1.5, 6.0)
    run.advance_to(1.999)
    assert run.out == []
    run.advance_to(7.0)
    assert run.out == [
        W(0.0, 2.0, 2, {"count": 2.0, "mean": 5.0}),
        W(2.0, 4.0, 0, {"count": 0.0, "mean": None}),
        W(4.0, 6.0, 0, {"count": 0.0, "mean": None}),
    ]
    assert run.at == [2.0, 4.0, 6.0]  # each at exactly its end
    assert run.completed_at is None


def test_flush_on_completion_marks_partial() -> None:
    run = ClockedRun(ops.tumbling_window(10.0, aggregates=["count", "rate"]))
    run.emit(1.0, 1)
    run.emit(3.0, 1)
    run.complete(at=4.0)
    assert run.out == [W(0.0, 10.0, 2, {"count": 2.0, "rate": 0.5}, partial=True)]
    assert run.completed_at == 4.0
    assert run.clock.pending == 0


def test_flush_without_clock_emits_open_window() -> None:
    out = run_list([(0.2, 1.0), (5.5, 2.0)], ops.tumbling_window(1.0, "sum"))
    assert [(w.start, w.value, w.partial) for w in out] == [(0.0, 1.0, False), (5.0, 2.0, True)]


def test_errors_are_forwarded_without_flush() -> None:
    run = ClockedRun(ops.tumbling_window(1.0, "sum"))
    run.emit(0.1, 1.0)
    run.subject.on_error(RuntimeError("boom"))
    assert run.out == [] and isinstance(run.errors[0], RuntimeError)
    assert run.clock.pending == 0


def test_late_items_are_dropped_but_first_item_reanchors() -> None:
    run = ClockedRun(ops.tumbling_window(1.0, "count"), start=100.0)
    run.subject.on_next(Obs(3.5, 1))  # older than the subscription: re-anchor
    run.subject.on_next(Obs(4.5, 1))  # closes [3,4)
    run.subject.on_next(Obs(3.9, 1))  # late: [3,4) already emitted
    run.complete()
    assert [(w.start, w.count) for w in run.out][:2] == [(3.0, 1), (4.0, 1)]


def test_time_weighted_window_carries_gauge_value() -> None:
    run = ClockedRun(ops.time_weighted(1.0, aggregates=["mean", "max", "count"]))
    run.emit(0.0, 0.0)
    run.emit(0.25, 8.0)  # 0 for .25 s, 8 for .75 s -> 6
    run.advance_to(3.0)
    assert run.out == [
        W(0.0, 1.0, 2, {"mean": 6.0, "max": 8.0, "count": 2.0}),
        W(1.0, 2.0, 0, {"mean": 8.0, "max": None, "count": 0.0}),
        W(2.0, 3.0, 0, {"mean": 8.0, "max": None, "count": 0.0}),
    ]
    run.emit(3.5, 0.0)
    run.complete(at=3.75)  # partial window [3, 3.75): 8 for .5 s, 0 for .25 s
    last = run.out[-1]
    assert (last.start, last.end, last.count, last.partial) == (3.0, 4.0, 1, True)
    assert last.values["mean"] == pytest.approx(4.0 / 0.75)
    assert last.values["max"] == 0.0


def test_sliding_time_weighted_matches_tumbling_when_window_ends_align() -> None:
    items = [Obs(0.1 * i, float((i * 7) % 5)) for i in range(40)]
    a = run_list(items, ops.time_weighted(1.0, "mean"))
    b = run_list(items, ops.sliding_window(1.0, 0.5, "mean", weighting="time"))
    b_aligned = {w.end: w.value for w in b if (w.end * 2) % 2 == 0}
    assert len(a) == 4
    for w in a:
        assert b_aligned[w.end] == pytest.approx(w.value, rel=1e-12)


# -- validation -----------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, -1.0, float("nan"), float("inf"), 1e-12])
def test_non_positive_or_bad_sizes_rejected(size: float) -> None:
    with pytest.raises(ValueError, match="size"):
        ops.tumbling_window(size)


def test_unknown_aggregate_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="p99"):
        ops.tumbling_window(1.0, "p99x")
    with pytest.raises(ValueError, match="step"):
        ops.sliding_window(1.0, 0.0)
    with pytest.raises(ValueError, match="gap"):
        ops.session_window(-1.0)
    with pytest.raises(TypeError, match="SimClock"):
        ops.tumbling_window(1.0, clock=object())


def test_custom_aggregator_factory() -> None:
    class Span:
        name = "span"

        def __init__(self) -> None:
            self.lo, self.hi = None, None

        def add(self, t: float, v: float) -> None:
            self.lo = v if self.lo is None else min(self.lo, v)
            self.hi = v if self.hi is None else max(self.hi, v)

        def merge(self, other: Span) -> None:
            for v in (other.lo, other.hi):
                if v is not None:
                    self.add(0.0, v)

        def result(self, start=None, end=None):
            return None if self.lo is None else self.hi - self.lo

    out = run_list([(0.1, 1.0), (0.2, 5.0), (1.5, 2.0)], ops.sliding_window(2.0, 1.0, Span))
    assert [(w.end, w.value) for w in out] == [(1.0, 4.0), (2.0, 4.0), (3.0, 0.0)]


# -- properties vs direct recomputation --------------------------------------------------

AGGS = ["count", "sum", "mean", "min", "max", "stddev", "p50", "p90"]


def _np_agg(name: str, xs: np.ndarray):
    if xs.size == 0:
        return 0.0 if name == "count" else None
    return {
        "count": lambda: float(xs.size),
        "sum": lambda: float(xs.sum()),
        "mean": lambda: float(xs.mean()),
        "min": lambda: float(xs.min()),
        "max": lambda: float(xs.max()),
        "stddev": lambda: float(xs.std()),
        "p50": lambda: float(np.quantile(xs, 0.5)),
        "p90": lambda: float(np.quantile(xs, 0.9)),
    }[name]()


def _assert_values(got: dict, xs: np.ndarray) -> None:
    for name in AGGS:
        exp = _np_agg(name, xs)
        if exp is None:
            assert got[name] is None
        else:
            assert got[name] == pytest.approx(exp, rel=1e-9, abs=1e-9), name


# times as integer milliseconds (expected windows computed on ints, independently)
stream = st.lists(
    st.tuples(st.integers(0, 20_000), st.floats(-1e3, 1e3, allow_nan=False)),
    min_size=1,
    max_size=150,
).map(lambda xs: sorted(xs, key=lambda p: p[0]))


@SETTINGS
@given(stream, st.sampled_from([1, 7, 100, 250, 1000, 3000]))
def test_tumbling_equals_numpy_per_window(data, size_ms) -> None:
    ms = np.array([p[0] for p in data])
    vs = np.array([p[1] for p in data])
    out = run_list([(m / 1000, v) for m, v in data],
                   ops.tumbling_window(size_ms / 1000, aggregates=AGGS))
    keys = sorted(set((ms // size_ms).tolist()))
    assert [round(w.start * 1000) for w in out] == [k * size_ms for k in keys]
    for w, k in zip(out, keys, strict=True):
        xs = vs[(ms // size_ms) == k]
        assert w.count == xs.size
        assert w.end - w.start == pytest.approx(size_ms / 1000)
        _assert_values(w.values, xs)


@SETTINGS
@given(
    stream,
    st.sampled_from([(1000, 250), (1000, 1000), (3000, 1000), (600, 400), (500, 700), (250, 100)]),
)
def test_sliding_pane_merge_equals_direct_recomputation(data, size_step) -> None:
    size_ms, step_ms = size_step
    ms = np.array([p[0] for p in data])
    vs = np.array([p[1] for p in data])
    out = run_list([(m / 1000, v) for m, v in data],
                   ops.sliding_window(size_ms / 1000, step_ms / 1000, aggregates=AGGS))
    # every window end e = k*step whose [e - size, e) holds data, in order
    k_lo = int(ms.min() // step_ms)
    k_hi = int((ms.max() + size_ms) // step_ms) + 1
    expected = []
    for k in range(k_lo, k_hi + 1):
        e = k * step_ms
        mask = (ms >= e - size_ms) & (ms < e)
        if mask.any():
            expected.append((e, vs[mask]))
    assert [round(w.end * 1000) for w in out] == [e for e, _ in expected]
    for w, (e, xs) in zip(out, expected, strict=True):
        assert round(w.start * 1000) == e - size_ms
        assert w.count == xs.size
        _assert_values(w.values, xs)


@SETTINGS
@given(stream, st.sampled_from([100, 1000, 2500]))
def test_clocked_tumbling_is_regular_and_counts_match(data, size_ms) -> None:
    run = ClockedRun(ops.tumbling_window(size_ms / 1000, "count"))
    for m, v in data:
        run.emit(m / 1000, v)
    end_ms = data[-1][0] + 1
    run.complete(at=end_ms / 1000)
    ms = np.array([p[0] for p in data])
    starts = [round(w.start * 1000) for w in run.out]
    assert starts == list(range(0, starts[-1] + 1, size_ms))  # regular, no gaps
    for w in run.out:
        s = round(w.start * 1000)
        assert w.count == int(((ms >= s) & (ms < s + size_ms)).sum())
        assert w.partial == (s + size_ms > end_ms)
    # emitted exactly when simulated time reached the end (or at completion if partial)
    for w, at in zip(run.out, run.at, strict=True):
        assert at == (end_ms / 1000 if w.partial else w.end)


@SETTINGS
@given(stream, st.sampled_from([1, 50, 400]))
def test_session_windows_match_gap_split(data, gap_ms) -> None:
    out = run_list([(m / 1000, v) for m, v in data], ops.session_window(gap_ms / 1000, "sum"))
    sessions: list[list] = []
    for m, v in data:
        if sessions and m - sessions[-1][-1][0] < gap_ms:
            sessions[-1].append((m, v))
        else:
            sessions.append([(m, v)])
    assert len(out) == len(sessions)
    for w, s in zip(out, sessions, strict=True):
        assert round(w.start * 1000) == s[0][0]
        assert round(w.end * 1000) == s[-1][0] + gap_ms
        assert w.count == len(s)
        assert w.value == pytest.approx(sum(v for _, v in s), rel=1e-9, abs=1e-9)


@SETTINGS
@given(
    st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 100)), min_size=1, max_size=60),
    st.sampled_from([(1000, 1000), (1000, 500), (2000, 250)]),
)
def test_time_weighted_mean_equals_integral(data, size_step) -> None:
    data = sorted(data, key=lambda p: p[0])
    size_ms, step_ms = size_step
    run = ClockedRun(ops.sliding_window(size_ms / 1000, step_ms / 1000, "mean",
                                        weighting="time"))
    for m, v in data:
        run.emit(m / 1000, float(v))
    end_ms = ((data[-1][0] + size_ms) // step_ms + 1) * step_ms
    run.advance_to(end_ms / 1000)

    def value_at(t: int) -> float | None:
        cur = None
        for m, v in data:
            if m <= t:
                cur = v
            else:
                break
        return cur

    for w in run.out:
        s, e = round(w.start * 1000), round(w.end * 1000)
        pts = [(t, value_at(t)) for t in range(s, e) if value_at(t) is not None]
        if not pts:
            assert w.value is None
            continue
        # integer-ms step integral: the gauge is piecewise constant on ms grid
        exp = sum(v for _, v in pts) / len(pts)
        assert w.value == pytest.approx(exp, rel=1e-9), (s, e)


def test_out_of_order_item_within_open_window_is_kept() -> None:
    # size 1.0, step 0.4 -> panes of 0.2; 0.5 arrives after 0.7 but [.., 0.8) is open
    items = [(0.7, 1.0), (0.5, 10.0), (0.9, 100.0)]
    out = run_list(items, ops.sliding_window(1.0, 0.4, "sum"))
    ends = {round(w.end, 6): w.value for w in out}
    assert ends[0.8] == 11.0 and ends[1.2] == 111.0 and ends[1.6] == 101.0
