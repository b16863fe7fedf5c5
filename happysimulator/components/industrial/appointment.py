"""``AppointmentScheduler``: arrivals at booked times, with no-shows.

At each appointment time (seconds) a customer arrives at ``target`` with probability
``1 - no_show_rate``. Start it with ``for e in scheduler.start_events(): sim.schedule(e)``;
combine it with a `Source` for walk-ins.

Observed: ``arrivals`` and ``no_shows`` (counters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from happysimulator.components.industrial._common import check_seconds
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter
from happysimulator.core.temporal import Instant

_APPOINTMENT_TICK = "_AppointmentTick"


@dataclass(frozen=True)
class AppointmentStats:
    """Counts (happysim 0.2.5 shape)."""

    total_scheduled: int = 0
    arrivals: int = 0
    no_shows: int = 0


class AppointmentScheduler(ObservedEntity):
    """Sends an ``event_type`` arrival to `target` at each appointment that is kept."""

    observed_series = (
        counter("arrivals", "customers", "appointments kept"),
        counter("no_shows", "customers", "appointments missed"),
    )
    downstream_attributes = ("target",)

    def __init__(self, name: str, target: Entity, appointments: list[float],
                 no_show_rate: float = 0.0, event_type: str = "Appointment") -> None:
        if not 0.0 <= no_show_rate <= 1.0:
            raise ValueError(f"no_show_rate must be in [0.0, 1.0], got {no_show_rate!r}")
        for t in appointments:
            check_seconds("appointment time", t, note=" (a simulation time)")
        super().__init__(name)
        self.target = target
        self.appointments = sorted(appointments)
        self.no_show_rate = no_show_rate
        self.event_type = event_type
        self._arrivals = 0
        self._no_shows = 0

    def downstream_entities(self) -> list[Entity]:
        return [self.target]

    @property
    def stats(self) -> AppointmentStats:
        return AppointmentStats(total_scheduled=len(self.appointments),
                                arrivals=self._arrivals, no_shows=self._no_shows)

    def start_events(self) -> list[Event]:
        """One event per appointment (schedule them all)."""
        return [Event(Instant.from_seconds(t), _APPOINTMENT_TICK, self,
                      context={"appointment_time": t}) for t in self.appointments]

    def handle_event(self, event: Event) -> Any:
        if event.event_type != _APPOINTMENT_TICK or event.target is not self:
            return []
        if self.no_show_rate and self.rng.random() < self.no_show_rate:
            self._no_shows += 1
            self.increment("no_shows")
            return []
        self._arrivals += 1
        self.increment("arrivals")
        return [Event(self.now, self.event_type, self.target,
                      context={"created_at": self.now,
                               "appointment_time": event.context.get("appointment_time")})]


__all__ = ["AppointmentScheduler", "AppointmentStats"]
