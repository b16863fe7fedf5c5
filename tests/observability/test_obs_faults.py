"""Faults: nothing an observer does may change the model.

Observer code (Rx subscribers, operators, timers, breakpoint conditions, hooks,
SimulationObservers) runs only at event boundaries; when it raises, the run pauses with
`paused_by` naming it (or the error goes to the subscriber's own on_error), and resuming
gives exactly the uninterrupted run.
"""

from __future__ import annotations

import pytest
import reactivex.operators as rx_ops
from hypothesis import given, settings
from hypothesis import strategies as st

from happysimulator import Entity, Event, Simulation
from happysimulator.observability import Breakpoint, Exporter, SimulationObserver
from tests.observability.obs_testkit import mm1, snapshot

_REF: dict[int, dict] = {}


def _reference(seed: int) -> dict:
    if seed not in _REF:
        sim, *_ = mm1(seed=seed, stop_after=40.0)
        sim.run()
        _REF[seed] = snapshot(sim)
    return _REF[seed]


def _resume_to_end(sim, limit: int = 1000) -> list[str]:
    reasons = []
    summary = sim.run()
    while summary.stop_reason == "paused":
        reasons.append(summary.paused_by)
        assert len(reasons) < limit
        summary = sim.control.resume()
    assert summary.stop_reason == "complete"
    return reasons


class Boom(Exception):
    pass


def test_a_raising_subscriber_pauses_names_itself_and_resume_equals_the_straight_run():
    for series, entity in (("service_time", "Server"), ("completed", "Server"),
                           ("queue_depth", "Server"), ("latency", "Sink")):
        sim, _, server, sink = mm1(seed=3, stop_after=40.0)
        seen = []

        def explode(obs, seen=seen):
            seen.append(obs.value)
            if len(seen) % 7 == 3:
                raise Boom(f"bad value {obs.value}")

        sim.observations.metrics(series, source=entity).subscribe(explode)
        summary = sim.run()
        assert summary.stop_reason == "paused", series
        assert "explode" in summary.paused_by and "Boom: bad value" in summary.paused_by
        assert f"{entity}.{series}" in summary.paused_by
        state = sim.control.get_state()
        assert state.is_paused and state.paused_by == summary.paused_by
        # the model is whole: queries, catalog, spans and the summary all work now
        sim.query.catalog()
        sim.query.spans().execute()
        Exporter(sim).summary(budget_bytes=4000)
        reasons = _resume_to_end(sim)
        assert all("Boom" in r for r in reasons)
        assert snapshot(sim) == _reference(3), series
        assert server.in_flight == 0 and len(server._queue) == 0
        what, exc = sim.control.observer_errors[0]
        assert isinstance(exc, Boom) and "explode" in what


def test_a_subscriber_with_on_error_gets_the_error_and_the_run_goes_on():
    sim, *_ = mm1(seed=3, stop_after=40.0)
    errors = []

    def explode(obs):
        raise Boom("once")

    sim.observations.metrics("completed").subscribe(explode, on_error=errors.append)
    assert sim.run().stop_reason == "complete"
    assert len(errors) == 1 and isinstance(errors[0], Boom)
    assert snapshot(sim) == _reference(3)


def test_an_operator_that_raises_pauses_and_the_chain_reports_it():
    sim, *_ = mm1(seed=3, stop_after=40.0)
    out = []
    sim.observations.metrics("latency").pipe(
        rx_ops.map(lambda o: 1 / (o.value > 1.0))).subscribe(out.append)
    summary = sim.run()
    assert summary.stop_reason == "paused" and "ZeroDivisionError" in summary.paused_by
    _resume_to_end(sim)
    assert snapshot(sim) == _reference(3)


def test_a_timer_driven_operator_that_raises_pauses_the_run():
    sim, *_ = mm1(seed=3, stop_after=40.0)

    def on_batch(batch):
        if len(batch) > 5:
            raise Boom("batch too big")

    sim.observations.metrics("latency").pipe(rx_ops.buffer_with_time(5.0)).subscribe(on_batch)
    # (the last batch is flushed when the run completes: too late to pause, so a warning)
    with pytest.warns(RuntimeWarning, match="after the run completed"):
        reasons = _resume_to_end(sim)
    assert reasons and all("Boom: batch too big" in r and "timer" in r for r in reasons)
    assert snapshot(sim) == _reference(3)


class _Chain(Entity):
    """Each event schedules the next one at the same instant plus a later one."""

    def __init__(self) -> None:
        super().__init__("Chain")
        self.seen: list[tuple[float, str]] = []

    def handle_event(self, event):
        self.seen.append((event.time.to_seconds(), event.event_type))
        n = len(self.seen)
        if n >= 40:
            return None
        if n % 2:
            return Event(event.time, f"same-{n}", self)  # immediate follow-on
        return Event(event.time + 0.5, f"later-{n}", self)


def _chain_sim() -> tuple[Simulation, _Chain]:
    chain = _Chain()
    sim = Simulation(entities=[chain], seed=1)
    sim.schedule(Event(0.0, "start", chain))
    return sim, chain


def test_a_raising_breakpoint_condition_does_not_drop_the_follow_on_event():
    ref, ref_chain = _chain_sim()
    ref.run()
    sim, chain = _chain_sim()
    calls = []

    def flaky(state):
        calls.append(state.events_processed)
        if len(calls) % 3 == 1:
            raise Boom("condition broke")
        return False

    sim.control.add_breakpoint(Breakpoint(condition=flaky, name="flaky"))
    reasons = _resume_to_end(sim)
    assert reasons and all("breakpoint condition 'flaky'" in r for r in reasons)
    assert chain.seen == ref_chain.seen
    assert sim.events_processed == ref.events_processed


def test_raising_on_event_hooks_and_observers_pause_instead_of_breaking_the_run():
    class Grumpy(SimulationObserver):
        def on_start(self, state):
            raise Boom("no start")

        def on_resume(self, state):
            raise Boom("no resume")

    sim, *_ = mm1(seed=3, stop_after=40.0)
    sim.control.add_observer(Grumpy())
    summary = sim.run()
    assert summary.stop_reason == "paused" and "Grumpy.on_start" in summary.paused_by
    assert sim.events_processed == 0
    summary = sim.control.resume()
    assert "Grumpy.on_resume" in summary.paused_by
    sim.control.remove_observer(sim.control._observers[0])
    n = [0]

    def hook(ev):
        n[0] += 1
        if n[0] == 100:
            raise Boom("hook")

    sim.control.on_event(hook)
    summary = sim.control.resume()
    assert "on_event hook" in summary.paused_by and sim.events_processed == 100
    _resume_to_end(sim)
    assert snapshot(sim) == _reference(3)


@settings(max_examples=12, deadline=None)
@given(
    series=st.sampled_from(["service_time", "completed", "queue_depth", "in_flight",
                            "latency", "arrivals", "wait_time", "generated"]),
    every=st.integers(1, 40),
    chain=st.booleans(),
    seed=st.sampled_from([3, 4]),
)
def test_property_raising_observers_at_random_points_resume_equals_uninterrupted(
        series, every, chain, seed):
    sim, *_ = mm1(seed=seed, stop_after=40.0)
    count = [0]

    def maybe_raise(obs):
        count[0] += 1
        if count[0] % every == 0:
            raise Boom(f"#{count[0]}")
        return obs

    stream = sim.observations.metrics(series)
    if chain:
        stream.pipe(rx_ops.map(maybe_raise), rx_ops.filter(lambda o: True)).subscribe(
            lambda o: None)
    else:
        stream.subscribe(maybe_raise)
    _resume_to_end(sim, limit=5000)
    assert snapshot(sim) == _reference(seed)


class _Fragile(Entity):
    def __init__(self) -> None:
        super().__init__("Fragile")
        self.handled = 0

    def handle_event(self, event):
        self.handled += 1
        if event.event_type == "bad":
            raise ValueError("model bug")
        return None


def test_a_model_handler_exception_says_where_and_resume_goes_on_with_the_next_event():
    fragile = _Fragile()
    sim = Simulation(entities=[fragile], seed=1)
    sim.schedule([Event(1.0, "ok", fragile), Event(2.5, "bad", fragile),
                  Event(3.0, "ok", fragile)])
    try:
        sim.run()
    except ValueError as exc:
        notes = " ".join(getattr(exc, "__notes__", []))
        assert "Fragile" in notes and "'bad'" in notes and "t=2.5s" in notes
    else:
        raise AssertionError("the model's exception must propagate")
    state = sim.control.get_state()
    assert state.is_paused and state.stop_reason == "error"
    assert "ValueError: model bug" in state.paused_by and "'bad'" in state.paused_by
    assert state.current_time.to_seconds() == 2.5 and state.events_processed == 1
    assert sim.failed_event.event_type == "bad" and state.failed_event is sim.failed_event
    assert state.to_dict()["failed_event"] == {"time": 2.5, "event_type": "bad",
                                               "target": "Fragile"}
    # documented: the failed event is not run again; resume goes on with the next one
    summary = sim.control.resume()
    assert summary.stop_reason == "complete" and fragile.handled == 3
    assert sim.control.get_state().failed_event is None
    assert sim.events_processed == 2
