"""``BreakdownScheduler``: random failures and repairs of a machine.

The scheduler alternates its ``target`` between working and down: times to failure are
exponential with mean ``mean_time_to_failure``, repairs exponential with mean
``mean_repair_time``. While down, ``target._broken`` is True (a target's
``has_capacity()`` reads it); when a repaired `QueuedResource` has requests waiting, it
starts them at once. Start it with ``sim.schedule(scheduler.start_event())``.

Observed: ``up`` (gauge: 1 working, 0 down; its time-weighted mean is the availability),
``repair_time`` (sample, s: each repair's duration, recorded when the repair starts),
``breakdowns`` (counter), and the events ``breakdown`` / ``repaired``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from happysimulator.components.industrial._common import at_start
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, gauge, sample

_BREAKDOWN = "_Breakdown"
_REPAIR_COMPLETE = "_RepairComplete"
_START = "_BreakdownStart"
_NS = 1_000_000_000


@dataclass(frozen=True)
class BreakdownStats:
    """Counts and times of a breakdown cycle (happysim 0.2.5 shape)."""

    breakdown_count: int = 0
    total_downtime_s: float = 0.0
    total_uptime_s: float = 0.0

    @property
    def availability(self) -> float:
        """Fraction of the elapsed time the machine worked (1.0 before any time passed)."""
        total = self.total_uptime_s + self.total_downtime_s
        return 1.0 if total == 0 else self.total_uptime_s / total


@runtime_checkable
class Breakable(Protocol):
    """An entity with a ``_broken`` flag."""

    _broken: bool


class BreakdownScheduler(ObservedEntity):
    """Breaks and repairs `target` at exponential times (means in seconds)."""

    observed_series = (
        gauge("up", "", "1 while the target works, 0 while it is down"),
        sample("repair_time", "s", "duration of each repair"),
        counter("breakdowns", "failures", "failures of the target"),
    )
    downstream_attributes = ("target",)

    def __init__(self, name: str, target: Entity, mean_time_to_failure: float = 100.0,
                 mean_repair_time: float = 5.0) -> None:
        if not mean_time_to_failure > 0 or not mean_repair_time > 0:
            raise ValueError(
                "mean_time_to_failure and mean_repair_time must be > 0, got "
                f"{mean_time_to_failure!r} and {mean_repair_time!r}")
        super().__init__(name)
        if not hasattr(target, "_broken"):
            target._broken = False  # type: ignore[attr-defined]
        self.target: Any = target
        self.mean_time_to_failure = mean_time_to_failure
        self.mean_repair_time = mean_repair_time
        self._breakdown_count = 0
        self._total_downtime_s = 0.0
        self._total_uptime_s = 0.0
        self._last_change_ns: int | None = None
        self._is_down = False

    def downstream_entities(self) -> list[Entity]:
        return [self.target]

    def set_clock(self, sim: Any) -> None:
        super().set_clock(sim)
        at_start(sim, lambda: self.set_gauge("up", 0 if self._is_down else 1))

    @property
    def is_down(self) -> bool:
        return self._is_down

    @property
    def stats(self) -> BreakdownStats:
        return BreakdownStats(breakdown_count=self._breakdown_count,
                              total_downtime_s=self._total_downtime_s,
                              total_uptime_s=self._total_uptime_s)

    def start_event(self) -> Event:
        """The event that starts the cycle: ``sim.schedule(scheduler.start_event())``.
        The first failure comes an exponential time after now (the simulation's start
        when called before the run)."""
        sim = self._sim
        if sim is not None and hasattr(sim, "rng"):
            t0 = sim.now_ns
            self._last_change_ns = t0
            return self._event(t0 + self._exp_ns(self.mean_time_to_failure), _BREAKDOWN)
        # not yet in a simulation: draw when it starts (time 0)
        return Event(0.0, _START, self, daemon=True)

    def _exp_ns(self, mean: float) -> int:
        return round(self.rng.expovariate(1.0 / mean) * _NS)

    def handle_event(self, event: Event) -> Any:
        now = self._sim.now_ns
        kind = event.event_type
        if kind == _START:
            self._last_change_ns = now
            return self._event(now + self._exp_ns(self.mean_time_to_failure), _BREAKDOWN)
        if self._last_change_ns is None:
            self._last_change_ns = self._sim.start_ns
        if kind == _BREAKDOWN:
            self._total_uptime_s += (now - self._last_change_ns) / _NS
            self._last_change_ns = now
            self._is_down = True
            self.target._broken = True
            self._breakdown_count += 1
            repair = self._exp_ns(self.mean_repair_time)
            if self._runtime() is not None:
                self.set_gauge("up", 0)
                self.increment("breakdowns")
                self.observe("repair_time", repair / _NS)
                self.emit_event("breakdown", {"target": self.target.name})
            return self._event(now + repair, _REPAIR_COMPLETE)
        if kind == _REPAIR_COMPLETE:
            self._total_downtime_s += (now - self._last_change_ns) / _NS
            self._last_change_ns = now
            self._is_down = False
            self.target._broken = False
            if self._runtime() is not None:
                self.set_gauge("up", 1)
                self.emit_event("repaired", {"target": self.target.name})
            restart = getattr(self.target, "_drain", None)
            if restart is not None and getattr(self.target, "_queue", None):
                restart(self._sim)  # requests waited for the repair: start them now
            return self._event(now + self._exp_ns(self.mean_time_to_failure), _BREAKDOWN)
        return None

    def _event(self, t_ns: int, kind: str) -> Event:
        return Event(_instant(t_ns), kind, self, daemon=True)


def _instant(t_ns: int) -> Any:
    from happysimulator.core.temporal import Instant

    return Instant.from_nanoseconds(t_ns)


__all__ = ["Breakable", "BreakdownScheduler", "BreakdownStats"]
