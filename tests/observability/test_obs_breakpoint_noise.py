"""Breakpoints a person can live with: hysteresis and cooldown on noisy gauges, and a
resume that ignores breakpoints."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happysimulator.observability import Breakpoint, MetricCondition
from tests.observability.obs_testkit import metric_arrays, mm1, snapshot


def _pauses(sim) -> list[float]:
    times = []
    summary = sim.run()
    while summary.stop_reason == "paused":
        times.append(sim.control.get_state().current_time.to_seconds())
        assert len(times) < 10_000
        summary = sim.control.resume()
    return times


def _expected(t, v, threshold, hysteresis, cooldown) -> list[float]:
    """Brute force over the recorded gauge: a Schmitt trigger with a cooldown."""
    armed, last, out = True, None, []
    rearm_below = threshold - hysteresis if hysteresis else None
    for ti, vi in zip(t, v, strict=True):
        if armed and vi > threshold:
            armed = False
            if cooldown and last is not None and ti < last + cooldown:
                continue  # ignored episode
            last = ti
            out.append(ti)
        elif not armed and (vi < rearm_below if hysteresis else vi <= threshold):
            armed = True
    return out


def test_a_noisy_gauge_fires_on_every_crossing_without_hysteresis_and_rarely_with_it():
    plain, *_ = mm1(seed=8, stop_after=100.0)
    plain.control.add_breakpoint(Breakpoint(
        metric_condition=MetricCondition("Server", "queue_depth", "gt", 4)))
    noisy = _pauses(plain)
    calm, *_ = mm1(seed=8, stop_after=100.0)
    calm.control.add_breakpoint(Breakpoint(metric_condition=MetricCondition(
        "Server", "queue_depth", "gt", 4, hysteresis=4)))
    few = _pauses(calm)
    assert len(noisy) > 2 * len(few) > 0
    t, v = metric_arrays(calm, "Server", "queue_depth")
    assert few == pytest.approx(_expected(t, v, 4, 4, None))
    assert noisy == pytest.approx(_expected(t, v, 4, None, None))
    assert snapshot(calm) == snapshot(plain)  # breakpoints never change the run


@settings(max_examples=10, deadline=None)
@given(threshold=st.integers(1, 6), hysteresis=st.sampled_from([None, 1, 2, 3.5]),
       cooldown=st.sampled_from([None, 0.5, 3.0, 10.0]))
def test_property_pauses_match_a_schmitt_trigger_with_cooldown(threshold, hysteresis,
                                                                cooldown):
    sim, *_ = mm1(seed=9, stop_after=120.0)
    sim.control.add_breakpoint(Breakpoint(metric_condition=MetricCondition(
        "Server", "queue_depth", ">", threshold, hysteresis=hysteresis, cooldown=cooldown)))
    got = _pauses(sim)
    t, v = metric_arrays(sim, "Server", "queue_depth")
    assert got == pytest.approx(_expected(t, v, threshold, hysteresis, cooldown))


def test_hysteresis_and_cooldown_are_validated():
    with pytest.raises(ValueError, match="ordering operator"):
        MetricCondition("Server", "queue_depth", "eq", 3, hysteresis=1)
    with pytest.raises(ValueError, match="hysteresis must be a finite number >= 0"):
        MetricCondition("Server", "queue_depth", "gt", 3, hysteresis=-1)
    with pytest.raises(TypeError, match="hysteresis must be a number"):
        MetricCondition("Server", "queue_depth", "gt", 3, hysteresis="lots")
    with pytest.raises(ValueError, match="cooldown must be >= 0"):
        MetricCondition("Server", "queue_depth", "gt", 3, cooldown=-2)
    c = MetricCondition("Server", "queue_depth", "lt", 3, hysteresis=2, cooldown=5)
    assert c.rearm_level == 5 and "hysteresis 2" in c.describe() and "cooldown 5s" in c.describe()


def test_resume_ignoring_breakpoints_runs_to_the_end_and_keeps_them_armed():
    ref, *_ = mm1(seed=8, stop_after=200.0)
    ref.run()
    sim, *_ = mm1(seed=8, stop_after=200.0)
    metric = sim.control.add_breakpoint(Breakpoint(
        metric_condition=MetricCondition("Server", "queue_depth", "gt", 3)))
    cond = sim.control.add_breakpoint(Breakpoint(condition=lambda s: True, name="always"))
    sim.control.add_breakpoint(Breakpoint(time=150.0))
    sim.control.add_breakpoint(Breakpoint(event_type="service.done"))
    sim.control.add_breakpoint(Breakpoint(event_count=10_000_000))
    summary = sim.run()
    assert summary.stop_reason == "paused"
    hits = (metric.hits, cond.hits)
    summary = sim.control.resume(ignore_breakpoints=True)
    assert summary.stop_reason == "complete"
    assert (metric.hits, cond.hits) == hits  # nothing fired meanwhile
    kinds = sorted(bp.kind for bp in sim.control.list_breakpoints())
    # the passed time breakpoint is gone; the others stay armed
    assert kinds == ["condition", "event_count", "event_type", "metric_condition"]
    assert snapshot(sim) == snapshot(ref)


def test_run_to_end_starts_or_continues_and_pause_still_works():
    sim, *_ = mm1(seed=8, stop_after=100.0)
    sim.control.add_breakpoint(Breakpoint(event_type="service.done"))
    sim.control.at_time(50.0, sim.control.pause)
    summary = sim.control.run_to_end()
    assert summary.stop_reason == "paused" and summary.paused_by.startswith("pause()")
    assert sim.control.get_state().current_time.to_seconds() == pytest.approx(50.0)
    assert sim.control.run_to_end().stop_reason == "complete"
    assert sim.control.run_to_end().stop_reason == "complete"  # (nothing left: no error)
