"""``SplitMerge``: fan one item out to parallel workers and merge when all answer.

For each item, every target gets a ``split_event_type`` event whose context holds a
``reply_future``; a target resolves it when its part is done. When all have, the item
goes to ``downstream`` as ``merge_event_type`` with ``context["sub_results"]`` (the
values, in target order).

Observed: ``splits`` and ``merges`` (counters), ``in_flight`` (gauge: items waiting for
their parts), ``merge_time`` (sample, s: split to merge); each item's stay is a span.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, gauge, sample
from happysimulator.core.sim_future import SimFuture


@dataclass(frozen=True)
class SplitMergeStats:
    """Counts (happysim 0.2.5 shape)."""

    splits_initiated: int = 0
    merges_completed: int = 0
    fan_out: int = 0


class SplitMerge(ObservedEntity):
    """Fans each item out to `targets`; merges into one event to `downstream`."""

    observed_series = (
        counter("splits", "items", "items fanned out"),
        counter("merges", "items", "items whose parts all completed"),
        gauge("in_flight", "items", "items waiting for their parts"),
        sample("merge_time", "s", "from the split to the merge"),
    )
    downstream_attributes = ("targets", "downstream")

    def __init__(self, name: str, targets: list[Entity], downstream: Entity,
                 split_event_type: str = "SubTask", merge_event_type: str = "Merged") -> None:
        if not targets:
            raise ValueError("SplitMerge needs at least one target")
        super().__init__(name)
        self.targets = list(targets)
        self.downstream = downstream
        self.split_event_type = split_event_type
        self.merge_event_type = merge_event_type
        self._splits_initiated = 0
        self._merges_completed = 0

    def downstream_entities(self) -> list[Entity]:
        return [*self.targets, self.downstream]

    @property
    def fan_out(self) -> int:
        return len(self.targets)

    @property
    def stats(self) -> SplitMergeStats:
        return SplitMergeStats(splits_initiated=self._splits_initiated,
                               merges_completed=self._merges_completed,
                               fan_out=len(self.targets))

    def handle_event(self, event: Event) -> Any:
        self._splits_initiated += 1
        start = self._now_s()
        self.increment("splits")
        self.set_gauge("in_flight", self._splits_initiated - self._merges_completed)
        futures = [SimFuture() for _ in self.targets]
        parts = [Event(self.now, self.split_event_type, target,
                       context={**event.context, "reply_future": f})
                 for target, f in zip(self.targets, futures, strict=True)]
        yield 0.0, parts
        # (`SimFuture.all_of` takes a list of any length: a fan-out of 1 is valid)
        results = yield SimFuture.all_of(futures)
        self._merges_completed += 1
        if self._runtime() is not None:
            self.increment("merges")
            self.set_gauge("in_flight", self._splits_initiated - self._merges_completed)
            self.observe("merge_time", self._now_s() - start)
            self.record_span(event, start)
        return [Event(self.now, self.merge_event_type, self.downstream,
                      context={**event.context, "sub_results": results})]


__all__ = ["SplitMerge", "SplitMergeStats"]
