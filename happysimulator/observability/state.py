"""`SimulationState`: a snapshot of where a simulation is, for people, JSON and notebooks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from happysimulator.core.temporal import Instant


@dataclass(frozen=True, slots=True)
class SimulationState:
    """A snapshot of where the simulation is (``to_dict()`` for JSON).

    ``last_event`` is the last model event processed, or None when the last stretch ran
    without a per-event hook (no breakpoint/step/on_event/event store needed one).
    """

    current_time: Instant
    events_processed: int
    heap_size: int
    primary_events_remaining: int
    is_paused: bool
    is_running: bool
    is_complete: bool
    paused_by: str | None
    last_event: Any
    wall_clock_elapsed: float
    stop_reason: str | None = None
    failed_event: Any = None  # the event whose handler raised (stop_reason "error")

    def to_dict(self) -> dict[str, Any]:
        ev = self.last_event
        return {
            "current_time": self.current_time.to_seconds(),
            "events_processed": self.events_processed,
            "heap_size": self.heap_size,
            "primary_events_remaining": self.primary_events_remaining,
            "is_paused": self.is_paused,
            "is_running": self.is_running,
            "is_complete": self.is_complete,
            "paused_by": self.paused_by,
            "stop_reason": self.stop_reason,
            "last_event": None if ev is None else _event_dict(ev),
            "failed_event": (None if self.failed_event is None
                             else _event_dict(self.failed_event)),
            "wall_clock_elapsed_s": self.wall_clock_elapsed,
        }

    def _repr_html_(self) -> str:
        from happysim_rx.html import fields_table

        return fields_table("SimulationState", self.to_dict())


def _event_dict(ev: Any) -> dict[str, Any]:
    return {
        "time": ev.time.to_seconds(),
        "event_type": ev.event_type,
        "target": getattr(ev.target, "name", type(ev.target).__name__),
    }
