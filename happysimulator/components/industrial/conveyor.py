"""``ConveyorBelt``: a fixed transit time between two stations.

Each item rides ``transit_time`` seconds, then goes to ``downstream``. With ``capacity``
> 0 at most that many ride at once; an item arriving at a full belt is rejected.

Observed: ``occupancy`` (gauge: items on the belt), ``transported`` and ``rejected``
(counters); each item's ride is a span (a rejected item's: zero-length, ``status``
``"dropped"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from happysimulator.components.industrial._common import at_start, check_count, check_seconds, draw
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, gauge


@dataclass(frozen=True)
class ConveyorStats:
    """Counts (happysim 0.2.5 shape)."""

    items_transported: int = 0
    items_in_transit: int = 0
    items_rejected: int = 0


class ConveyorBelt(ObservedEntity):
    """Holds each item ``transit_time`` seconds (a number or a latency distribution),
    then forwards it; ``capacity`` 0 means unlimited."""

    observed_series = (
        gauge("occupancy", "items", "items on the belt"),
        counter("transported", "items", "items delivered downstream"),
        counter("rejected", "items", "items refused by a full belt"),
    )
    downstream_attributes = ("downstream",)

    def __init__(self, name: str, downstream: Entity, transit_time: Any,
                 capacity: int = 0) -> None:
        check_seconds("transit_time", transit_time)
        check_count("capacity", capacity, 0, " (0: unlimited)")
        super().__init__(name)
        self.downstream = downstream
        self.transit_time = transit_time
        self._capacity = capacity
        self._items_in_transit = 0
        self._items_transported = 0
        self._items_rejected = 0

    def downstream_entities(self) -> list[Entity]:
        return [self.downstream]

    def set_clock(self, sim: Any) -> None:
        super().set_clock(sim)
        at_start(sim, lambda: self.set_gauge("occupancy", self._items_in_transit))

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def items_in_transit(self) -> int:
        return self._items_in_transit

    @property
    def items_transported(self) -> int:
        return self._items_transported

    @property
    def items_rejected(self) -> int:
        return self._items_rejected

    @property
    def stats(self) -> ConveyorStats:
        return ConveyorStats(items_transported=self._items_transported,
                             items_in_transit=self._items_in_transit,
                             items_rejected=self._items_rejected)

    def has_capacity(self) -> bool:
        return self._capacity <= 0 or self._items_in_transit < self._capacity

    def handle_event(self, event: Event) -> Any:
        if not self.has_capacity():
            self._items_rejected += 1
            self.increment("rejected")
            if self._runtime() is not None:  # where the item's trace ends, as a drop
                self.record_span(event, self._now_s(), status="dropped")
            return []
        self._items_in_transit += 1
        self.set_gauge("occupancy", self._items_in_transit)
        return self._ride(event, self._now_s())

    def _ride(self, event: Event, start_s: float) -> Any:
        yield draw(self.transit_time)
        self._items_in_transit -= 1
        self._items_transported += 1
        if self._runtime() is not None:
            self.set_gauge("occupancy", self._items_in_transit)
            self.increment("transported")
            self.record_span(event, start_s)
        return [self.forward(event, self.downstream)]


__all__ = ["ConveyorBelt", "ConveyorStats"]
