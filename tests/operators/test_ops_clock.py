"""Clocks: FakeClock, SchedulerClock, resolution; never a wall-clock fallback."""

from __future__ import annotations

import threading

import pytest
import reactivex
from reactivex.scheduler import NewThreadScheduler, ThreadPoolScheduler, TimeoutScheduler
from reactivex.subject import Subject
from reactivex.testing import TestScheduler

import operators as ops
from operators import FakeClock, SchedulerClock
from operators.clock import resolve_clock


def test_fake_clock_orders_timers_and_cancels() -> None:
    c = FakeClock()
    seen: list[tuple[str, float]] = []
    c.call_at(2.0, lambda: seen.append(("b", c.now())))
    c.call_at(1.0, lambda: seen.append(("a", c.now())))
    c.call_at(2.0, lambda: seen.append(("c", c.now())))
    h = c.call_at(1.5, lambda: seen.append(("x", c.now())))
    h.cancel()
    c.advance_to(3.0)
    assert seen == [("a", 1.0), ("b", 2.0), ("c", 2.0)] and c.now() == 3.0
    c.call_at(0.5, lambda: seen.append(("past", c.now())))  # in the past: runs now
    c.run_due()
    assert seen[-1] == ("past", 3.0)
    with pytest.raises(ValueError):
        c.advance_to(1.0)


def test_scheduler_clock_on_test_scheduler() -> None:
    s = TestScheduler()
    c = SchedulerClock(s, time_scale=0.001)  # 1 scheduler second = 1 ms simulated
    seen: list[float] = []
    c.call_at(0.25, lambda: seen.append(c.now()))
    h = c.call_at(0.5, lambda: seen.append(-1.0))
    h.cancel()
    s.start()
    assert seen == [pytest.approx(0.25)]
    with pytest.raises(TypeError):
        SchedulerClock(object())  # type: ignore[arg-type]


def test_resolve_clock_rules() -> None:
    s = TestScheduler()
    fake = FakeClock()
    assert resolve_clock(fake, s) is fake
    assert isinstance(resolve_clock(None, s), SchedulerClock)
    assert isinstance(resolve_clock(s), SchedulerClock)
    assert resolve_clock(None, fake) is fake
    with pytest.raises(TypeError):
        resolve_clock(object())


@pytest.mark.parametrize("make", [TimeoutScheduler, NewThreadScheduler, ThreadPoolScheduler])
def test_wall_clock_schedulers_are_never_used(make) -> None:
    scheduler = make()
    assert resolve_clock(None, scheduler) is None
    before = threading.active_count()
    subject: Subject = Subject()
    out: list = []
    subject.pipe(
        ops.tumbling_window(0.01, "count"), ops.sustained(lambda w: True, 0.0)
    ).subscribe(out.append, scheduler=scheduler)
    subject.on_next((0.0, 1.0))
    subject.on_next((0.5, 1.0))
    assert threading.active_count() == before  # no timer thread was started
    assert len(out) == 1  # the [0, 0.01) window closed by the next item, not by a timer


def test_default_subscription_has_no_timers() -> None:
    out: list = []
    reactivex.of((0.0, 1.0)).pipe(ops.tumbling_window(1.0, "count")).subscribe(out.append)
    assert [w.partial for w in out] == [True]  # flushed on completion, no timer involved


def test_scheduler_wrapping_a_sim_clock_is_used() -> None:
    class WrappingScheduler:  # shape of happysim_rx's simulated-time scheduler
        def __init__(self, clock: FakeClock) -> None:
            self.clock = clock

    fake = FakeClock()
    wrapper = WrappingScheduler(fake)
    assert resolve_clock(None, wrapper) is fake
    assert resolve_clock(wrapper) is fake
    subject: Subject = Subject()
    out: list = []
    subject.pipe(ops.tumbling_window(1.0, "count")).subscribe(out.append, scheduler=wrapper)
    subject.on_next((0.5, 1.0))
    fake.advance_to(1.0)
    assert [(w.end, w.count) for w in out] == [(1.0, 1)]
