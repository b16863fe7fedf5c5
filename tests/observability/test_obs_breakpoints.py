"""Breakpoints: every kind, edge-triggering, `for_` timers, one-shot, bookkeeping, errors.

Expected pause points are computed from an *uninterrupted* run of the same seed (its
recorded series / processed events), so each check compares against brute force.
"""

from __future__ import annotations

import math
import operator

import numpy as np
import pytest
import reactivex.operators as rxops
from obs_testkit import metric_arrays, mm1

from happysimulator import ConstantLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import Breakpoint, MetricCondition, ObservabilityConfig

OPS = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}


def _uninterrupted(seed=4, **kw):
    sim, *rest = mm1(seed=seed, **kw)
    sim.run()
    return sim


def _rising_edges(t, v, holds):
    """Times of the observations at which `holds` becomes true (one per episode), and for
    each episode the time of the observation that ended it (inf if none)."""
    starts, ends = [], []
    prev = False
    for ti, vi in zip(t, v, strict=True):
        h = holds(vi)
        if h and not prev:
            starts.append(ti)
        elif prev and not h:
            ends.append(ti)
        prev = h
    if len(ends) < len(starts):
        ends.append(math.inf)
    return starts, ends


def _pause_times(sim, limit=10_000):
    out = []
    for _ in range(limit):
        s = sim.run()
        if s.stop_reason != "paused":
            return out, s
        out.append(sim.clock.now())
    raise AssertionError("too many pauses")


# ---- time ----------------------------------------------------------------------------------


@pytest.mark.parametrize("t_bp", [5.0, 7.25, 0.0])
def test_time_breakpoint_pauses_before_any_later_event_at_exactly_t(t_bp):
    ref = _uninterrupted()
    ev_times = [r["time"] for r in ref.query.event_store.between(-np.inf, np.inf)]
    sim, *_ = mm1(seed=4)
    bp = sim.control.add_breakpoint(Breakpoint(time=t_bp))
    summary = sim.run()
    state = sim.control.get_state()
    assert summary.stop_reason == "paused"
    assert state.current_time.to_seconds() == t_bp
    assert state.events_processed == sum(1 for t in ev_times if t <= t_bp)
    assert all(e.time.to_seconds() > t_bp for e in sim.control.peek_next(3))
    assert "time" in summary.paused_by and summary.paused_by == state.paused_by
    assert bp.hits == 1 and sim.control.list_breakpoints() == []  # one-shot by default
    assert sim.run().stop_reason == "complete"


def test_time_breakpoint_at_an_event_time_runs_the_events_at_that_instant():
    server = Server("Server", concurrency=1, service_time=ConstantLatency(0.5))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.constant(rate=1.0, target=server, stop_after=10.0)  # arrivals at 1,2,...
    sim = Simulation(
        sources=[source], entities=[server, sink], seed=1, observability=ObservabilityConfig.full()
    )
    sim.control.add_breakpoint(Breakpoint(time=3.0))
    sim.run()
    assert sim.clock.now() == 3.0
    assert server.arrivals == 3  # the arrival at exactly 3.0 ran
    assert min(e.time.to_seconds() for e in sim.control.peek_next(5)) == 3.5


def test_kept_time_and_count_breakpoints_do_not_refire_on_resume():
    sim, *_ = mm1(seed=4)
    a = sim.control.add_breakpoint(Breakpoint(time=5.0, one_shot=False))
    b = sim.control.add_breakpoint(Breakpoint(event_count=300, one_shot=False))
    times, summary = _pause_times(sim)
    assert summary.stop_reason == "complete"
    assert len(times) == 2 and a.hits == 1 and b.hits == 1
    assert set(sim.control.list_breakpoints()) == {a, b}


# ---- event count / type ------------------------------------------------------------------


def test_event_count_breakpoint_pauses_after_exactly_n_events():
    sim, *_ = mm1(seed=4)
    sim.control.add_breakpoint(Breakpoint(event_count=123))
    s = sim.run()
    st = sim.control.get_state()
    assert st.events_processed == s.total_events_processed == 123
    assert "event_count" in st.paused_by
    with pytest.raises(ValueError, match="already passed"):
        sim.control.add_breakpoint(Breakpoint(event_count=100))
    sim.control.add_breakpoint(Breakpoint(event_count=200))
    sim.run()
    assert sim.events_processed == 200


def test_event_type_breakpoint_pauses_after_each_such_event():
    ref = _uninterrupted()
    done = [
        r["time"]
        for r in ref.query.event_store.between(-np.inf, np.inf)
        if r["name"] == "service.done"
    ]
    sim, *_ = mm1(seed=4)
    sim.control.add_breakpoint(Breakpoint(event_type="service.done"))
    seen = []
    for _ in range(len(done) + 1):
        s = sim.run()
        if s.stop_reason != "paused":
            break
        last = sim.control.get_state().last_event
        assert last.event_type == "service.done"
        seen.append(last.time.to_seconds())
    assert seen == done


# ---- metric conditions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "op", "thr"),
    [
        ("queue_depth", "gt", 3),
        ("queue_depth", ">=", 5),
        ("in_flight", "lt", 1),
        ("latency", "gt", 1.0),
    ],
)
def test_metric_breakpoint_fires_once_per_episode_at_its_rising_edge(name, op, thr):
    ref = _uninterrupted()
    src = "Sink" if name == "latency" else "Server"
    t, v = metric_arrays(ref, src, name)
    if name != "latency":  # the gauge's initial value is emitted before the bp subscribes
        t, v = t[1:], v[1:]
    opn = {"gt": "gt", ">=": "ge", "lt": "lt"}[op]
    expected, _ = _rising_edges(t, v, lambda x: OPS[opn](x, thr))
    assert len(expected) >= 3
    sim, _, server, _ = mm1(seed=4)
    bp = sim.control.add_breakpoint(
        Breakpoint(metric_condition=MetricCondition(src, name, op, thr))
    )
    pauses = []
    for _ in range(len(expected) + 1):
        s = sim.run()
        if s.stop_reason != "paused":
            break
        pauses.append(sim.clock.now())
        assert f"{src}.{name} {opn}" in s.paused_by
        if name == "queue_depth":  # paused right after the event that made it true
            assert OPS[opn](server.depth, thr)
    assert pauses == expected
    assert bp.hits == len(expected)


@pytest.mark.parametrize("for_", [0.3, 1.0, 2.5])
def test_metric_for_fires_at_t0_plus_for_if_still_true_and_not_if_recovered(for_):
    ref = _uninterrupted(seed=8, stop_after=200.0)
    t, v = metric_arrays(ref, "Server", "queue_depth")
    starts, ends = _rising_edges(t, v, lambda x: x > 2)
    last_event = ref.clock.now()
    expected = [
        s + for_
        for s, e in zip(starts, ends, strict=True)
        if e >= s + for_ and s + for_ <= last_event
    ]
    recovered = [s for s, e in zip(starts, ends, strict=True) if e < s + for_]
    assert expected and recovered  # both cases occur
    sim, _, server, _ = mm1(seed=8, stop_after=200.0)
    sim.control.add_breakpoint(
        Breakpoint(metric_condition=MetricCondition("Server", "queue_depth", "gt", 2, for_=for_))
    )
    pauses, summary = _pause_times(sim)
    assert summary.stop_reason == "complete"
    assert len(pauses) == len(expected)
    np.testing.assert_allclose(pauses, expected, rtol=0, atol=1e-9)
    assert "for" in sim.control.list_breakpoints()[0].describe()


def test_metric_breakpoint_one_shot():
    sim, *_ = mm1(seed=4)
    bp = sim.control.add_breakpoint(
        Breakpoint(
            metric_condition=MetricCondition("Server", "queue_depth", "gt", 2), one_shot=True
        )
    )
    assert sim.run().stop_reason == "paused"
    assert sim.control.list_breakpoints() == [] and bp.hits == 1
    assert sim.run().stop_reason == "complete"


def test_metric_breakpoint_on_unknown_series_warns_with_suggestions():
    sim, *_ = mm1(seed=4)
    with pytest.warns(UserWarning, match="queue_depth"):
        sim.control.add_breakpoint(
            Breakpoint(metric_condition=MetricCondition("Server", "queue_dept", "gt", 2))
        )
    assert sim.run().stop_reason == "complete"


# ---- condition / when -----------------------------------------------------------------


def test_condition_breakpoint_is_edge_triggered():
    sim, *_ = mm1(seed=4)
    calls = []

    def fifty(state):
        calls.append(state.events_processed)
        return state.events_processed >= 50

    sim.control.add_breakpoint(Breakpoint(condition=fifty, name="fifty"))
    s = sim.run()
    assert s.stop_reason == "paused" and sim.events_processed == 50
    assert s.paused_by.startswith("fifty") and sim.control.get_state().paused_by == s.paused_by
    assert sim.run().stop_reason == "complete"  # still true, but the same episode
    assert calls == list(range(1, sim.events_processed + 1))


def test_condition_breakpoint_refires_on_a_new_episode():
    sim, _, server, _ = mm1(seed=4)
    ref = _uninterrupted()
    t, v = metric_arrays(ref, "Server", "queue_depth")
    sim.control.add_breakpoint(Breakpoint(condition=lambda s: server.depth >= 4))
    pauses, _ = _pause_times(sim)
    # the condition is evaluated after each event: edges of the per-time final depth
    last = {}
    for ti, vi in zip(t, v, strict=True):
        last[ti] = vi
    expected, _ = _rising_edges(list(last), list(last.values()), lambda x: x >= 4)
    assert pauses == expected and len(pauses) >= 2


def test_when_breakpoint_pauses_after_each_emission():
    ref = _uninterrupted()
    _, lat = metric_arrays(ref, "Sink", "latency")
    n_big = int((lat > 1.2).sum())
    assert n_big >= 2
    sim, _, _, sink = mm1(seed=4)
    stream = sim.observations.metrics("latency", source="Sink").pipe(
        rxops.filter(lambda o: o.value > 1.2)
    )
    sim.control.add_breakpoint(Breakpoint(when=stream, name="slow request"))
    pauses, _ = _pause_times(sim)
    assert len(pauses) == n_big
    sim2, _, _, sink2 = mm1(seed=4)
    sim2.control.add_breakpoint(
        Breakpoint(
            when=sim2.observations.metrics("latency").pipe(rxops.filter(lambda o: o.value > 1.2))
        )
    )
    sim2.run()
    assert sink2.data.raw_values()[-1] > 1.2 and "when" in sim2.control.get_state().paused_by


# ---- bookkeeping ------------------------------------------------------------------------


def test_add_remove_list_clear():
    sim, *_ = mm1(seed=4)
    c = sim.control
    a = c.add_breakpoint(Breakpoint(time=3.0))
    b = c.add_breakpoint(Breakpoint(event_type="request"))
    m = c.add_breakpoint(
        Breakpoint(metric_condition=MetricCondition("Server", "queue_depth", ">", 1))
    )
    assert c.list_breakpoints() == [a, b, m]
    assert c.add_breakpoint(a) is a and len(c.list_breakpoints()) == 3  # idempotent
    c.remove_breakpoint(b)
    c.remove_breakpoint(m.id)
    assert c.list_breakpoints() == [a]
    with pytest.raises(KeyError, match="armed ids"):
        c.remove_breakpoint(b)
    c.clear_breakpoints()
    assert c.list_breakpoints() == []
    assert sim.run().stop_reason == "complete"  # nothing fires once removed
    d = a.to_dict()
    assert d["kind"] == "time" and d["one_shot"] is True


# ---- errors ----------------------------------------------------------------------------


def test_breakpoint_and_control_errors_are_clear():
    with pytest.raises(ValueError, match="NaN"):
        MetricCondition("Server", "queue_depth", "gt", float("nan"))
    with pytest.raises(ValueError, match="unknown operator 'gtx'.*gt, ge, lt, le, eq, ne"):
        MetricCondition("Server", "queue_depth", "gtx", 1)
    with pytest.raises(ValueError, match="exactly one of.*got none"):
        Breakpoint()
    with pytest.raises(ValueError, match="got time, event_count"):
        Breakpoint(time=1.0, event_count=3)
    with pytest.raises(ValueError, match="NaN"):
        Breakpoint(time=float("nan"))
    with pytest.raises(ValueError):
        MetricCondition("Server", "queue_depth", "gt", 1, for_=-1.0)
    sim, *_ = mm1(seed=4)
    c = sim.control
    with pytest.raises(RuntimeError, match="not started"):
        c.resume()
    with pytest.raises(ValueError, match=">= 1"):
        c.step(0)
    with pytest.raises(ValueError, match=">= 1"):
        c.step(-1)
    with pytest.raises(TypeError):
        c.step(1.5)
    c.run_until(10.0)
    with pytest.raises(ValueError, match="in the past"):
        c.add_breakpoint(Breakpoint(time=5.0))
    with pytest.raises(ValueError, match="in the past"):
        c.run_until(9.0)
    with pytest.raises(TypeError):
        c.add_breakpoint("time=5")
    sim.run()
    with pytest.raises(RuntimeError, match="complete"):
        c.resume()
    with pytest.raises(RuntimeError, match="complete"):
        c.pause()
    assert c.step(3) == []


def test_run_until_and_a_time_breakpoint_at_the_same_instant_pause_once():
    sim, *_ = mm1(seed=4)
    bp = sim.control.add_breakpoint(Breakpoint(time=5.0))
    s = sim.control.run_until(5.0)
    assert s.stop_reason == "until" and "time 5s" in s.paused_by and bp.hits == 1
    n = sim.events_processed
    s = sim.control.resume()  # no second, progress-free pause at 5.0
    assert s.stop_reason == "complete" and sim.events_processed > n


def test_time_breakpoint_earlier_than_run_until_wins():
    sim, *_ = mm1(seed=4)
    sim.control.add_breakpoint(Breakpoint(time=5.0))
    s = sim.control.run_until(10.0)
    assert s.stop_reason == "paused" and sim.clock.now() == 5.0 and "time 5s" in s.paused_by
    s = sim.control.resume()
    assert s.stop_reason == "complete"


def test_step_stops_early_at_a_breakpoint():
    sim, *_ = mm1(seed=4)
    sim.control.add_breakpoint(Breakpoint(time=0.5))
    evs = sim.control.step(100)
    assert 0 < len(evs) < 100 and sim.clock.now() == 0.5
    assert all(e.time.to_seconds() <= 0.5 for e in evs)
    assert "time 0.5s" in sim.control.get_state().paused_by


def test_metric_for_counts_a_gauge_already_true_when_armed():
    """'in_flight < 1 for 0.15 s' (idle that long) armed before the run: the server is idle
    from t=0, so the first episode starts at 0, like in the recorded series."""
    ref = _uninterrupted(seed=8, stop_after=100.0)
    t, v = metric_arrays(ref, "Server", "in_flight")
    assert t[0] == 0.0 and v[0] == 0
    starts, ends = _rising_edges(t, v, lambda x: x < 1)
    for_ = 0.15
    expected = [
        s + for_
        for s, e in zip(starts, ends, strict=True)
        if e >= s + for_ and s + for_ <= ref.clock.now()
    ]
    sim, *_ = mm1(seed=8, stop_after=100.0)
    sim.control.add_breakpoint(
        Breakpoint(metric_condition=MetricCondition("Server", "in_flight", "lt", 1, for_=for_))
    )
    pauses, _ = _pause_times(sim)
    np.testing.assert_allclose(pauses, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("for_", [None, 0.2])
def test_metric_breakpoint_armed_mid_episode(for_):
    ref = _uninterrupted(seed=8, stop_after=200.0)
    t, v = metric_arrays(ref, "Server", "queue_depth")
    starts, ends = _rising_edges(t[1:], v[1:], lambda x: x > 2)
    # an episode long enough to pause inside it and still outlast the for_ delay
    i = next(i for i, (s, e) in enumerate(zip(starts, ends, strict=True)) if e - s > 1.0)
    t_arm = starts[i] + 0.5
    sim, _, server, _ = mm1(seed=8, stop_after=200.0)
    sim.control.run_until(t_arm)
    assert server.depth > 2
    sim.control.add_breakpoint(
        Breakpoint(metric_condition=MetricCondition("Server", "queue_depth", "gt", 2, for_=for_))
    )
    pauses, _ = _pause_times(sim)
    later = list(zip(starts[i + 1 :], ends[i + 1 :], strict=True))
    if for_ is None:  # edge-triggered: the episode in progress does not fire
        expected = [s for s, _ in later]
    else:  # timing starts when armed
        expected = [t_arm + for_] + [s + for_ for s, e in later if e >= s + for_]
    np.testing.assert_allclose(pauses, expected, rtol=0, atol=1e-9)


# ---- threshold listeners and live subscribers together -------------------------------


@pytest.mark.parametrize(("src", "name", "thr"), [("Server", "queue_depth", 3),
                                                   ("Sink", "latency", 1.0)])
def test_subscriber_gets_every_value_while_a_threshold_breakpoint_skips_the_rest(
        src, name, thr):
    """A threshold breakpoint lets components publish only threshold crossings; a plain
    Rx subscriber on the same series must still see every value the store records, and
    the breakpoint must still fire at each rising edge."""
    ref = _uninterrupted()
    t, v = metric_arrays(ref, src, name)
    # (a gauge's subscriber starts with the value in effect when it subscribes: the
    # initial value, emitted before, is handed to it too)
    expected_pauses, _ = _rising_edges(t, v, lambda x: x > thr)
    sim, *_ = mm1(seed=4)
    seen = []
    sim.observations.metrics(name, source=src).subscribe(
        lambda o: seen.append((o.time, o.value)))
    sim.control.add_breakpoint(Breakpoint(metric_condition=MetricCondition(src, name, "gt",
                                                                           thr)))
    pauses, summary = _pause_times(sim)
    assert summary.stop_reason == "complete"
    assert pauses == expected_pauses
    np.testing.assert_array_equal([x for x, _ in seen], t)
    np.testing.assert_array_equal([y for _, y in seen], v)


def test_two_threshold_breakpoints_on_one_gauge_fire_independently():
    ref = _uninterrupted()
    t, v = metric_arrays(ref, "Server", "queue_depth")
    t, v = t[1:], v[1:]
    high, _ = _rising_edges(t, v, lambda x: x > 4)
    low, _ = _rising_edges(t, v, lambda x: x < 1)
    sim, *_ = mm1(seed=4)
    a = sim.control.add_breakpoint(
        Breakpoint(metric_condition=MetricCondition("Server", "queue_depth", "gt", 4)))
    b = sim.control.add_breakpoint(
        Breakpoint(metric_condition=MetricCondition("Server", "queue_depth", "lt", 1)))
    pauses, _ = _pause_times(sim)
    assert pauses == sorted(set(high) | set(low))
    assert (a.hits, b.hits) == (len(high), len(low))
