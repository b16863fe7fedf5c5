"""Issue 19, items 12 and 13: other threads while a simulation runs. A reader that only
touches a store attribute must not flush the recorder on its own thread; the run's
wall-clock guard concerns the simulation's thread only."""

from __future__ import annotations

import threading
import time

import reactivex
import reactivex.operators as rx_ops

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import ObservabilityConfig


def _mm1(stop: float, seed: int = 5) -> Simulation:
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    src = Source.poisson(rate=8.0, target=server, stop_after=stop)
    return Simulation(sources=[src], entities=[server, sink], seed=seed,
                      observability=ObservabilityConfig.full())


def test_item12_reading_store_attributes_from_another_thread_reads_at_a_boundary():
    ref = _mm1(3000.0)
    ref.run()
    sim = _mm1(3000.0)
    done = threading.Event()
    errors: list[BaseException] = []
    reads = [0]

    def reader():
        try:
            while not done.is_set():
                len(sim.query.trace_store)
                sim.query.metric_store.catalog()
                len(sim.query.event_store)
                reads[0] += 1
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        summary = sim.run()
    finally:
        done.set()
        t.join(10)
    assert not errors, errors
    assert reads[0] > 0
    assert summary.stop_reason == "complete", (summary.stop_reason, summary.paused_by)
    assert len(sim.query.trace_store) == len(ref.query.trace_store)
    got, want = (s.query.metrics("queue_depth").from_entity("Server").execute().rows
                 for s in (sim, ref))
    assert got == want


def test_item13_an_unrelated_interval_keeps_ticking_while_a_simulation_runs():
    ticks: list[int] = []
    sub = reactivex.interval(0.01).subscribe(ticks.append)
    try:
        time.sleep(0.05)
        sim = _mm1(4000.0)
        before = len(ticks)
        t0 = time.perf_counter()
        sim.run()
        elapsed = time.perf_counter() - t0
        time.sleep(0.05)
        assert len(ticks) > before + 2, (len(ticks), before, elapsed)
    finally:
        sub.dispose()


def test_item13_a_timer_subscribed_on_another_thread_works_during_a_run():
    sim = _mm1(6000.0)
    got: list[object] = []
    errors: list[BaseException] = []
    started = threading.Event()

    def elsewhere():
        started.wait(10)
        try:
            reactivex.timer(0.001).pipe(rx_ops.map(lambda _: "fired")).subscribe(
                got.append, errors.append)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    t = threading.Thread(target=elsewhere, daemon=True)
    t.start()
    sim.control.at_time(0.0, started.set)  # the run has begun
    sim.run()
    t.join(10)
    time.sleep(0.05)
    assert not errors, errors
    assert got == ["fired"]
