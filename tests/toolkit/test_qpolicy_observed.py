"""Active queue policies inside a Server: drops are the server's drops (counted, traced,
depth exact), tagged by reason on "<server>/queue", listed in the catalog before the run;
and the disciplines keep their theory (priority classes: Cobham's formula)."""

from __future__ import annotations

import pytest

from happysimulator import Entity, ExponentialLatency, Server, Simulation, Source
from happysimulator.components.queue_policies import (
    CoDelQueue,
    DeadlineQueue,
    FairQueue,
    PriorityQueue,
    REDQueue,
)
from happysimulator.components.queue_policy import PriorityQueue as PeerPathPriorityQueue
from happysimulator.observability import ObservabilityConfig


class Recorder(Entity):
    """Keeps (event_type, latency) of every request that reaches it."""

    def __init__(self, name: str = "Sink") -> None:
        super().__init__(name)
        self.seen: list[tuple[str, float]] = []

    def handle_event(self, event):
        created = event.context["created_at"].to_seconds()
        self.seen.append((event.event_type, self.now.to_seconds() - created))


def _total(sim, name, entity, **where):
    q = sim.query.metrics(name).from_entity(entity)
    if where:
        q = q.where(**where)
    r = q.aggregate("sum").execute()
    return r.scalar or 0.0


def _overloaded(policy, seed=3, lam=20.0, stop=20.0):
    sink = Recorder()
    server = Server("api", service_time=ExponentialLatency(0.1), queue_policy=policy,
                    downstream=sink)
    source = Source.poisson(rate=lam, target=server, stop_after=stop)
    sim = Simulation(sources=[source], entities=[server, sink], seed=seed,
                     observability=ObservabilityConfig.full())
    return sim, server, sink


def test_catalog_lists_policy_series_before_the_run():
    sim, _, _ = _overloaded(CoDelQueue(0.005, 0.1))
    listed = {(m["source"], m["name"]) for m in sim.query.catalog()["metrics"]}
    assert ("api/queue", "dropped") in listed
    assert ("api/queue", "dropping") in listed
    assert ("api", "dropped") in listed


def test_codel_drops_are_the_servers_drops():
    policy = CoDelQueue(target_delay=0.02, interval=0.1)
    sim, server, sink = _overloaded(policy)
    sim.run()
    stats = policy.stats
    assert stats.dropped > 0
    # every request is accounted for: served, dropped or still there
    assert server.arrivals == server.completed + server.dropped + server.depth + server.in_flight
    assert server.dropped == stats.dropped + stats.capacity_rejected
    assert _total(sim, "dropped", "api") == server.dropped
    assert _total(sim, "dropped", "api/queue", reason="delay") == stats.dropped
    assert len(sink.seen) == server.completed
    # the depth gauge follows the discards: its last value is the queue's length
    last = sim.query.metrics("queue_depth").from_entity("api").aggregate("last").execute()
    assert last.scalar == server.depth
    # CoDel bounds the wait: far below what the unmanaged queue reaches at rho = 2
    waits = sim.query.metrics("wait_time").from_entity("api").aggregate("p50").execute()
    assert waits.scalar < 1.0


def test_red_refusals_tagged_by_reason():
    policy = REDQueue(min_threshold=5, max_threshold=15, max_probability=0.2, weight=0.05)
    sim, server, _ = _overloaded(policy)
    sim.run()
    s = policy.stats
    assert s.dropped_probabilistic > 0 and s.dropped_forced + s.capacity_rejected > 0
    assert _total(sim, "dropped", "api/queue", reason="early") == s.dropped_probabilistic
    assert _total(sim, "dropped", "api/queue", reason="forced") == s.dropped_forced
    assert server.dropped == s.dropped_probabilistic + s.dropped_forced + s.capacity_rejected


def test_red_reproduces_with_the_seed():
    runs = []
    for _ in range(2):
        policy = REDQueue(min_threshold=5, max_threshold=15, weight=0.05)
        sim, _, _ = _overloaded(policy, seed=11)
        sim.run()
        runs.append(policy.stats)
    assert runs[0] == runs[1]


def test_expired_deadlines_are_discarded_with_their_spans():
    policy = DeadlineQueue(get_deadline=lambda e: e.context["created_at"].to_seconds() + 0.3)
    sim, server, sink = _overloaded(policy, lam=15.0, stop=10.0)
    sim.run()
    assert policy.stats.expired > 0
    assert _total(sim, "dropped", "api/queue", reason="expired") == policy.stats.expired
    # nothing served waited past its deadline
    assert max(lat for _, lat in sink.seen) < 0.3 + 2.0
    dropped_spans = [s for s in sim.query.spans().execute().rows
                     if (s.get("attributes") or {}).get("status") == "dropped"]
    assert len(dropped_spans) == server.dropped


def test_fair_queue_shares_service_between_backlogged_flows():
    policy = FairQueue(get_flow_id=lambda e: e.event_type)
    sink = Recorder()
    server = Server("api", service_time=0.1, queue_policy=policy, downstream=sink)
    heavy = Source.constant(rate=30.0, target=server, event_type="heavy", name="heavy",
                            stop_after=10.0)
    light = Source.constant(rate=6.0, target=server, event_type="light", name="light",
                            stop_after=10.0)
    sim = Simulation(sources=[heavy, light], entities=[server, sink], end_time=10.0)
    sim.run()
    served = [t for t, _ in sink.seen]
    # both flows exceed their fair share (5/s each of 10/s): once both are backlogged
    # they are served in turn, whatever their arrival rates (FIFO would give 5:1)
    late = served[-60:]
    assert abs(late.count("light") - late.count("heavy")) <= 1


def test_priority_classes_follow_cobham():
    """Non-preemptive priority M/M/1, two classes of rate 0.4, mean service 1:
    mean response time 7/3 for the high class and 23/3 for the low one (FIFO: 5)."""
    policy = PeerPathPriorityQueue(key=lambda e: 0 if e.event_type == "hi" else 1)
    assert isinstance(policy, PriorityQueue)
    sink = Recorder()
    server = Server("api", service_time=ExponentialLatency(1.0), queue_policy=policy,
                    downstream=sink)
    hi = Source.poisson(rate=0.4, target=server, event_type="hi", name="hi",
                        stop_after=40000.0)
    lo = Source.poisson(rate=0.4, target=server, event_type="lo", name="lo",
                        stop_after=40000.0)
    sim = Simulation(sources=[hi, lo], entities=[server, sink], seed=5,
                     observability=ObservabilityConfig.disabled())
    sim.run()
    by = {"hi": [], "lo": []}
    for kind, lat in sink.seen[2000:]:
        by[kind].append(lat)
    mean_hi = sum(by["hi"]) / len(by["hi"])
    mean_lo = sum(by["lo"]) / len(by["lo"])
    assert mean_hi == pytest.approx(7 / 3, rel=0.08)
    assert mean_lo == pytest.approx(23 / 3, rel=0.15)


def test_one_policy_instance_per_owner():
    policy = CoDelQueue()
    Server("a", queue_policy=policy)
    with pytest.raises(ValueError, match="already belongs to 'a'"):
        Server("b", queue_policy=policy)


def test_policy_in_a_queue_and_driver_is_observed():
    from happysimulator import Queue, QueueDriver, Sink

    policy = REDQueue(min_threshold=2, max_threshold=6, max_probability=0.5, weight=0.2)
    sink = Sink("sink")
    server = Server("worker", service_time=0.2, downstream=sink)
    queue = Queue("line", policy=policy)
    driver = QueueDriver("driver", queue, server)
    source = Source.constant(rate=20.0, target=queue, stop_after=5.0)
    sim = Simulation(sources=[source], entities=[queue, driver, server, sink], seed=4,
                     observability=ObservabilityConfig.full())
    listed = {(m["source"], m["name"]) for m in sim.query.catalog()["metrics"]}
    assert {("line/queue", "dropped"), ("line/queue", "avg_queue")} <= listed
    sim.run()
    s = policy.stats
    refused = s.dropped_probabilistic + s.dropped_forced + s.capacity_rejected
    assert refused > 0 and queue.dropped == refused
    assert _total(sim, "dropped", "line/queue") == refused
