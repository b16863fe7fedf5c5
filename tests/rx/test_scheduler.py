"""Time-based reactivex operators run in simulated time, never on a thread."""

import threading

import pytest
import reactivex
import reactivex.operators as ops
from reactivex.scheduler import TimeoutScheduler

from happysim_rx import (
    ManualClock,
    ObservationBus,
    SimulatedTimeScheduler,
    WallClockError,
    forbid_wall_clock,
)


@pytest.fixture
def env():
    clock = ManualClock()
    bus = ObservationBus(clock)
    return clock, bus, bus.metric("S", "x", "sample")


def drive(clock, topic, points, until):
    """Emit (t, v) at simulated times, letting timers run in between."""
    for t, v in points:
        clock.advance_to(t)
        topic.emit(t, v)
    clock.advance_to(until)


def values(out):
    return [[o.value for o in b] for b in out]


def test_buffer_with_time_uses_bus_scheduler_by_default(env):
    clock, bus, x = env
    threads = threading.active_count()
    out = []
    bus.metrics("x").pipe(ops.buffer_with_time(1.0)).subscribe(out.append)
    drive(clock, x, [(0.1, 1), (0.9, 2), (1.5, 3), (3.2, 4)], 4.0)
    assert values(out) == [[1, 2], [3], [], [4]]
    assert threading.active_count() == threads


def test_fluent_methods_also_default_to_simulated_time(env):
    clock, bus, x = env
    out = []
    bus.metrics("x").buffer_with_time(2.0).subscribe(out.append)
    drive(clock, x, [(0.5, 1), (2.5, 2)], 4.0)
    assert values(out) == [[1], [2]]


def test_window_sample_debounce_delay(env):
    clock, bus, x = env
    win, smp, deb, dly = [], [], [], []
    src = bus.metrics("x").pipe(ops.map(lambda o: o.value))
    src.pipe(ops.window_with_time(1.0), ops.flat_map(lambda w: w.pipe(ops.to_list()))).subscribe(
        win.append
    )
    src.pipe(ops.sample(1.0)).subscribe(smp.append)
    src.pipe(ops.debounce(0.5)).subscribe(lambda v: deb.append((clock.now(), v)))
    src.pipe(ops.delay(2.0)).subscribe(lambda v: dly.append((clock.now(), v)))
    drive(clock, x, [(0.1, 1), (0.2, 2), (1.1, 3), (2.9, 4)], 5.0)
    assert win[:3] == [[1, 2], [3], [4]]
    assert smp == [2, 3, 4]
    assert deb == [(0.7, 2), (1.6, 3), (3.4, 4)]
    assert [v for _, v in dly] == [1, 2, 3, 4]
    assert [round(t, 9) for t, _ in dly] == [2.1, 2.2, 3.1, 4.9]


def test_interval_and_timer_explicit_scheduler():
    clock = ManualClock()
    sched = SimulatedTimeScheduler(clock)
    ticks, fired = [], []
    reactivex.interval(0.25).pipe(ops.take(4)).subscribe(
        lambda i: ticks.append((clock.now(), i)), scheduler=sched
    )
    reactivex.timer(3.0).subscribe(lambda _: fired.append(clock.now()), scheduler=sched)
    clock.advance_to(10.0)
    assert ticks == [(0.25, 0), (0.5, 1), (0.75, 2), (1.0, 3)]
    assert fired == [3.0]
    assert sched.now.timestamp() == 10.0  # epoch-0 based datetime


def test_periodic_has_no_drift():
    clock = ManualClock()
    sched = SimulatedTimeScheduler(clock)
    times = []
    d = sched.schedule_periodic(0.1, lambda s: times.append(clock.now()))
    clock.advance_to(1000.05)
    d.dispose()
    clock.advance_to(2000.0)
    assert len(times) == 10000 and times[-1] == 10000 * 0.1


def test_dispose_cancels_timer():
    clock = ManualClock()
    sched = SimulatedTimeScheduler(clock)
    hit = []
    d = sched.schedule_relative(1.0, lambda s, st: hit.append(1))
    d.dispose()
    clock.advance_to(5.0)
    assert hit == [] and clock.pending == 0


def test_forbid_wall_clock_refuses_threaded_schedulers():
    threads = threading.active_count()
    with forbid_wall_clock():
        with pytest.raises(WallClockError, match="SimulatedTimeScheduler"):
            reactivex.timer(0.01).subscribe(lambda _: None)
        with pytest.raises(WallClockError):
            TimeoutScheduler.singleton().schedule_relative(0.01, lambda *_: None)
    assert threading.active_count() == threads
    # Restored afterwards (and nested use is fine).
    with forbid_wall_clock(), forbid_wall_clock():
        pass
    assert "schedule_relative" in TimeoutScheduler.__dict__
    assert TimeoutScheduler.__dict__["schedule_relative"].__name__ == "schedule_relative"


def test_timers_fire_even_without_observations(env):
    clock, bus, x = env
    out = []
    bus.metrics("x").pipe(ops.buffer_with_time(1.0)).subscribe(out.append)
    clock.advance_to(3.0)
    assert out == [[], [], []]


def test_completion_flushes_open_buffer(env):
    clock, bus, x = env
    out, done = [], []
    bus.metrics("x").pipe(ops.buffer_with_time(10.0)).subscribe(
        out.append, on_completed=lambda: done.append(True)
    )
    drive(clock, x, [(1.0, 1)], 2.0)
    bus.complete()
    assert values(out) == [[1]] and done == [True]
