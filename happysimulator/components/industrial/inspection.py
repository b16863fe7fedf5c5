"""``InspectionStation``: inspect each item, then pass, rework or scrap it.

A queued resource: each inspection takes ``inspection_time`` seconds. An item passes
with probability ``pass_rate`` (to ``pass_target``); a failed item goes to
``rework_target`` with probability ``rework_rate`` (of the failed) when one is given, and
otherwise is scrapped (to ``fail_target``).

Observed: the `QueuedResource` series plus ``passed``, ``reworked`` and ``scrapped``
(counters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from happysimulator.components.industrial._common import check_seconds, draw
from happysimulator.components.queued_resource import QueuedResource
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter


@dataclass(frozen=True)
class InspectionStats:
    """Counts (happysim 0.2.5 shape; ``failed`` = reworked + scrapped)."""

    inspected: int = 0
    passed: int = 0
    failed: int = 0


class InspectionStation(QueuedResource, ObservedEntity):
    """Inspects items ``concurrency`` at a time (default: unlimited, each item its own
    inspector, as in happysim 0.2.5) and routes them by outcome."""

    observed_series = (
        counter("passed", "items", "items that passed inspection"),
        counter("reworked", "items", "failed items sent to rework"),
        counter("scrapped", "items", "failed items scrapped"),
    )
    downstream_attributes = ("pass_target", "fail_target", "rework_target")

    def __init__(self, name: str, pass_target: Entity, fail_target: Entity,
                 inspection_time: Any = 0.1, pass_rate: float = 0.95, policy: Any = None,
                 *, rework_target: Entity | None = None, rework_rate: float = 0.0,
                 concurrency: int | None = None) -> None:
        if not 0.0 <= pass_rate <= 1.0:
            raise ValueError(f"pass_rate must be between 0 and 1, got {pass_rate!r}")
        if not 0.0 <= rework_rate <= 1.0:
            raise ValueError(f"rework_rate must be between 0 and 1, got {rework_rate!r}")
        check_seconds("inspection_time", inspection_time)
        super().__init__(name, policy=policy, concurrency=concurrency)
        self.pass_target = pass_target
        self.fail_target = fail_target
        self.rework_target = rework_target
        self.inspection_time = inspection_time
        self.pass_rate = pass_rate
        self.rework_rate = rework_rate
        self._passed = 0
        self._reworked = 0
        self._scrapped = 0

    def downstream_entities(self) -> list[Entity]:
        return [e for e in (self.pass_target, self.fail_target, self.rework_target)
                if e is not None]

    def has_capacity(self) -> bool:
        # (overriding it makes the resource gated: without `concurrency`, no limit)
        return True

    @property
    def inspected(self) -> int:
        return self._passed + self._reworked + self._scrapped

    @property
    def passed(self) -> int:
        return self._passed

    @property
    def failed(self) -> int:
        return self._reworked + self._scrapped

    @property
    def reworked(self) -> int:
        return self._reworked

    @property
    def scrapped(self) -> int:
        return self._scrapped

    @property
    def stats(self) -> InspectionStats:
        return InspectionStats(inspected=self.inspected, passed=self._passed,
                               failed=self.failed)

    def handle_queued_event(self, event: Event) -> Any:
        yield draw(self.inspection_time)
        rng = self.rng
        if rng.random() < self.pass_rate:
            self._passed += 1
            self.increment("passed")
            target = self.pass_target
        elif self.rework_target is not None and rng.random() < self.rework_rate:
            self._reworked += 1
            self.increment("reworked")
            target = self.rework_target
        else:
            self._scrapped += 1
            self.increment("scrapped")
            target = self.fail_target
        return [self.forward(event, target)]


__all__ = ["InspectionStation", "InspectionStats"]
