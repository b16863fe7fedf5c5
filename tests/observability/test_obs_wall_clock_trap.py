"""A composition of a simulation's streams never falls back to a wall-clock thread, and
`delay` never drops what it still holds at the end of a run without saying so."""

from __future__ import annotations

import threading
import time
import warnings

import pytest
import reactivex
import reactivex.operators as rx_ops

from happysim_rx import WallClockError
from tests.observability.obs_testkit import mm1


@pytest.mark.parametrize("when", ["before run", "while paused"])
def test_a_top_level_merge_with_a_time_operator_is_refused_not_run_on_a_thread(when):
    sim, *_ = mm1(seed=1, stop_after=30.0)
    if when == "while paused":
        sim.control.run_until(10.0)
    a = sim.observations.metrics("latency")
    b = sim.observations.metrics("wait_time")
    threads = threading.active_count()
    with pytest.raises(WallClockError, match=r"sim\.scheduler"):
        reactivex.merge(a, b).pipe(rx_ops.buffer_with_time(5.0)).subscribe(print)
    assert threading.active_count() == threads  # no timer thread was started
    # with the simulation's scheduler, the same composition runs in simulated time
    batches: list = []
    reactivex.merge(a, b).pipe(rx_ops.buffer_with_time(5.0)).subscribe(
        batches.append, scheduler=sim.scheduler)
    sim.control.run_to_end() if when == "while paused" else sim.run()
    assert threading.active_count() == threads
    assert len(batches) >= 4 and any(batches)


def test_reactivex_without_simulation_streams_keeps_its_wall_clock_schedulers():
    mm1(seed=1)  # (a simulation exists in the process)
    got: list = []
    reactivex.timer(0.01).subscribe(got.append)
    deadline = time.monotonic() + 2.0
    while not got and time.monotonic() < deadline:
        time.sleep(0.005)
    assert got == [0]


def test_delay_says_what_it_could_not_deliver_at_the_end_of_an_open_ended_run():
    sim, *_ = mm1(seed=1, stop_after=30.0)
    out: list = []
    sim.observations.metrics("latency").pipe(rx_ops.delay(5.0)).subscribe(out.append)
    with pytest.warns(RuntimeWarning, match="delay operator.*not delivered.*end_time"):
        sim.run()
    total = sim.query.metrics("latency").aggregate("count").execute().scalar
    assert 0 < len(out) < total


def test_delay_delivers_everything_when_the_run_lasts_past_the_delay():
    sim, *_ = mm1(seed=1, stop_after=30.0, end_time=40.0)
    out: list = []
    sim.observations.metrics("latency").pipe(rx_ops.delay(5.0)).subscribe(out.append)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sim.run()
    assert len(out) == sim.query.metrics("latency").aggregate("count").execute().scalar
