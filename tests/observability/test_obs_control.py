"""The control API: state snapshots, peek, step, observers and hooks."""

from __future__ import annotations

import numpy as np
import pytest
from obs_testkit import mm1

from happysimulator import Event
from happysimulator.core.event_heap import TimerHandle
from happysimulator.observability import (
    Breakpoint,
    MetricCondition,
    ObservabilityConfig,
    SimulationObserver,
    SimulationState,
)


def _ref_events(seed=6, **kw):
    sim, *_ = mm1(seed=seed, **kw)
    sim.run()
    return [
        (r["time"], r["source"], r["name"]) for r in sim.query.event_store.between(-np.inf, np.inf)
    ]


def _key(ev):
    return (ev.time.to_seconds(), getattr(ev.target, "name", None), ev.event_type)


def test_get_state_fields_before_during_and_after():
    sim, source, server, sink = mm1(seed=6)
    c = sim.control
    st = c.get_state()
    assert isinstance(st, SimulationState)
    assert st.events_processed == 0 and st.current_time.to_seconds() == 0.0
    # the heap holds the source's first tick and the recorder's (daemon) flush timer
    assert st.heap_size == len(sim._heap) == 2 and st.primary_events_remaining == 1
    assert not (st.is_paused or st.is_running or st.is_complete)
    assert st.last_event is None and st.paused_by is None

    during = []
    c.on_event(lambda ev: during.append(c.get_state()) if len(during) < 3 else None)
    events = c.step(7)
    assert [s.is_running for s in during] == [True] * 3
    assert [s.events_processed for s in during] == [1, 2, 3]
    st = c.get_state()
    assert st.events_processed == 7 and st.is_paused and not st.is_running
    assert st.last_event is events[-1] and st.paused_by == "step()"
    assert st.current_time == events[-1].time
    assert st.heap_size == len(sim._heap)
    live = [e for e in sim._heap if e[1] == 1 and not e[3].daemon]
    assert st.primary_events_remaining == len(live)
    d = st.to_dict()
    assert d["events_processed"] == 7 and d["last_event"]["event_type"] == events[-1].event_type
    sim.run()
    st = c.get_state()
    assert st.is_complete and not st.is_paused and st.stop_reason == "complete"
    assert st.primary_events_remaining == 0


def test_step_returns_exactly_the_processed_model_events_in_run_order():
    ref = _ref_events()
    cfg = ObservabilityConfig.default()
    sim, *_ = mm1(seed=6, config=cfg)
    c = sim.control
    # timers in the heap (a for_ breakpoint, an Rx time operator, at_time) are not events
    c.add_breakpoint(
        Breakpoint(metric_condition=MetricCondition("Server", "queue_depth", "gt", 1000, for_=1.0))
    )
    hits = []
    c.at_time(0.5, lambda: hits.append(sim.clock.now()))
    import reactivex.operators as rxops

    sim.observations.metrics("latency").pipe(rxops.buffer_with_time(0.25)).subscribe(lambda b: None)
    got = []
    for n in [1, 1, 5, 17, 3, 50, 200]:
        before = sim.events_processed
        evs = c.step(n)
        assert len(evs) == n and sim.events_processed == before + n
        assert all(isinstance(e, Event) and not isinstance(e, TimerHandle) for e in evs)
        got.extend(evs)
    assert [_key(e) for e in got] == ref[: len(got)]
    assert hits == [0.5]


def test_step_stops_early_at_the_end_of_the_run():
    sim, *_ = mm1(seed=6, stop_after=2.0)
    evs = sim.control.step(10_000)
    assert len(evs) == sim.events_processed < 10_000
    assert sim.control.is_complete and sim.control.step(1) == []


def test_peek_next_shows_events_in_run_order_without_running_them():
    sim, *_ = mm1(seed=6)
    c = sim.control
    c.step(20)
    for _ in range(30):
        before = (sim.events_processed, len(sim._heap), sim.clock.now())
        peek = c.peek_next(4)
        assert (sim.events_processed, len(sim._heap), sim.clock.now()) == before
        assert peek == sorted(peek, key=lambda e: e.time)
        assert len(peek) == min(4, sum(1 for e in sim._heap if e[1] == 1))
        # the events that run next contain the peeked ones in the same order (events
        # created while stepping can run in between)
        ran = c.step(12)
        idx = [
            next(i for i, e in enumerate(ran) if e is p) for p in peek if any(e is p for e in ran)
        ]
        assert idx == sorted(idx)
        assert ran[0] is peek[0]
    with pytest.raises(ValueError):
        c.peek_next(0)


class Recorder(SimulationObserver):
    wants_observations = True

    def __init__(self):
        self.calls = []
        self.n_obs = 0
        self.kinds = {}

    def on_start(self, state):
        self.calls.append(("start", state.events_processed))

    def on_pause(self, state):
        self.calls.append(("pause", state.events_processed))

    def on_resume(self, state):
        self.calls.append(("resume", state.events_processed))

    def on_end(self, state):
        self.calls.append(("end", state.is_complete))

    def on_observation(self, observation):
        self.n_obs += 1
        k = observation.kind.value
        self.kinds[k] = self.kinds.get(k, 0) + 1


def test_observer_lifecycle_and_observations():
    sim, source, server, sink = mm1(seed=6, stop_after=20.0)
    rec = sim.control.add_observer(Recorder())
    sim.control.step(10)
    sim.control.add_breakpoint(Breakpoint(event_count=50))
    sim.run()
    sim.control.resume()
    assert rec.calls == [
        ("start", 0),
        ("pause", 10),
        ("resume", 10),
        ("pause", 50),
        ("resume", 50),
        ("end", True),
    ]
    store = sim.query.metric_store
    n_metric = sum(len(s) for s in store.select("*", "*"))
    # (the gauges' initial values, emitted at install before the observer came, are
    # handed to it when it subscribes: a gauge stream starts with the value in effect)
    assert rec.kinds["metric"] == n_metric
    assert rec.kinds["span"] == len(sim.query.trace_store)
    assert rec.kinds["event"] == sim.events_processed
    sim2, *_ = mm1(seed=6, stop_after=20.0)
    rec2 = Recorder()
    rec2.wants_observations = False
    sim2.control.add_observer(rec2)
    sim2.run()
    assert rec2.calls == [("start", 0), ("end", True)] and rec2.n_obs == 0


def test_remove_observer_and_on_event_unhook():
    sim, *_ = mm1(seed=6, stop_after=20.0)
    rec = sim.control.add_observer(Recorder())
    seen = []
    unhook = sim.control.on_event(seen.append)
    sim.control.step(5)
    unhook()
    sim.control.remove_observer(rec)
    n = rec.n_obs
    sim.control.step(5)
    assert len(seen) == 5 and rec.n_obs == n
    sim.run()
    assert len(seen) == 5 and rec.calls[-1][0] == "pause"


def test_on_event_sees_every_model_event_in_order():
    ref = _ref_events(stop_after=20.0)
    sim, *_ = mm1(seed=6, stop_after=20.0, config=ObservabilityConfig.default())
    seen = []
    sim.control.on_event(lambda ev: seen.append(_key(ev)))
    sim.run()
    assert seen == ref


def test_last_event_is_current_after_an_unhooked_stretch():
    """default() without breakpoints runs without a per-event hook: last_event must not be
    a stale event from an earlier step()."""
    sim, *_ = mm1(seed=6, config=ObservabilityConfig.default())
    sim.control.step(3)
    sim.control.run_until(5.0)
    last = sim.control.get_state().last_event
    assert last is None or last.time.to_seconds() > 0.0 and last.time.to_seconds() <= 5.0
    ref = _ref_events()
    expected = [k for k in ref if k[0] <= 5.0][-1]
    if last is not None:
        assert _key(last) == expected


def test_pause_from_a_callback_stops_after_the_current_event():
    sim, *_ = mm1(seed=6)
    c = sim.control

    def hook(ev):
        if sim.events_processed == 42:
            c.pause()

    c.on_event(hook)
    s = sim.run()
    assert s.stop_reason == "paused" and s.paused_by.startswith("pause()")
    assert sim.events_processed == 42
    # run() from a callback is refused; the refusal is an observer fault: it pauses
    c.on_event(lambda ev: sim.run())
    s = sim.run()
    assert s.stop_reason == "paused" and "already running" in s.paused_by
    assert isinstance(c.observer_errors[-1][1], RuntimeError)


def test_pause_before_run_and_at_time():
    sim, *_ = mm1(seed=6)
    c = sim.control
    c.pause()
    s = sim.run()
    assert s.stop_reason == "paused" and sim.events_processed == 0 and c.is_paused
    fired = []
    c.at_time(3.0, lambda: (fired.append(sim.clock.now()), c.pause()))
    s = c.resume()
    assert fired == [3.0] and s.stop_reason == "paused" and sim.clock.now() == 3.0


def test_plain_engine_has_no_control():
    sim, *_ = mm1(seed=6, config=False)
    assert sim.control is None
    assert sim.run().stop_reason == "complete"
