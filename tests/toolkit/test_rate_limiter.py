"""Rate limiters: policies against brute-force references, the entity's queue and
refusals, and what it records."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from happysimulator import ConstantLatency, Event, Instant, Server, Simulation
from happysimulator.components.client import Client
from happysimulator.components.rate_limiter import (
    FixedWindowPolicy,
    Inductor,
    RateLimitedEntity,
    SlidingWindowPolicy,
    TokenBucketPolicy,
)
from happysimulator.observability import ObservabilityConfig

times_ms = st.lists(st.integers(0, 5000), min_size=1, max_size=80).map(sorted)


@given(times_ms, st.integers(1, 5), st.integers(100, 2000))
def test_sliding_window_admits_what_the_naive_count_allows(ts, limit, window_ms):
    policy = SlidingWindowPolicy(window_size_seconds=window_ms / 1000, max_requests=limit)
    admitted: list[int] = []
    for t in ts:
        ok = policy.try_acquire(Instant.from_seconds(t / 1000))
        # naive: admitted ones within [t - window, t]
        in_window = [a for a in admitted if a >= t - window_ms]
        assert ok == (len(in_window) < limit)
        if ok:
            admitted.append(t)


@given(times_ms, st.integers(1, 5), st.integers(100, 2000))
def test_fixed_window_admits_what_the_naive_count_allows(ts, limit, window_ms):
    policy = FixedWindowPolicy(requests_per_window=limit, window_size=window_ms / 1000)
    admitted: list[int] = []
    for t in ts:
        ok = policy.try_acquire(Instant.from_seconds(t / 1000))
        same = [a for a in admitted if a // window_ms == t // window_ms]
        assert ok == (len(same) < limit)
        if ok:
            admitted.append(t)


@given(times_ms, st.integers(1, 10), st.floats(0.5, 20.0))
def test_token_bucket_never_admits_more_than_capacity_plus_refill(ts, cap, rate):
    policy = TokenBucketPolicy(capacity=cap, refill_rate=rate)
    admitted = [t for t in ts if policy.try_acquire(Instant.from_seconds(t / 1000))]
    for i, a in enumerate(admitted):
        for b in admitted[i:]:
            n = sum(1 for x in admitted if a <= x <= b)
            assert n <= cap + rate * (b - a) / 1000 + 1e-9


def _spike_sim(queue_capacity):
    server = Server("Server", concurrency=4, service_time=ConstantLatency(0.01))
    limiter = RateLimitedEntity("Limiter", server,
                                TokenBucketPolicy(capacity=5, refill_rate=10.0),
                                queue_capacity=queue_capacity)
    client = Client("Client", limiter)
    sim = Simulation(entities=[server, limiter, client], seed=1,
                     observability=ObservabilityConfig.full())
    for _ in range(20):  # a spike of 20 requests at t = 0
        sim.schedule(client.send_request())
    sim.run()
    return sim, limiter, client


def test_token_bucket_sheds_a_spike_and_the_client_sees_the_refusals():
    sim, limiter, client = _spike_sim(queue_capacity=0)
    assert limiter.stats.forwarded == 5 and limiter.stats.dropped == 15
    assert client.stats.responses_received == 5 and client.stats.failures == 15
    q = sim.query.metrics
    assert q("admitted").from_entity("Limiter").aggregate("sum").execute().scalar == 5
    assert q("rejected").from_entity("Limiter").aggregate("sum").execute().scalar == 15
    assert q("tokens").from_entity("Limiter").aggregate("min").execute().scalar == 0.0
    assert (q("rejected").from_entity("Client").where(reason="rate_limited")
            .aggregate("sum").execute().scalar) == 15


def test_held_requests_pass_at_the_refill_rate_in_order():
    sim, limiter, client = _spike_sim(queue_capacity=100)
    assert limiter.stats.forwarded == 20 and limiter.stats.dropped == 0
    # 5 at once, then one per 0.1 s
    assert [round(t.to_seconds(), 6) for t in limiter.forwarded_times] == pytest.approx(
        [0.0] * 5 + [0.1 * k for k in range(1, 16)])
    w = sim.query.metrics("wait_time").from_entity("Limiter").aggregate("max").execute()
    assert w.scalar == pytest.approx(1.5)


def test_open_ended_run_finishes_the_held_requests():
    server = Server("S", concurrency=1, service_time=ConstantLatency(0.001))
    ind = Inductor("I", server, time_constant=1.0)
    sim = Simulation(entities=[server, ind], seed=1)
    for k in range(10):
        sim.schedule(Event(Instant.from_seconds(k * 0.001), "r", ind))
    sim.run()
    assert ind.stats.forwarded == 10 and server.completed == 10
