"""``Queue``: a buffering entity that hands events to a consumer when it has capacity."""

from __future__ import annotations

from typing import Any

from happysimulator.components.queue_policy import make_policy
from happysimulator.core.entity import Entity, bind_simulation
from happysimulator.core.event import Event


class Queue(Entity):
    """Buffers events (by ``policy``, up to ``capacity``) for a ``QueueDriver`` to pull.

    Arrivals beyond ``capacity`` are dropped. On each arrival the attached driver is poked.
    """

    def __init__(
        self,
        name: str,
        egress: Any = None,
        policy: Any = None,
        *,
        capacity: int | None = None,
    ) -> None:
        super().__init__(name)
        self.policy = make_policy(policy)
        if hasattr(self.policy, "attach"):
            # an active policy (components.queue_policies) bounds itself and may refuse
            # (its line is kept here so the catalog finds its series before the run)
            self._policy_line = self.policy.attach(self, pairs=False)
        elif capacity is None:  # happysim 0.2.5: FIFOQueue(capacity=n)
            capacity = getattr(self.policy, "capacity", None)
        self.capacity = capacity
        self.driver: Any = egress  # (happysim 0.2.5 name: egress)
        self.accepted = 0
        self.dropped = 0

    @property
    def egress(self) -> Any:
        return self.driver

    @egress.setter
    def egress(self, driver: Any) -> None:
        self.driver = driver

    @property
    def stats_accepted(self) -> int:
        return self.accepted

    @property
    def stats_dropped(self) -> int:
        return self.dropped

    @property
    def depth(self) -> int:
        return len(self.policy)

    def handle_event(self, event: Event) -> Any:
        bind_simulation(self)
        if self.capacity is not None and len(self.policy) >= self.capacity:
            self.dropped += 1
            return None
        if self.policy.push(event) is False:  # an active policy refused it
            self.dropped += 1
            return None
        self.accepted += 1
        if self.driver is not None:
            return self.driver.pull()
        return None

    def pop(self) -> Event | None:
        return self.policy.pop() if len(self.policy) else None

    def stats(self) -> dict[str, Any]:
        return {"depth": self.depth, "accepted": self.accepted, "dropped": self.dropped}


__all__ = ["Queue"]
