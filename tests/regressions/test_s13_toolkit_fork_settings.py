"""What-if settings on the toolkit: a `Client`'s timeout, a `LoadBalancer`'s strategy
(by name) and backends (by names), a `CircuitBreaker`'s thresholds and timeout, a rate
limiter policy's rates are settable in a fork -- listed by ``choices`` and the refusals'
valid lists, checked as the constructors check them, and in effect after the fork
point. Before session 13 their valid lists were empty (only a client's retry policy)."""

from __future__ import annotations

from typing import Any

import pytest

from happysimulator import ConstantLatency, ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.components.client import Client, FixedRetry
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.components.rate_limiter import RateLimitedEntity, TokenBucketPolicy
from happysimulator.components.resilience import CircuitBreaker
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol import SessionProtocol
from happysimulator.observability.settings import SettingError, apply_settings, choices


def build(seed: int = 1, end: float = 20.0) -> Simulation:
    """Users -> RL (token bucket) -> CB -> Client -> LB -> S0..S2 -> Sink."""
    sink = Sink("Sink")
    servers = [Server(f"S{i}", service_time=ExponentialLatency(0.05), downstream=sink)
               for i in range(3)]
    lb = LoadBalancer("LB", backends=servers, strategy=RoundRobin())
    client = Client("Client", lb, timeout=1.0, retry_policy=FixedRetry(max_attempts=2,
                                                                       delay=0.01))
    cb = CircuitBreaker("CB", target=client, failure_threshold=5)
    rl = RateLimitedEntity("RL", cb, TokenBucketPolicy(capacity=2.0, refill_rate=5.0))
    users = Source.constant(rate=20.0, target=rl, name="Users", stop_after=end)
    return Simulation(sources=[users], entities=[sink, *servers, lb, client, cb, rl],
                      seed=seed, end_time=end, observability=ObservabilityConfig.full())


def _entity(sim: Simulation, name: str) -> Any:
    return next(e for e in sim.entities if e.name == name)


def test_the_toolkits_settable_attributes_are_listed() -> None:
    sim = build()
    assert "timeout" in choices(_entity(sim, "Client"))
    assert set(choices(_entity(sim, "LB"))) >= {"strategy", "backends"}
    assert set(choices(_entity(sim, "CB"))) >= {"failure_threshold", "success_threshold",
                                                "timeout", "half_open_max_requests"}
    assert set(choices(_entity(sim, "RL"))) >= {"policy.refill_rate", "policy.capacity"}


@pytest.mark.parametrize("setting, hint", [
    ({"Client.timeout": -1.0}, ">= 0"),
    ({"Client.timeout": "1"}, "not converted"),
    ({"CB.failure_threshold": 0}, ">= 1"),
    ({"CB.failure_threshold": 2.5}, "not converted"),
    ({"CB.timeout": 0.0}, "> 0"),
    ({"RL.policy.refill_rate": -1.0}, ">= 0"),
    ({"RL.policy.capacity": 0.0}, "> 0"),
    ({"LB.strategy": "fastest"}, "least_connections"),
    ({"LB.backends": ["S0", "S9"]}, "S2"),
    ({"LB.backends": []}, "S1"),
    ({"CB.colour": 1}, "failure_threshold"),
])
def test_bad_values_are_refused_and_nothing_changes(setting: dict, hint: str) -> None:
    sim = build()
    sim.control.run_until(1.0)
    before = {k: repr(getattr(_entity(sim, "CB"), k)) for k in choices(_entity(sim, "CB"))}
    with pytest.raises(SettingError) as info:
        apply_settings(sim, {"CB.failure_threshold": 3, **setting})
    assert hint in str(info.value) + " ".join(info.value.valid or [])
    after = {k: repr(getattr(_entity(sim, "CB"), k)) for k in choices(_entity(sim, "CB"))}
    assert after == before  # all or nothing


def _routed(sim: Simulation, start: float, end: float) -> dict[str, float]:
    rows = sim.query.metrics("routed").from_entity("LB").between(start, end).group_by(
        "backend").aggregate("sum").execute().rows
    return {r["backend"]: r["sum"] for r in rows}


def test_settings_take_effect_after_the_fork_point() -> None:
    sim = build()
    sim.control.run_until(10.0)
    admitted_before = sim.query.metrics("admitted").from_entity("RL").between(
        5.0, 10.0).aggregate("sum").execute().scalar
    applied = apply_settings(sim, {"LB.strategy": "least_connections",
                                   "LB.backends": ["S0", "S2"],
                                   "RL.policy.refill_rate": 10.0,
                                   "Client.timeout": 0.5, "CB.failure_threshold": 3})
    assert "LB.strategy: RoundRobin -> 'least_connections'" in applied
    assert "LB.backends: ['S0', 'S1', 'S2'] -> ['S0', 'S2']" in applied
    sim.run()
    routed = _routed(sim, 10.5, 20.0)
    assert set(routed) == {"S0", "S2"}
    # 20/s offered: 5/s admitted before, 10/s after (the bucket's new refill rate)
    admitted_after = sim.query.metrics("admitted").from_entity("RL").between(
        15.0, 20.0).aggregate("sum").execute().scalar
    assert admitted_before == pytest.approx(25, abs=2)
    assert admitted_after == pytest.approx(50, abs=2)


def test_a_shorter_client_timeout_applies_to_attempts_in_flight() -> None:
    sink = Sink("Sink")
    slow = Server("Slow", service_time=ConstantLatency(2.0), downstream=sink,
                  concurrency=100)
    client = Client("Client", slow, timeout=10.0)
    users = Source.constant(rate=1.0, target=client, name="Users", stop_after=3.0)
    sim = Simulation(sources=[users], entities=[sink, slow, client], seed=1, end_time=20.0,
                     observability=ObservabilityConfig.full())
    sim.control.run_until(1.5)  # one attempt in flight since t=1
    apply_settings(sim, {"Client.timeout": 0.2})
    sim.run()
    times = sim.query.metrics("timeouts").from_entity("Client").execute().rows
    # the attempt sent at 1.0 times out at once (1.5), the later ones 0.2 s after sending
    assert [r["time"] for r in times] == pytest.approx([1.5, 2.2, 3.2])


def test_a_fork_through_the_protocol_names_the_valid_strategies() -> None:
    session = SessionProtocol(build, default_wait_s=None)
    try:
        session.handle({"op": "run_until", "time": 5.0})
        bad = session.handle({"op": "fork", "set": {"LB.strategy": "fastest"}})
        assert bad["error"]["kind"] == "unknown_name"
        assert "power_of_two_choices" in bad["error"]["valid"]
        fork = session.handle({"op": "fork", "name": "two", "set": {
            "LB.backends": ["S0", "S1"], "CB.timeout": 5.0}})
        assert fork["ok"], fork
        session.handle({"op": "run", "branch": "two"})
        answer = session.handle({"op": "query", "branch": "two", "query": {
            "kind": "metrics", "name": "routed", "entity": "LB", "start": 6.0,
            "group_by": ["backend"], "aggregates": ["sum"]}})
        assert {r["backend"] for r in answer["result"]["rows"]} == {"S0", "S1"}
    finally:
        session.close()
