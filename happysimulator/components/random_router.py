"""``RandomRouter``: sends each event to one of ``targets`` chosen uniformly at random
(from the simulation's random stream), keeping its context; the sender's completion
hooks run when the chosen target finishes it. Observed: ``routed`` counter (tag
``target``)."""

from __future__ import annotations

from collections import defaultdict

from happysimulator.components.forwarding import forward, run_hooks, take_hooks
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter


class RandomRouter(ObservedEntity):
    """Routes to a uniformly random target."""

    observed_series = (
        counter("routed", "events", "events sent on, by target", tags=("target",)),
    )
    downstream_attributes = ("targets",)

    def __init__(self, name: str, *, targets: list[Entity]) -> None:
        super().__init__(name)
        if not targets:
            raise ValueError("RandomRouter needs at least one target, got none")
        self.targets = targets
        self.stats_routed = 0
        self.target_counts: dict[str, int] = defaultdict(int)

    def downstream_entities(self) -> list[Entity]:
        return list(self.targets)

    def handle_event(self, event: Event) -> list[Event]:
        self.stats_routed += 1
        target = self.targets[self.rng.randrange(len(self.targets))]
        self.target_counts[target.name] += 1
        self.increment("routed", target=target.name)
        hooks = take_hooks(event)
        if hooks is None:
            return [forward(self, event, target)]
        return [forward(self, event, target, lambda: run_hooks(self, hooks))]


__all__ = ["RandomRouter"]
