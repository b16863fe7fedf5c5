"""``GateController``: a gate that lets items through when open and holds them when
closed.

Open and close it on a schedule (``schedule=[(open_at_s, close_at_s), ...]``: each pair
is an opening and a closing, in either order — ``(15h, 11h)`` means closed 11h-15h; started
with ``for e in gate.start_events(): sim.schedule(e)``) or by hand (``gate.open()`` /
``gate.close()`` return the events to schedule). Items held while closed go downstream,
in order, when it opens; with ``queue_capacity`` > 0 at most that many are held.

Observed: ``open`` (gauge: 1 open, 0 closed), ``queue_depth`` (gauge: items held),
``wait_time`` (sample, s: how long each held item waited), ``passed`` and ``rejected``
(counters); each item's stay is a span (a rejected item's: zero-length, ``status``
``"dropped"``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from happysimulator.components.industrial._common import at_start, check_count, check_seconds
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, gauge, sample
from happysimulator.core.temporal import Instant

_GATE_OPEN = "_GateOpen"
_GATE_CLOSE = "_GateClose"


@dataclass(frozen=True)
class GateStats:
    """Counts (happysim 0.2.5 shape)."""

    passed_through: int = 0
    queued_while_closed: int = 0
    rejected: int = 0
    open_cycles: int = 0
    is_open: bool = True


class GateController(ObservedEntity):
    """Passes items to `downstream` while open; holds them (FIFO) while closed."""

    observed_series = (
        gauge("open", "", "1 while the gate is open, 0 while closed"),
        gauge("queue_depth", "items", "items held at the closed gate"),
        sample("wait_time", "s", "how long each held item waited for the gate"),
        counter("passed", "items", "items let through"),
        counter("rejected", "items", "items refused by a full holding line"),
    )
    downstream_attributes = ("downstream",)

    def __init__(self, name: str, downstream: Entity,
                 schedule: list[tuple[float, float]] | None = None,
                 initially_open: bool = True, queue_capacity: int = 0) -> None:
        check_count("queue_capacity", queue_capacity, 0, " (0: unlimited)")
        self.schedule = list(schedule or [])
        for pair in self.schedule:
            if len(pair) != 2:
                raise ValueError(f"schedule entries must be (open_at_s, close_at_s) pairs, "
                                 f"got {pair!r}")
            for t in pair:
                check_seconds("schedule time", t, note=f" (in the pair {pair!r})")
        super().__init__(name)
        self.downstream = downstream
        self._is_open = initially_open
        self._queue_capacity = queue_capacity
        self._queue: deque[tuple[Event, float]] = deque()
        self._passed_through = 0
        self._queued_while_closed = 0
        self._rejected = 0
        self._open_cycles = 0

    def downstream_entities(self) -> list[Entity]:
        return [self.downstream]

    def set_clock(self, sim: Any) -> None:
        super().set_clock(sim)
        at_start(sim, lambda: self.set_gauge("open", 1 if self._is_open else 0))

    @property
    def is_open(self) -> bool:
        return self._is_open

    @property
    def queue_depth(self) -> int:
        return len(self._queue)

    @property
    def stats(self) -> GateStats:
        return GateStats(passed_through=self._passed_through,
                         queued_while_closed=self._queued_while_closed,
                         rejected=self._rejected, open_cycles=self._open_cycles,
                         is_open=self._is_open)

    def start_events(self) -> list[Event]:
        """The scheduled openings and closings."""
        out: list[Event] = []
        for open_at, close_at in self.schedule:
            out.append(Event(Instant.from_seconds(open_at), _GATE_OPEN, self, daemon=True))
            out.append(Event(Instant.from_seconds(close_at), _GATE_CLOSE, self, daemon=True))
        return out

    def open(self) -> list[Event]:
        """Open now; returns the released items' events (schedule them if you call this
        outside an event handler)."""
        return self._do_open()

    def close(self) -> list[Event]:
        """Close now (returns no events)."""
        return self._do_close()

    def handle_event(self, event: Event) -> list[Event]:
        if event.target is self:
            if event.event_type == _GATE_OPEN:
                return self._do_open()
            if event.event_type == _GATE_CLOSE:
                return self._do_close()
        if self._is_open:
            self._passed_through += 1
            if self._runtime() is not None:
                self.increment("passed")
                self.record_span(event, self._now_s())
            return [self.forward(event, self.downstream)]
        if self._queue_capacity and len(self._queue) >= self._queue_capacity:
            self._rejected += 1
            self.increment("rejected")
            if self._runtime() is not None:  # where the item's trace ends, as a drop
                self.record_span(event, self._now_s(), status="dropped")
            return []
        self._queue.append((event, self._now_s()))
        self._queued_while_closed += 1
        self.set_gauge("queue_depth", len(self._queue))
        return []

    def _do_open(self) -> list[Event]:
        if self._is_open:
            return []
        self._is_open = True
        self._open_cycles += 1
        observed = self._runtime() is not None
        if observed:
            self.set_gauge("open", 1)
        out: list[Event] = []
        now = self._now_s() if observed else 0.0
        while self._queue:
            held, since = self._queue.popleft()
            self._passed_through += 1
            if observed:
                self.increment("passed")
                self.observe("wait_time", now - since)
                self.record_span(held, since)
            out.append(self.forward(held, self.downstream))
        if observed:
            self.set_gauge("queue_depth", 0)
        return out

    def _do_close(self) -> list[Event]:
        if self._is_open:
            self._is_open = False
            self.set_gauge("open", 0)
        return []


__all__ = ["GateController", "GateStats"]
