"""``SimulationSummary``: what ``Simulation.run()`` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SimulationSummary:
    """Outcome of a run (or of a run segment ended by a pause)."""

    start_time_s: float
    end_time_s: float
    total_events_processed: int
    wall_clock_s: float
    wall_events_per_second: float
    stop_reason: str | None = None
    paused_by: Any = None
    heap_size: int = 0
    seed: int | None = None
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def events_processed(self) -> int:
        return self.total_events_processed

    @property
    def duration_s(self) -> float:
        """Simulated seconds from start to the final clock."""
        return self.end_time_s - self.start_time_s

    @property
    def is_paused(self) -> bool:
        return self.stop_reason == "paused"

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_time_s": self.start_time_s,
            "end_time_s": self.end_time_s,
            "duration_s": self.duration_s,
            "total_events_processed": self.total_events_processed,
            "wall_clock_s": self.wall_clock_s,
            "wall_events_per_second": self.wall_events_per_second,
            "stop_reason": self.stop_reason,
            "paused_by": self.paused_by
            if isinstance(self.paused_by, (str, type(None)))
            else repr(self.paused_by),
            "heap_size": self.heap_size,
            "seed": self.seed,
            "entities": self.entities,
        }

    def __str__(self) -> str:
        lines = [
            f"Simulation {self.stop_reason or 'stopped'} at t={self.end_time_s:.6g}s "
            f"({self.total_events_processed} events, {self.wall_clock_s:.3f}s wall, "
            f"{self.wall_events_per_second:,.0f} events/s)"
        ]
        if self.paused_by is not None:
            lines.append(f"  paused by: {self.paused_by}")
        for name, stats in self.entities.items():
            parts = ", ".join(
                f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in stats.items()
            )
            lines.append(f"  {name}: {parts}")
        return "\n".join(lines)


__all__ = ["SimulationSummary"]
