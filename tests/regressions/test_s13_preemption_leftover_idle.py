"""When a preemption frees more capacity than the preempting request needs, the rest
sits idle while requests wait: `PreemptibleResource._preempt_for` evicts, the
preempting request takes its share, and nobody serves the waiters with what is left
(they are only served on the next ``release()``).

Repro (session 13, rev5): capacity 3; "Low" (priority 5) holds 3 from t=0 for 100 s;
"Wait" (priority 2, amount 1, ``preempt=False``) asks at t=1 and waits; "High"
(priority 1, amount 1) asks at t=2 and evicts Low, freeing 3. Observed: High granted at
2; Wait granted only at 12 (when High releases); ``in_use`` is 1 of 3 over [2, 12) with
``queue_depth`` 1 -- 20 unit-seconds idle beside a waiter. Expected: Wait granted at t=2
(2 units free, it is the most urgent waiter), ``in_use`` 2 from t=2. Area:
happysimulator/components/industrial/preemptible_resource.py (acquire/_preempt_for: no
waiter hand-out after an eviction).
"""

from __future__ import annotations

from typing import Any

from happysimulator import Event, Instant, Simulation
from happysimulator.components.industrial import PreemptibleResource
from happysimulator.core.entity import Entity
from happysimulator.observability import ObservabilityConfig


def test_capacity_freed_by_a_preemption_serves_the_waiters() -> None:
    res = PreemptibleResource("Bay", capacity=3)
    granted: dict[str, float] = {}

    class User(Entity):
        def __init__(self, name: str, prio: float, amount: int, hold: float,
                     preempt: bool = True) -> None:
            super().__init__(name)
            self.prio, self.amount, self.hold, self.preempt = prio, amount, hold, preempt

        def handle_event(self, event: Any) -> Any:
            grant = yield res.acquire(self.amount, priority=self.prio, preempt=self.preempt)
            granted[self.name] = self.now.to_seconds()
            yield self.hold
            if not grant.preempted:
                grant.release()

    low, wait, high = User("Low", 5, 3, 100.0), User("Wait", 2, 1, 1.0, False), \
        User("High", 1, 1, 10.0)
    sim = Simulation(entities=[res, low, wait, high], seed=1, end_time=50.0,
                     observability=ObservabilityConfig.full())
    for t, who in ((0.0, low), (1.0, wait), (2.0, high)):
        sim.schedule(Event(Instant.from_seconds(t), "Go", who))
    sim.run()
    assert granted["High"] == 2.0
    assert granted["Wait"] == 2.0, granted
