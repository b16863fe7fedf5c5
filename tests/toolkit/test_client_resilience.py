"""Client, retries and resilience wrappers: behaviour against hand-computed timelines,
and what they record."""

from __future__ import annotations

import pytest

from happysimulator import ConstantLatency, Event, Instant, Server, Simulation
from happysimulator.components.client import (
    Client,
    DecorrelatedJitter,
    ExponentialBackoff,
    FixedRetry,
)
from happysimulator.components.resilience import (
    Bulkhead,
    CircuitBreaker,
    CircuitState,
    Fallback,
    Hedge,
    TimeoutWrapper,
)
from happysimulator.core.entity import Entity
from happysimulator.observability import ObservabilityConfig


class Slow(Entity):
    """Answers each request after `delays[i]` seconds (the last delay repeats)."""

    def __init__(self, name: str, delays: list[float]) -> None:
        super().__init__(name)
        self.delays = delays
        self.seen: list[float] = []

    def handle_event(self, event):
        self.seen.append(self.now.to_seconds())
        yield self.delays[min(len(self.seen) - 1, len(self.delays) - 1)]


def _sim(*entities, obs=True, end=None):
    return Simulation(entities=list(entities), seed=3, end_time=end,
                      observability=ObservabilityConfig.full() if obs else
                      ObservabilityConfig.disabled())


def _total(sim, name, entity, **where):
    q = sim.query.metrics(name).from_entity(entity)
    if where:
        q = q.where(**where)
    return q.aggregate("sum").execute().scalar


def test_timeouts_and_retries_follow_the_backoff_schedule():
    # every attempt takes 1 s, the timeout is 0.25 s: attempts at 0, 0.25+0.1,
    # 0.6+0.25+0.2 = 1.05, then the request fails at 1.3
    server = Slow("S", [1.0])
    policy = ExponentialBackoff(max_attempts=3, initial_delay=0.1, max_delay=5.0)
    failures = []
    client = Client("C", server, timeout=0.25, retry_policy=policy,
                    on_failure=lambda req, why: failures.append((req, why)))
    sim = _sim(server, client)
    sim.schedule(client.send_request("x"))
    sim.run()
    assert server.seen == pytest.approx([0.0, 0.35, 0.8])
    assert client.stats.timeouts == 3 and client.stats.retries == 2
    assert client.stats.failures == 1 and failures[0][1] == "timeout"
    assert _total(sim, "requests", "C") == 3
    assert _total(sim, "retries", "C") == 2
    assert _total(sim, "timeouts", "C") == 3
    assert _total(sim, "failures", "C", reason="timeout") == 1
    # one span per attempt, numbered
    spans = sim.query.trace_store.spans()
    attempts = sorted(s.attributes["attempt"] for s in spans if s.entity == "C")
    assert attempts == [1, 2, 3]


def test_latency_counts_from_the_first_send():
    server = Slow("S", [1.0, 0.05])  # first attempt times out, the retry answers
    client = Client("C", server, timeout=0.5, retry_policy=FixedRetry(2, 0.2))
    sim = _sim(server, client)
    sim.schedule(client.send_request())
    sim.run()
    lat = sim.query.metrics("latency").from_entity("C").aggregate("max").execute().scalar
    assert lat == pytest.approx(0.5 + 0.2 + 0.05)
    assert client.average_response_time == pytest.approx(0.05)


def test_random_backoff_reproduces_with_the_seed():
    def run(seed):
        server = Slow("S", [1.0])
        client = Client("C", server, timeout=0.1,
                        retry_policy=DecorrelatedJitter(5, 0.05, 1.0))
        sim = Simulation(entities=[server, client], seed=seed,
                         observability=ObservabilityConfig.disabled())
        sim.schedule(client.send_request())
        sim.run()
        return server.seen

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_breaker_opens_rejects_then_recovers():
    server = Slow("S", [1.0] * 3 + [0.01])
    tw = TimeoutWrapper("T", server, timeout=0.1)
    cb = CircuitBreaker("B", tw, failure_threshold=3, success_threshold=1, timeout=2.0)
    client = Client("C", cb)
    sim = _sim(server, tw, cb, client)
    for t in [0.0, 0.2, 0.4, 0.6, 0.8, 2.5]:
        e = client.send_request()
        e.time = Instant.from_seconds(t)
        sim.schedule(e)
    sim.run()
    # three timeouts open the circuit at 0.5; 0.6 and 0.8 are refused at once;
    # at 2.5 (half-open) the trial succeeds and closes it
    assert len(server.seen) == 4
    assert cb.stats.rejected_requests == 2 and cb.state is CircuitState.CLOSED
    assert _total(sim, "rejected", "C", reason="circuit_open") == 2
    assert _total(sim, "rejected", "C", reason="timeout") == 3
    states = sim.query.metrics("state").from_entity("B").execute().rows
    assert [(round(r["time"], 3), r["value"]) for r in states] == [
        (0.0, 0.0), (0.5, 2.0), (2.5, 1.0), (2.51, 0.0)]


def test_refused_request_is_not_a_success_for_the_caller():
    # 0.2.5 ran the caller's hooks when the wrapper passed the request on: a request
    # refused by an open breaker looked answered at once
    server = Slow("S", [0.5])
    cb = CircuitBreaker("B", server)
    cb.force_open()
    client = Client("C", cb)
    sim = _sim(server, cb, client)
    sim.schedule(client.send_request())
    sim.run()
    assert client.stats.responses_received == 0 and client.stats.failures == 1


def test_wrapper_answers_when_the_target_finishes():
    server = Server("S", concurrency=1, service_time=ConstantLatency(0.3))
    answered = []
    bh = Bulkhead("BH", server, max_concurrent=1, max_wait_queue=1)
    client = Client("C", bh, on_success=lambda req, resp: answered.append(resp.time.to_seconds()))
    sim = _sim(server, bh, client)
    for _ in range(3):
        sim.schedule(client.send_request())
    sim.run()
    # one served, one queued in the bulkhead, one refused (and answered at 0)
    assert answered == pytest.approx([0.3, 0.6])
    assert client.stats.failures == 1
    assert _total(sim, "rejected", "BH", reason="bulkhead_full") == 1


def test_hedge_answers_with_the_first_copy():
    server = Slow("S", [1.0, 0.1])
    hedge = Hedge("H", server, hedge_delay=0.2)
    got = []
    client = Client("C", hedge, on_success=lambda req, resp: got.append(resp.time.to_seconds()))
    sim = _sim(server, hedge, client)
    sim.schedule(client.send_request())
    sim.run()
    assert got == pytest.approx([0.3])
    assert hedge.stats.hedge_wins == 1
    assert _total(sim, "wins", "H", winner="hedge") == 1


def test_fallback_takes_over_after_a_refusal():
    primary = Slow("P", [1.0])
    tw = TimeoutWrapper("T", primary, timeout=0.1)
    backup = Slow("F", [0.05])
    fb = Fallback("FB", tw, backup)
    got = []
    client = Client("C", fb, on_success=lambda req, resp: got.append(resp.time.to_seconds()))
    sim = _sim(primary, tw, backup, fb, client)
    sim.schedule(client.send_request())
    sim.run()
    assert got == pytest.approx([0.15])
    assert fb.stats.primary_failures == 1 and fb.stats.fallback_successes == 1


def test_invalid_arguments_name_the_rule():
    with pytest.raises(ValueError, match="timeout"):
        Client("C", Slow("S", [1]), timeout=-1)
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker("B", Slow("S", [1]), failure_threshold=0)
    with pytest.raises(ValueError, match="max_attempts"):
        FixedRetry(0, 0.1)


def test_disabled_observability_records_nothing_and_behaves_the_same():
    def run(obs):
        server = Slow("S", [1.0, 0.05])
        client = Client("C", server, timeout=0.5, retry_policy=FixedRetry(3, 0.1))
        sim = _sim(server, client, obs=obs)
        for t in range(5):
            e = client.send_request()
            e.time = Instant.from_seconds(t * 0.3)
            sim.schedule(e)
        sim.run()
        return client.stats, server.seen

    assert run(True) == run(False)


def test_event_scheduled_directly_at_the_client_is_a_request():
    server = Slow("S", [0.1])
    client = Client("C", server)
    sim = _sim(server, client)
    sim.schedule(Event(Instant.Epoch, "Request", client))
    sim.run()
    assert client.stats.responses_received == 1


def test_event_context_helpers_share_the_requests_metadata():
    e = Event(Instant.Epoch, "r", None)
    assert e.get_context("user") is None and e.get_context("user", 7) == 7
    e.add_context("user", 42)
    assert e.context["metadata"]["user"] == 42
    server = Slow("S", [0.1])
    seen = []
    server.handle_event = lambda ev: seen.append(ev.get_context("user"))
    client = Client("C", server)
    sim = _sim(server, client)
    req = client.send_request()
    req.add_context("user", 9)
    sim.schedule(req)
    sim.run()
    assert seen == [9]  # the caller's metadata travels with the attempt
