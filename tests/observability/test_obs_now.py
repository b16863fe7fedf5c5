"""A range reaching the current instant includes every value in effect at now; raw rows
and aggregates over the same range agree (after a breakpoint, and after a finished run)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happysim_rx import ManualClock, MetricStore, ObservationBus, QueryEngine
from happysimulator.observability import Breakpoint, MetricCondition, ObservabilityConfig
from tests.observability.obs_testkit import mm1


@pytest.mark.parametrize("config", [ObservabilityConfig.full(), ObservabilityConfig.streaming()])
def test_breakpoint_value_is_in_the_range_that_reaches_now(config):
    sim, _, _, _ = mm1(seed=42, lam=12.0, stop_after=1000.0, config=config)
    sim.control.add_breakpoint(Breakpoint(
        metric_condition=MetricCondition("Server", "queue_depth", "gt", 20)))
    assert sim.run().stop_reason == "paused"
    now = sim.control.get_state().current_time.to_seconds()
    q = sim.query.metrics("queue_depth").from_entity("Server")
    raw = q.between(0, now + 1e-9).execute().rows
    assert raw[-1]["time"] == now and raw[-1]["value"] == 21.0
    r = q.between(0, now + 1e-9).aggregate("last", "max", "count").execute()
    assert (r.value("last"), r.value("max")) == (21.0, 21.0)
    assert r.value("count") == len(q.between(0, now + 1e-9).execute().rows)
    # a range that starts at now: the value in effect, held for no time yet
    r = q.between(now, now + 5).aggregate("last", "mean", "min", "p50").execute()
    assert r.value("last") == 21.0
    assert r.value("mean") == r.value("min") == r.value("p50") == 21.0
    # the future has no value yet
    assert q.between(now + 1, now + 2).aggregate("last").execute().scalar is None


@pytest.mark.parametrize("config", [ObservabilityConfig.full(), ObservabilityConfig.streaming()])
def test_finished_run_reports_the_idle_server(config):
    sim, _, _, _ = mm1(seed=3, lam=8.0, stop_after=200.0, config=config)
    sim.run()
    q = sim.query.metrics("in_flight").from_entity("Server")
    assert q.aggregate("last").execute().scalar == 0.0
    assert q.execute().rows[-1]["value"] == 0.0


def _settled(points):
    """Records as a gauge's points: an instant's last value; an instant ending where it
    began (several records netting to nothing, or one setting the value held) is no
    change (docs/design.md)."""
    out, prev = [], None
    for t in sorted({t for t, _ in points}):
        at = [v for u, v in points if u == t]
        if at[-1] != prev:
            out.append((t, at[-1]))
        prev = at[-1]
    return out


def _stores():
    clock = ManualClock()
    bus = ObservationBus(clock)
    exact = bus.attach_store(MetricStore())
    return clock, bus, exact


changes = st.lists(
    st.tuples(st.integers(0, 40), st.integers(-5, 5)), min_size=1, max_size=60
).map(sorted)


@settings(max_examples=60, deadline=None)
@given(changes, st.integers(0, 40), st.integers(0, 45))
def test_gauge_aggregates_agree_with_raw_rows_up_to_now(points, a, now_extra):
    """min/max/last/count over [a, now + eps) equal the raw rows plus the carried-in value,
    whatever happened at the current instant (several changes at one time included)."""
    clock, bus, _ = _stores()
    g = bus.metric("S", "g", "gauge")
    for t, v in points:
        g.emit(float(t), float(v))
    now = float(max(points[-1][0], now_extra))
    clock.advance_to(now)
    eng = QueryEngine(bus)
    a = float(min(a, now))
    points = _settled(points)  # the gauge's points: one per instant (docs/design.md)
    q = eng.metrics("g").between(a, now + 1e-9)
    rows = q.execute().rows
    carry = [v for t, v in points if t < a][-1:] if not any(t == a for t, _ in points) else []
    held = [float(v) for v in carry] + [r["value"] for r in rows]
    r = q.aggregate("min", "max", "last", "first", "count").execute()
    if not held:
        assert r.value("last") is None and r.value("count") == 0
        return
    assert r.value("count") == len(rows)
    assert (r.value("min"), r.value("max")) == (min(held), max(held))
    assert (r.value("first"), r.value("last")) == (held[0], held[-1])
    # the time-weighted mean weighs time up to now only
    mean = q.aggregate("mean").execute().scalar
    ts = np.array([a] * len(carry) + [r["time"] for r in rows] + [now])
    w = np.diff(ts)
    want = held[-1] if w.sum() == 0 else float(np.dot(held, w) / w.sum())
    assert mean == pytest.approx(want)
