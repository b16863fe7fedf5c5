"""Issue 19, item 4 (residual) and finding N3: when a run pauses.

* A metric breakpoint that becomes true on the run's last event pauses there in every
  configuration and at every magnitude of time (at t = 1e9 s the pause was requested at
  the float seconds of now, which rounded to a later nanosecond the run never reached).
* A time breakpoint that no event reaches does not move the clock: the uninterrupted run
  is the oracle, and a run paused and resumed ends where it ends.
"""

from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from happysim_rx.query import Query
from happysimulator import Simulation
from happysimulator.observability import Breakpoint, MetricCondition, ObservabilityConfig
from operators.simtime import seconds
from tests.oracle.harness import _config, reference_run
from tests.oracle.models import ModelSpec, build


@pytest.mark.parametrize("start_time", [0.0, 3e7, 1e9])
@pytest.mark.parametrize("config", ["full", "default", "streaming", "tiny"])
@pytest.mark.parametrize("reader", [False, True])
def test_item4_metric_breakpoint_true_on_the_last_event_pauses_at_any_time(
        start_time, config, reader):
    model = ModelSpec(seed=1, arrivals="constant", rate=4.0, limit=6, start_time=start_time,
                      service="exp", service_mean=1.0, router=True)
    ref = reference_run(model)
    last = [o.value for k, o in ref.obs if k >= 1 and o.kind.value == "metric"
            and (o.source, o.name) == ("Sink", "latency")][-1]
    sim = build(model, _config(config))
    bp = Breakpoint(metric_condition=MetricCondition("Sink", "latency", "ge", last))
    sim.control.add_breakpoint(bp)
    stop = threading.Event()
    if reader:  # a reader thread polling the stores during the run changes nothing
        def read() -> None:
            while not stop.is_set():
                _ = sim.query.metric_store
                sim.query.metrics("latency").from_entity("Sink").aggregate("count").execute()

        threading.Thread(target=read, daemon=True).start()
    try:
        sim.run()
    finally:
        stop.set()
    assert bp.hits == 1
    assert sim.control.is_paused and not sim.control.is_complete
    assert sim._events_processed == ref.events and seconds(sim.now_ns) == ref.now
    sim.control.resume()
    assert sim.control.is_complete and seconds(sim.now_ns) == ref.now


def test_a_timer_at_the_float_of_now_runs_at_now_at_large_times():
    sim = Simulation(observability=ObservabilityConfig.full())
    now = sim.now_ns = 1_000_000_036_306_491_817  # its float seconds round to a later ns
    assert round((now / 1_000_000_000) * 1e9) != now
    # both ways of writing now in float seconds mean now; a float later than it does not
    for t in (now / 1_000_000_000, sim.clock.now()):
        assert sim.clock.call_at(t, lambda: None).time_ns == now
    later = sim.clock.now() + 1e-6
    assert sim.clock.call_at(later, lambda: None).time_ns > now


def _answers(sim) -> dict:
    out = {}
    for name, src in (("queue_depth", "Server"), ("latency", "Sink"), ("in_flight", "Server")):
        r = sim.query.execute(Query().metrics(name).from_entity(src).aggregate(
            "mean", "count", "rate", "last"))
        out[name] = (r.rows, r.start, r.end)
    return out


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(model=st.builds(ModelSpec, seed=st.integers(0, 5),
                       arrivals=st.sampled_from(["constant", "poisson"]),
                       rate=st.sampled_from([2.0, 8.0]), limit=st.integers(1, 6),
                       start_time=st.sampled_from([0.0, 1e9]),
                       service=st.sampled_from(["zero", "const", "exp"]),
                       service_mean=st.sampled_from([0.125, 0.5])),
       at=st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.75, 2.5, 5.0, 50.0]))
def test_n3_a_paused_and_resumed_run_ends_where_the_uninterrupted_one_does(model, at):
    cfg = ObservabilityConfig.full()
    ref = build(model, cfg)
    ref.run()
    sim = build(model, cfg)
    bp = Breakpoint(time=model.start_time + at)
    sim.control.add_breakpoint(bp)
    sim.run()
    reached = sim.control.is_paused
    # it pauses exactly when some event is later than the breakpoint's time
    later = ref.now_ns > round((model.start_time + at) * 1e9)
    assert reached == later and bp.hits == int(later)
    while sim.control.is_paused:
        sim.control.resume()
    assert sim.control.is_complete
    assert (sim.now_ns, sim._events_processed) == (ref.now_ns, ref._events_processed)
    assert _answers(sim) == _answers(ref)


def test_n3_minimal_case_a_time_breakpoint_after_the_last_event():
    model = ModelSpec(seed=4, arrivals="constant", rate=2.0, limit=3, service="const",
                      service_mean=0.125)
    sim = build(model, ObservabilityConfig.full())
    bp = Breakpoint(time=1.75)  # events end at 1.625 s
    sim.control.add_breakpoint(bp)
    sim.run()
    assert sim.control.is_complete and bp.hits == 0
    assert sim.clock.now() == 1.625
