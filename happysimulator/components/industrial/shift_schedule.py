"""Staffing that changes over the day: ``Shift``, ``ShiftSchedule``, ``ShiftedServer``.

A `ShiftSchedule` gives the capacity (workers) at each time: the shift covering
``[start_s, end_s)``, else ``default_capacity``. A `ShiftedServer` serves
``current_capacity`` requests at once, changing at each shift boundary; when capacity
rises, waiting requests start at once; when it falls, requests in service finish.
Waiting customers may renege (see `RenegingQueuedResource`).

Observed: the `QueuedResource` series plus ``capacity`` (gauge: workers on duty) and
``reneged`` / ``patience``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from happysimulator.components.industrial._common import at_start, check_count, draw
from happysimulator.components.industrial.reneging import RenegingQueuedResource
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import gauge
from happysimulator.core.temporal import Instant
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion

_SHIFT_CHANGE = "_ShiftChange"


@dataclass(frozen=True)
class Shift:
    """``capacity`` workers during ``[start_s, end_s)`` (seconds)."""

    start_s: float
    end_s: float
    capacity: int

    def __post_init__(self) -> None:
        if not self.end_s > self.start_s:
            raise ValueError(f"a shift must end after it starts, got [{self.start_s}, "
                             f"{self.end_s})")
        check_count("shift capacity", self.capacity, 0)


class ShiftSchedule:
    """Shifts (sorted by start; they must not overlap) and the capacity between them."""

    def __init__(self, shifts: Iterable[Shift], default_capacity: int = 0) -> None:
        self.shifts = sorted(shifts, key=lambda s: s.start_s)
        for a, b in zip(self.shifts, self.shifts[1:], strict=False):
            if b.start_s < a.end_s:
                raise ValueError(f"shifts overlap: {a} and {b}")
        check_count("default_capacity", default_capacity, 0)
        self.default_capacity = default_capacity

    def capacity_at(self, time_s: float) -> int:
        """Workers on duty at `time_s`."""
        for shift in self.shifts:
            if shift.start_s <= time_s < shift.end_s:
                return shift.capacity
        return self.default_capacity

    def transition_times(self) -> list[float]:
        """Every shift boundary, sorted, without repeats."""
        return sorted({t for s in self.shifts for t in (s.start_s, s.end_s)})

    def next_transition_after(self, time_s: float) -> float | None:
        """The first boundary strictly after `time_s`, or None."""
        for t in self.transition_times():
            if t > time_s:
                return t
        return None


class ShiftedServer(RenegingQueuedResource):
    """A queued resource with ``schedule.capacity_at(now)`` servers; each request takes
    ``service_time`` seconds (a number or a latency distribution) and then goes to
    ``downstream``.

    Waiting customers may renege as in `RenegingQueuedResource` (``reneged_target``,
    ``default_patience_s``, ``context["patience_s"]``; by default nobody does). While a
    `BreakdownScheduler` has it down (``_broken``), nobody starts service."""

    observed_series = (gauge("capacity", "workers", "servers on duty (from the shifts)"),)
    downstream_attributes = ("downstream", "reneged_target")

    def __init__(self, name: str, schedule: ShiftSchedule, service_time: Any = 0.1,
                 downstream: Entity | None = None, policy: Any = None, *,
                 reneged_target: Entity | None = None,
                 default_patience_s: float = float("inf")) -> None:
        super().__init__(name, reneged_target=reneged_target,
                         default_patience_s=default_patience_s, policy=policy)
        self.schedule = schedule
        self.service_time = service_time
        self.downstream = downstream
        self._current_capacity = schedule.capacity_at(0.0)
        self._processed = 0

    def downstream_entities(self) -> list[Entity]:
        return [e for e in (self.downstream, self.reneged_target) if e is not None]

    @property
    def current_capacity(self) -> int:
        """Servers on duty now."""
        return self._current_capacity

    @property
    def processed(self) -> int:
        return self._processed

    def has_capacity(self) -> bool:
        return self._in_service < self._current_capacity and not getattr(
            self, "_broken", False)

    def set_clock(self, sim: Any) -> None:
        super().set_clock(sim)
        start_ns = getattr(sim, "start_ns", None)
        if start_ns is None or not hasattr(sim, "schedule"):
            return
        self._current_capacity = self.schedule.capacity_at(start_ns / _NS)
        at_start(sim, lambda: self.set_gauge("capacity", self._current_capacity))
        nxt = self.schedule.next_transition_after(start_ns / _NS)
        if nxt is not None:
            sim.schedule(Event(Instant.from_seconds(nxt), _SHIFT_CHANGE, self, daemon=True))

    def handle_event(self, event: Event) -> Any:
        if event.event_type == _SHIFT_CHANGE and event.target is self:
            return self._shift_change()
        return super().handle_event(event)

    def _shift_change(self) -> list[Event]:
        now_s = self._sim.now_ns / _NS
        old = self._current_capacity
        self._current_capacity = self.schedule.capacity_at(now_s)
        if self._current_capacity != old:
            self.set_gauge("capacity", self._current_capacity)
            if self._current_capacity > old and self._queue:
                self._drain(self._sim)  # the new workers take waiting requests now
        nxt = self.schedule.next_transition_after(now_s)
        if nxt is None:
            return []
        return [Event(Instant.from_seconds(nxt), _SHIFT_CHANGE, self, daemon=True)]

    def _handle_served_event(self, event: Event) -> Any:
        yield draw(self.service_time)
        self._processed += 1
        if self.downstream is not None:
            return [self.forward(event, self.downstream)]
        return None


__all__ = ["Shift", "ShiftSchedule", "ShiftedServer"]
