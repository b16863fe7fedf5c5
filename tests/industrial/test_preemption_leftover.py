"""Capacity an eviction frees beyond the preempting request goes to the waiters at once,
most urgent first, while the next one fits (the recorded gauges say so too)."""

from __future__ import annotations

from typing import Any

from happysimulator import Event, Instant, Simulation
from happysimulator.components.industrial import PreemptibleResource
from happysimulator.core.entity import Entity
from happysimulator.observability import ObservabilityConfig


def test_leftover_of_an_eviction_serves_waiters_in_priority_order() -> None:
    res = PreemptibleResource("Bay", capacity=4)
    granted: dict[str, float] = {}

    class User(Entity):
        def __init__(self, name: str, prio: float, amount: int, preempt: bool) -> None:
            super().__init__(name)
            self.prio, self.amount, self.preempt = prio, amount, preempt

        def handle_event(self, event: Any) -> Any:
            grant = yield res.acquire(self.amount, priority=self.prio, preempt=self.preempt)
            granted[self.name] = self.now.to_seconds()
            yield 100.0
            if not grant.preempted:
                grant.release()

    users = [User("Low", 5, 4, True), User("W3", 3, 2, False), User("W2", 2, 2, False),
             User("High", 1, 1, True)]
    sim = Simulation(entities=[res, *users], seed=1, end_time=50.0,
                     observability=ObservabilityConfig.full())
    for t, who in zip((0.0, 1.0, 1.5, 2.0), users, strict=True):
        sim.schedule(Event(Instant.from_seconds(t), "Go", who))
    sim.run()
    # High evicts Low (4 free): High takes 1, W2 (more urgent) 2; W3 (2) does not fit in 1
    assert granted == {"Low": 0.0, "High": 2.0, "W2": 2.0}
    assert res.available == 1 and res.waiters == 1
    q = sim.query.metrics("in_use").from_entity("Bay").between(2.0, 50.0)
    assert q.aggregate("mean").execute().scalar == 3.0
    depth = sim.query.metrics("queue_depth").from_entity("Bay").between(2.0, 50.0)
    assert depth.aggregate("mean").execute().scalar == 1.0
