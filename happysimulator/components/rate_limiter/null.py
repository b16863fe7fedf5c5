"""``NullRateLimiter``: passes every request on unchanged (a stand-in to compare a
model with and without a limiter). Observed: ``admitted`` counter."""

from __future__ import annotations

from typing import Any

from happysimulator.components.forwarding import forward, run_hooks, take_hooks
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter


class NullRateLimiter(ObservedEntity):
    """Forwards everything to ``downstream`` (same context and type)."""

    observed_series = (counter("admitted", "requests", "requests passed downstream"),)
    downstream_attributes = ("downstream",)

    def __init__(self, name: str, downstream: Entity) -> None:
        super().__init__(name)
        self._downstream = downstream

    @property
    def downstream(self) -> Entity:
        return self._downstream

    def downstream_entities(self) -> list[Entity]:
        return [self._downstream]

    def set_clock(self, sim: Any) -> None:
        super().set_clock(sim)
        self._downstream.set_clock(sim)

    def handle_event(self, event: Event) -> list[Event]:
        self.increment("admitted")
        hooks = take_hooks(event)
        return [forward(self, event, self._downstream,
                        None if hooks is None else (lambda: run_hooks(self, hooks)))]


__all__ = ["NullRateLimiter"]
