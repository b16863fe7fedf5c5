"""``PooledCycleResource``: N identical units, each use a fixed-length cycle.

Washing machines, ride seats, rental cars: an item takes a free unit for
``cycle_time`` seconds, then goes to ``downstream`` and the unit goes to the next waiting
item (first come, first served). With ``queue_capacity`` > 0 at most that many wait; an
arrival beyond is rejected.

Observed: ``queue_depth`` and ``in_flight`` (gauges: items waiting, units busy),
``wait_time`` (sample, s), ``completed`` and ``rejected`` (counters); each item's stay
is a span (wait and cycle; a rejected item's: zero-length, ``status`` ``"dropped"``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from happysimulator.components.industrial._common import at_start, check_count, check_seconds, draw
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event, new_event
from happysimulator.core.observed import ObservedEntity, counter, gauge, sample

_START = "_PoolCycleStart"
_NS = 1_000_000_000


@dataclass(frozen=True)
class PooledCycleStats:
    """Counts (happysim 0.2.5 shape)."""

    pool_size: int = 0
    available: int = 0
    active: int = 0
    queued: int = 0
    completed: int = 0
    rejected: int = 0
    utilization: float = 0.0


class PooledCycleResource(ObservedEntity):
    """A pool of `pool_size` units; each item holds one for `cycle_time` seconds (a
    number or a latency distribution); ``queue_capacity`` 0 means unlimited waiting."""

    #: the attribute keys its spans carry (see its `record_span` calls)
    span_attributes = ("wait",)
    observed_series = (
        gauge("queue_depth", "items", "items waiting for a unit"),
        gauge("in_flight", "units", "units in a cycle"),
        sample("wait_time", "s", "from arrival to the start of the item's cycle"),
        counter("completed", "items", "cycles completed"),
        counter("rejected", "items", "arrivals refused by a full waiting line"),
    )
    downstream_attributes = ("downstream",)

    def __init__(self, name: str, pool_size: int, cycle_time: Any,
                 downstream: Entity | None = None, queue_capacity: int = 0) -> None:
        check_count("pool_size", pool_size, 1)
        check_seconds("cycle_time", cycle_time)
        check_count("queue_capacity", queue_capacity, 0, " (0: unlimited)")
        super().__init__(name)
        self.pool_size = pool_size
        self.cycle_time = cycle_time
        self.downstream = downstream
        self._queue_capacity = queue_capacity
        self._active = 0
        self._queue: deque[tuple[Event, int]] = deque()
        self._completed = 0
        self._rejected = 0

    def downstream_entities(self) -> list[Entity]:
        return [self.downstream] if self.downstream is not None else []

    def set_clock(self, sim: Any) -> None:
        super().set_clock(sim)
        at_start(sim, self._record_levels)

    @property
    def available(self) -> int:
        return self.pool_size - self._active

    @property
    def active(self) -> int:
        return self._active

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def completed(self) -> int:
        return self._completed

    @property
    def rejected(self) -> int:
        return self._rejected

    @property
    def utilization(self) -> float:
        """Fraction of the units busy now."""
        return self._active / self.pool_size

    @property
    def stats(self) -> PooledCycleStats:
        return PooledCycleStats(pool_size=self.pool_size, available=self.available,
                                active=self._active, queued=len(self._queue),
                                completed=self._completed, rejected=self._rejected,
                                utilization=self.utilization)

    def _record_levels(self) -> None:
        self.set_gauge("queue_depth", len(self._queue))
        self.set_gauge("in_flight", self._active)

    def handle_event(self, event: Event) -> Any:
        now = self._sim.now_ns
        if event.event_type == _START and event.target is self:
            request, arrived = self._starting.popleft()
            return self._cycle(request, arrived, now)
        if self._active < self.pool_size and not self._queue:
            self._active += 1
            self.set_gauge("in_flight", self._active)
            return self._cycle(event, now, now)
        if self._queue_capacity and len(self._queue) >= self._queue_capacity:
            self._rejected += 1
            self.increment("rejected")
            if self._runtime() is not None:  # where the item's trace ends, as a drop
                self.record_span(event, self._now_s(), status="dropped")
            return []
        self._queue.append((event, now))
        self.set_gauge("queue_depth", len(self._queue))
        return []

    @property
    def _starting(self) -> deque:
        return self.__dict__.setdefault("_start_queue", deque())

    def _cycle(self, event: Event, arrived: int, start: int) -> Any:
        self.observe("wait_time", (start - arrived) / _NS)
        yield draw(self.cycle_time)
        self._completed += 1
        out: list[Event] = []
        if self.downstream is not None:
            out.append(self.forward(event, self.downstream))
        if self._runtime() is not None:
            self.increment("completed")
            self.record_span(event, arrived / _NS, wait=(start - arrived) / _NS)
        if self._queue:
            # the freed unit goes straight to the first waiting item (its cycle starts
            # now; no arrival at this instant can take the unit first)
            nxt = self._queue.popleft()
            self._starting.append(nxt)
            self.set_gauge("queue_depth", len(self._queue))
            out.append(new_event(self._sim.now_ns, _START, self, nxt[0]))
        else:
            self._active -= 1
            self.set_gauge("in_flight", self._active)
        return out


__all__ = ["PooledCycleResource", "PooledCycleStats"]
