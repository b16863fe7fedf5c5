"""``ConditionalRouter``: send each item to the first route whose predicate holds.

``routes`` is an ordered list of ``(predicate, target)``; an item no predicate accepts
goes to ``default``, or is dropped (with a warning unless ``drop_unmatched``).
``ConditionalRouter.by_context_field(name, field, {value: target})`` routes on one
context field.

Observed: ``routed`` (counter, tag ``target``) and ``dropped`` (counter).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RouterStats:
    """Counts (happysim 0.2.5 shape)."""

    total_routed: int = 0
    dropped: int = 0
    by_target: dict[str, int] = field(default_factory=dict)


class ConditionalRouter(ObservedEntity):
    """First-match routing on predicates of the event."""

    observed_series = (
        counter("routed", "items", "items sent on, per target", tags=("target",)),
        counter("dropped", "items", "items no route accepted (and no default)"),
    )
    downstream_attributes = ("_targets",)

    def __init__(self, name: str, routes: list[tuple[Callable[[Event], bool], Entity]],
                 default: Entity | None = None, drop_unmatched: bool = False) -> None:
        super().__init__(name)
        self.routes = list(routes)
        self.default = default
        self.drop_unmatched = drop_unmatched
        self._routed_counts: dict[str, int] = defaultdict(int)
        self._total_routed = 0
        self._dropped = 0

    @property
    def _targets(self) -> list[Entity]:
        return self.downstream_entities()

    def downstream_entities(self) -> list[Entity]:
        out = [target for _, target in self.routes]
        if self.default is not None:
            out.append(self.default)
        return out

    @property
    def routed_counts(self) -> dict[str, int]:
        return dict(self._routed_counts)

    @property
    def dropped(self) -> int:
        return self._dropped

    @property
    def total_routed(self) -> int:
        return self._total_routed

    @property
    def stats(self) -> RouterStats:
        return RouterStats(total_routed=self._total_routed, dropped=self._dropped,
                           by_target=dict(self._routed_counts))

    @classmethod
    def by_context_field(cls, name: str, field: str, mapping: dict[Any, Entity],
                         default: Entity | None = None) -> ConditionalRouter:
        """Route on ``event.context[field]`` through `mapping` (value -> target)."""
        routes = [(lambda e, v=value: e.context.get(field) == v, target)
                  for value, target in mapping.items()]
        return cls(name, routes=routes, default=default)

    def handle_event(self, event: Event) -> list[Event]:
        target = self.default
        for predicate, candidate in self.routes:
            if predicate(event):
                target = candidate
                break
        if target is None:
            self._dropped += 1
            self.increment("dropped")
            if not self.drop_unmatched:
                logger.warning("[%s] no route matched an event of type %s; dropped",
                               self.name, event.event_type)
            return []
        self._total_routed += 1
        self._routed_counts[target.name] += 1
        self.increment("routed", target=target.name)
        return [self.forward(event, target)]


__all__ = ["ConditionalRouter", "RouterStats"]
