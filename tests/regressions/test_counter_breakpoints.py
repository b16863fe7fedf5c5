"""A metric breakpoint on a counter compares the counter's running total.

``MetricCondition("Client", "timeouts", "ge", 5)`` means "once five timeouts have
happened"; compared with each increment (1) it could never fire.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from happysimulator import ConstantLatency, Server, Simulation, Source
from happysimulator.observability import Breakpoint, MetricCondition, ObservabilityConfig


def _model(n: int, config: str = "full") -> Simulation:
    server = Server("Server", concurrency=1, service_time=ConstantLatency(0.1))
    source = Source.constant(rate=2.0, target=server, limit=n)
    return Simulation(sources=[source], entities=[server], seed=1,
                      observability=getattr(ObservabilityConfig, config)())


@settings(max_examples=15, deadline=None)
@given(n=st.integers(3, 30), k=st.integers(1, 30), config=st.sampled_from(["full", "streaming"]))
def test_a_counter_condition_fires_when_the_total_reaches_the_threshold(n, k, config):
    sim = _model(n, config)
    bp = Breakpoint(metric_condition=MetricCondition("Server", "arrivals", "ge", k))
    sim.control.add_breakpoint(bp)
    sim.run()
    if k > n:  # the total never gets there
        assert bp.hits == 0 and sim.control.is_complete
        return
    assert bp.hits == 1 and sim.control.is_paused
    total = sim.query.metrics("arrivals").from_entity("Server").aggregate("sum").execute()
    assert total.scalar == k  # paused on the increment that made it k
    sim.control.resume()
    assert sim.control.is_complete and bp.hits == 1  # edge-triggered: once


def test_armed_mid_run_past_the_threshold_does_not_fire_at_once():
    sim = _model(20)
    sim.control.run_until(5.2)  # 11 arrivals so far
    bp = Breakpoint(metric_condition=MetricCondition("Server", "arrivals", "ge", 5))
    sim.control.add_breakpoint(bp)
    sim.control.resume()
    assert bp.hits == 0 and sim.control.is_complete
    # and one armed below it counts from the total so far, not from zero
    sim = _model(20)
    sim.control.run_until(5.2)
    bp = Breakpoint(metric_condition=MetricCondition("Server", "arrivals", "ge", 14))
    sim.control.add_breakpoint(bp)
    sim.control.resume()
    assert bp.hits == 1
    assert sim.query.metrics("arrivals").from_entity("Server").aggregate("sum") \
        .execute().scalar == 14


def test_gauges_and_samples_are_still_compared_value_by_value():
    sim = _model(10)
    bp = Breakpoint(metric_condition=MetricCondition("Server", "in_flight", "ge", 2))
    sim.control.add_breakpoint(bp)
    sim.run()
    assert bp.hits == 0  # in_flight never exceeds 1 (constant 0.5 s arrivals, 0.1 s service)
