"""Ctrl-C during run(): a real SIGINT pauses at the next event boundary; the simulation
stays consistent, queryable, and resumes exactly as the uninterrupted run."""

from __future__ import annotations

import os
import random
import signal
import threading
import time

import pytest

from tests.observability.obs_testkit import mm1, snapshot

pytestmark = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread()
    or signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="needs the main thread with Python's default SIGINT handler")


def _interrupt_later(sim, delay: float) -> threading.Thread:
    def send() -> None:
        time.sleep(delay)
        if sim.control._running:  # (a signal after the run would hit the test itself)
            os.kill(os.getpid(), signal.SIGINT)

    th = threading.Thread(target=send, daemon=True)
    th.start()
    return th


def test_ctrl_c_at_random_moments_pauses_consistently_and_resumes_exactly():
    ref, *_ = mm1(seed=21, stop_after=500.0)
    t0 = time.perf_counter()
    ref.run()
    took = time.perf_counter() - t0  # (signals are sent within the first 60 % of a run)
    expected = snapshot(ref)
    rng = random.Random(5)
    paused = 0
    for _ in range(4):
        sim, _, server, _ = mm1(seed=21, stop_after=500.0)
        sender = _interrupt_later(sim, rng.uniform(0.0, 0.6 * took))
        try:
            summary = sim.run()
        except KeyboardInterrupt:  # (arrived just as run() returned: the caller's)
            summary = sim.summary()
        sender.join()
        if summary.stop_reason == "paused":
            paused += 1
            assert summary.paused_by == "KeyboardInterrupt (Ctrl-C)"
            state = sim.control.get_state()
            assert state.is_paused and not state.is_running
            # consistent and queryable while paused
            assert server.in_flight in (0, 1) and len(server._queue) >= 0
            sim.query.metrics("queue_depth").from_entity("Server").aggregate("mean").execute()
            sim.query.spans().execute()
            summary = sim.control.resume()
        assert summary.stop_reason == "complete"
        assert snapshot(sim) == expected
    assert paused >= 2, "the signal never arrived during a run"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_ctrl_c_before_the_boundary_interrupts_hard():
    sim, *_ = mm1(seed=2, stop_after=100.0)
    hits = []

    def stubborn(obs) -> None:  # a subscriber busy at the moment of both Ctrl-Cs
        if not hits:
            hits.append(obs)
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)

    sim.observations.metrics("arrivals").subscribe(stubborn)
    with pytest.raises(KeyboardInterrupt):
        sim.run()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert not sim.control.get_state().is_running
