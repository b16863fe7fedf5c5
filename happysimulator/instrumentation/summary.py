"""``SimulationSummary``: what ``Simulation.run()`` returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class QueueStats:
    """A queue's peak depth and how many requests it accepted and dropped."""

    peak_depth: int
    total_accepted: int
    total_dropped: int


@dataclass
class EntitySummary:
    """One entity's line in a summary (happysim 0.2.5 shape)."""

    name: str
    entity_type: str
    events_handled: int
    queue_stats: QueueStats | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.entity_type,
                               "events_handled": self.events_handled}
        q = self.queue_stats
        if q is not None:
            out["queue"] = {"peak_depth": q.peak_depth, "total_accepted": q.total_accepted,
                            "total_dropped": q.total_dropped}
        return out

    def __str__(self) -> str:
        line = f"{self.entity_type}: {self.events_handled} events"
        q = self.queue_stats
        if q is not None:
            line += (f" | queue: peak={q.peak_depth}, accepted={q.total_accepted}, "
                     f"dropped={q.total_dropped}")
        return line


@dataclass(init=False)
class SimulationSummary:
    """Outcome of a run (or of a run segment ended by a pause).

    Also constructible with the happysim 0.2.5 keywords ``duration_s``,
    ``events_per_second`` and ``wall_clock_seconds``.
    """

    start_time_s: float
    end_time_s: float
    total_events_processed: int
    wall_clock_s: float
    wall_events_per_second: float
    stop_reason: str | None
    paused_by: Any
    heap_size: int
    seed: int | None
    entities: dict[str, Any]
    events_cancelled: int

    def __init__(
        self,
        start_time_s: float = 0.0,
        end_time_s: float | None = None,
        total_events_processed: int = 0,
        wall_clock_s: float | None = None,
        wall_events_per_second: float | None = None,
        stop_reason: str | None = None,
        paused_by: Any = None,
        heap_size: int = 0,
        seed: int | None = None,
        entities: dict[str, Any] | None = None,
        events_cancelled: int = 0,
        *,
        duration_s: float | None = None,
        events_per_second: float | None = None,
        wall_clock_seconds: float | None = None,
    ) -> None:
        if end_time_s is None:
            end_time_s = start_time_s + (duration_s or 0.0)
        elif duration_s is not None and abs(end_time_s - start_time_s - duration_s) > 1e-9:
            raise ValueError("give end_time_s or duration_s consistently, not both")
        if wall_clock_s is None:
            wall_clock_s = wall_clock_seconds if wall_clock_seconds is not None else 0.0
        if wall_events_per_second is None:
            wall_events_per_second = (total_events_processed / wall_clock_s
                                      if wall_clock_s > 0 else 0.0)
        self.start_time_s = start_time_s
        self.end_time_s = end_time_s
        self.total_events_processed = total_events_processed
        self.wall_clock_s = wall_clock_s
        self.wall_events_per_second = wall_events_per_second
        self.stop_reason = stop_reason
        self.paused_by = paused_by
        self.heap_size = heap_size
        self.seed = seed
        self.entities = dict(entities or {})
        self.events_cancelled = events_cancelled
        self._events_per_second = events_per_second

    @property
    def wall_clock_seconds(self) -> float:
        return self.wall_clock_s

    @property
    def events_per_second(self) -> float:
        """Events per *simulated* second (happysim 0.2.5 meaning)."""
        if self._events_per_second is not None:
            return self._events_per_second
        d = self.duration_s
        return self.total_events_processed / d if d > 0 else 0.0

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
            "events_cancelled": self.events_cancelled,
            "events_per_second": self.events_per_second,
            "entities": {n: (e.to_dict() if hasattr(e, "to_dict") else e)
                         for n, e in self.entities.items()},
        }

    def __str__(self) -> str:
        lines = [
            f"Simulation {self.stop_reason or 'stopped'} at t={self.end_time_s:.6g}s, "
            f"duration {self.duration_s:.2f}s "
            f"({self.total_events_processed} events, {self.wall_clock_s:.3f}s wall, "
            f"{self.wall_events_per_second:,.0f} events/s)"
        ]
        if self.paused_by is not None:
            lines.append(f"  paused by: {self.paused_by}")
        for name, stats in self.entities.items():
            if isinstance(stats, EntitySummary):
                lines.append(f"  {name} ({stats})")
                continue
            parts = ", ".join(
                f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in stats.items()
            )
            lines.append(f"  {name}: {parts}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from happysim_rx.html import fields_table, table

        d = self.to_dict()
        entities = d.pop("entities")
        out = fields_table("SimulationSummary", d)
        if entities:
            rows = [{"entity": k, **(v if isinstance(v, dict) else {"stats": v})}
                    for k, v in entities.items()]
            out += table(rows, caption="entities")
        return out


__all__ = ["EntitySummary", "QueueStats", "SimulationSummary"]
