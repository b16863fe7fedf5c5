"""Observers on other threads: `sim.control.call`, thread-safe queries, state and exports.

The contract (docs/observability.md, "Threads"): every read and control entry point runs
at an event boundary, whatever thread calls it; the run may be on any thread; a second
concurrent run is refused.
"""

from __future__ import annotations

import threading
import time
import traceback

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from happysimulator.observability import Exporter, ObservabilityConfig
from tests.observability.obs_testkit import mm1, snapshot


def _run_in_thread(fn):
    out: dict = {}

    def target() -> None:
        try:
            out["result"] = fn()
        except BaseException as exc:  # handed to the test
            out["error"] = exc

    th = threading.Thread(target=target, daemon=True)
    th.start()
    return th, out


def _boundary_snapshot(sim, server, sink):
    """What a reader sees in one call: the model's own state and the stores' answers
    over [0, now) (history that later events can no longer change)."""
    state = sim.control.get_state()
    now = state.current_time.to_seconds()
    q = sim.query
    arrivals = q.metrics("arrivals").from_entity("Server").between(0, now).aggregate(
        "count").execute().scalar
    completed = q.metrics("completed").from_entity("Server").between(0, now).aggregate(
        "count").execute().scalar
    latencies = q.metrics("latency").from_entity("Sink").between(0, now).aggregate(
        "count").execute().scalar
    spans = None
    if "Sink" in q.catalog()["span_entities"]:
        spans = q.spans().from_entity("Sink").between(0, now).aggregate("count").execute().scalar
    return {
        "now": now,
        "events": state.events_processed,
        "depth": len(server._queue),
        "in_flight": server.in_flight,
        "arrivals": arrivals or 0,
        "completed": completed or 0,
        "latencies": latencies or 0,
        "spans": spans or 0,
        "catalog": len(q.catalog()["metrics"]),
    }


READS_DURING_RUN = 12


@pytest.mark.parametrize("config", ["full", "streaming"])
def test_readers_on_other_threads_see_event_boundaries_and_change_nothing(config):
    _check_concurrent_readers(config, seed=7, n_readers=3)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=st.sampled_from(["full", "streaming"]), seed=st.integers(0, 2**31 - 1),
       n_readers=st.integers(1, 3))
def test_property_concurrent_readers_equal_a_single_threaded_run(config, seed, n_readers):
    _check_concurrent_readers(config, seed=seed, n_readers=n_readers)


def _check_concurrent_readers(config: str, seed: int, n_readers: int) -> None:
    """Readers hammer queries while the run thread runs: the final stores equal a
    single-threaded run, and each sampled answer equals a single-threaded run stopped
    after the same number of events."""
    make = getattr(ObservabilityConfig, config)
    # long enough (~0.1 s of run) that readers, woken every few ms, get in several times
    horizon = 3000.0
    ref, _, _, _ = mm1(seed=seed, stop_after=horizon, config=make())
    ref.run()
    expected = snapshot(ref)

    sim, _, server, sink = mm1(seed=seed, stop_after=horizon, config=make())
    answers: list[dict] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        # (a bounded number of answers during the run: on a loaded machine an unbounded
        # reader loop slows the run it reads, and the test's time grows with the load)
        during = 0
        try:
            while not stop.is_set() and during < READS_DURING_RUN:
                answer = sim.control.call(_boundary_snapshot, sim, server, sink)
                answers.append(answer)
                during += 0 < answer["now"] < horizon
                sim.query.catalog()
                sim.control.get_state()
                sim.query.metrics("queue_depth").from_entity("Server").aggregate(
                    "mean", "max").execute()
                if len(answers) % 8 == 0:
                    Exporter(sim).summary(budget_bytes=4000)
                time.sleep(0.001)  # (let the run thread progress between readers' turns)
        except BaseException:
            errors.append(traceback.format_exc())

    readers = [threading.Thread(target=reader, daemon=True) for _ in range(n_readers)]
    for th in readers:
        th.start()
    try:
        summary = sim.run()
    finally:
        stop.set()
        for th in readers:
            th.join(10)
    assert not errors, "\n".join(errors)
    assert summary.stop_reason == "complete"
    during = [a for a in answers if 0 < a["now"] < horizon]
    assert len(during) >= 3, "the readers never got in while the run was going"
    got = snapshot(sim)
    assert got.keys() == expected.keys()
    for key, want in expected.items():  # the readers changed nothing
        if config == "streaming" and key.startswith("windows:"):
            # (a streaming bucket's float sum depends on where flushes cut the batches:
            # equal up to rounding)
            assert len(got[key]) == len(want), key
            for g, w in zip(got[key], want, strict=True):
                assert g.keys() == w.keys()
                for field, value in w.items():
                    if isinstance(value, float):
                        assert g[field] == pytest.approx(value, rel=1e-12), (key, field)
                    else:
                        assert g[field] == value, (key, field)
        else:
            assert got[key] == want, key
    # every answer is the state of one event boundary: the history before `now` is what
    # the finished run says it is, and the model balances at that instant
    for a in during:
        now = a["now"]
        for name, entity in (("arrivals", "Server"), ("completed", "Server"),
                             ("latency", "Sink")):
            whole = sim.query.metrics(name).from_entity(entity).between(0, now).aggregate(
                "count").execute().scalar or 0
            key = "latencies" if name == "latency" else name
            if config == "full":
                assert a[key] == whole, (name, now)
        assert a["completed"] <= a["arrivals"]
        assert 0 <= a["in_flight"] <= 1 and a["depth"] >= 0
    # ... and it is exactly what a single-threaded run stopped after the same number of
    # events answers (a sample of the answers)
    for a in during[:: max(1, len(during) // 4)][:4]:
        one, _, one_server, one_sink = mm1(seed=seed, stop_after=horizon, config=make())
        one.run(max_events=a["events"])
        b = _boundary_snapshot(one, one_server, one_sink)
        assert b["events"] == a["events"]
        for key in ("depth", "in_flight", "catalog"):
            assert b[key] == a[key], key
        for name, entity, key in (("arrivals", "Server", "arrivals"),
                                  ("completed", "Server", "completed"),
                                  ("latency", "Sink", "latencies")):
            same = one.query.metrics(name).from_entity(entity).between(0, a["now"]).aggregate(
                "count").execute().scalar or 0
            if config == "full":
                assert same == a[key], (name, a["now"])


def test_call_runs_immediately_on_the_run_thread_and_under_the_lock_when_idle():
    sim, _, _, _ = mm1(seed=1, stop_after=5.0)
    seen = []
    sim.observations.metrics("completed").subscribe(
        lambda o: seen.append(sim.control.call(lambda: threading.get_ident())))
    sim.run()
    assert seen and set(seen) == {threading.get_ident()}
    # idle: in the caller's thread, holding the simulation's lock
    th, out = _run_in_thread(lambda: (threading.get_ident(), sim._lock._is_owned()))
    th.join(5)
    assert out["result"][1] is False
    ident, owned = sim.control.call(lambda: (threading.get_ident(), sim._lock._is_owned()))
    assert ident == threading.get_ident() and owned
    with pytest.raises(ZeroDivisionError):
        sim.control.call(lambda: 1 / 0)


def test_call_from_another_thread_runs_on_the_run_thread_between_events():
    sim, _, _, _ = mm1(seed=3, stop_after=200.0)
    run_thread = {}
    started = threading.Event()

    def run() -> object:
        run_thread["id"] = threading.get_ident()
        sim.observations.metrics("arrivals").subscribe(lambda o: started.set())
        return sim.run()

    th, out = _run_in_thread(run)
    assert started.wait(5)
    got = sim.control.call(lambda: (threading.get_ident(), sim.control.get_state().is_running))
    th.join(30)
    assert got == (run_thread["id"], True) or not got[1]
    assert out["result"].stop_reason == "complete"


def test_pause_from_another_thread_pauses_at_the_next_boundary_and_resume_is_exact():
    ref, _, _, _ = mm1(seed=5, stop_after=300.0)
    ref.run()
    sim, _, _, _ = mm1(seed=5, stop_after=300.0)
    started = threading.Event()
    sim.observations.metrics("arrivals").subscribe(lambda o: started.set())
    th, out = _run_in_thread(sim.run)
    assert started.wait(5)
    sim.control.pause()
    th.join(30)
    summary = out["result"]
    if summary.stop_reason == "complete":  # (the run beat the pause: nothing to check)
        pytest.skip("the run finished before the pause arrived")
    assert summary.stop_reason == "paused" and "pause()" in summary.paused_by
    state = sim.control.get_state()
    assert state.is_paused and not state.is_running
    th, out = _run_in_thread(sim.control.resume)
    th.join(30)
    assert out["result"].stop_reason == "complete"
    assert snapshot(sim) == snapshot(ref)


def test_a_second_concurrent_run_is_refused_with_a_clear_error():
    sim, _, _, _ = mm1(seed=2, stop_after=400.0)
    started, release = threading.Event(), threading.Event()

    def slow(o) -> None:
        if not started.is_set():
            started.set()
            release.wait(5)

    sim.observations.metrics("arrivals").subscribe(slow)
    th, out = _run_in_thread(sim.run)
    assert started.wait(5)
    for attempt in (sim.run, sim.control.resume, sim.control.step):
        with pytest.raises(RuntimeError, match="already running in another thread"):
            attempt()
    release.set()
    th.join(30)
    assert out["result"].stop_reason == "complete"


def test_breakpoints_added_from_another_thread_take_effect_during_the_run():
    from happysimulator.observability import Breakpoint

    sim, _, _, _ = mm1(seed=4, stop_after=500.0)
    started = threading.Event()
    sim.observations.metrics("arrivals").subscribe(lambda o: started.set())
    th, out = _run_in_thread(sim.run)
    assert started.wait(5)
    bp = sim.control.add_breakpoint(Breakpoint(event_type="never-happens-at-all"))
    cond = sim.control.add_breakpoint(
        Breakpoint(condition=lambda st: st.events_processed >= 0, name="always"))
    th.join(30)
    summary = out["result"]
    assert summary.stop_reason == "complete" or summary.paused_by.startswith("always")
    assert bp in sim.control.list_breakpoints() and cond.hits <= 1


def test_run_on_a_worker_thread_and_control_from_the_main_thread():
    sim, _, _, _ = mm1(seed=9, stop_after=30.0)
    th, out = _run_in_thread(lambda: sim.control.run_until(10.0))
    th.join(30)
    assert out["result"].stop_reason == "until"
    assert sim.control.get_state().current_time.to_seconds() <= 10.0
    events = sim.control.step(5)
    assert len(events) == 5
    th, out = _run_in_thread(sim.control.resume)
    th.join(30)
    assert out["result"].stop_reason == "complete"


def test_call_waits_when_a_run_ends_before_serving_it():
    """A call that arrives as the run ends is served after the loop (not lost)."""
    sim, _, _, _ = mm1(seed=11, stop_after=2.0)
    results = []
    th, out = _run_in_thread(sim.run)
    for _ in range(50):
        results.append(sim.control.call(lambda: sim.events_processed))
        time.sleep(0.001)
    th.join(30)
    assert out["result"].stop_reason == "complete"
    assert results == sorted(results)
