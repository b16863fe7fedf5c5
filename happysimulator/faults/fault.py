"""The fault protocol, the context faults resolve names in, handles and statistics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from happysimulator.core.event import Event
from happysimulator.core.temporal import Instant

if TYPE_CHECKING:
    from happysimulator.core.entity import Entity
    from happysimulator.faults.schedule import FaultSchedule


@dataclass
class FaultContext:
    """What a fault resolves names in: every entity of the simulation (those reachable
    from the registered ones included, e.g. the servers behind a load balancer), the
    networks and resources among them, the start time, and the schedule that records
    the faults' starts and ends."""

    entities: dict[str, Entity]
    networks: dict[str, Any]
    resources: dict[str, Any]
    start_time: Instant
    schedule: FaultSchedule | None = field(default=None, repr=False)

    def entity(self, name: str) -> Entity:
        """The entity called `name` (KeyError naming the known ones)."""
        try:
            return self.entities[name]
        except KeyError:
            raise KeyError(f"no entity named {name!r} in the simulation; known: "
                           f"{sorted(self.entities)}") from None

    def network(self, name: str | None) -> Any:
        """The network called `name`, or the only/first one when `name` is None."""
        if name is not None:
            try:
                return self.networks[name]
            except KeyError:
                raise KeyError(f"no network named {name!r}; known: "
                               f"{sorted(self.networks)}") from None
        if not self.networks:
            raise ValueError("this fault needs a Network in the simulation; none is registered")
        return next(iter(self.networks.values()))

    def resource(self, name: str) -> Any:
        try:
            return self.resources[name]
        except KeyError:
            raise KeyError(f"no resource named {name!r}; known: "
                           f"{sorted(self.resources)}") from None

    def window(self, fault: Any, target: str, start: float, end: float | None,
               activate: Callable[[Event], Any], deactivate: Callable[[Event], Any] | None,
               label: str) -> list[Event]:
        """Events that run `activate` at `start` and `deactivate` at `end` (if given),
        each recorded on the schedule as ``fault.start`` / ``fault.end``."""
        events = [self.at(start, f"fault.{label}:{target}", activate, fault, target, "start")]
        if end is not None and deactivate is not None:
            events.append(self.at(end, f"fault.{label}.end:{target}", deactivate, fault,
                                  target, "end"))
        return events

    def at(self, when: float, event_type: str, fn: Callable[[Event], Any], fault: Any,
           target: str, phase: str | None) -> Event:
        """A daemon event at `when` seconds running `fn` (its result is scheduled), told
        to the schedule as the fault's ``phase`` ("start", "end" or None)."""
        schedule = self.schedule

        def run(event: Event) -> Any:
            out = fn(event)
            if schedule is not None and phase is not None:
                schedule._record(phase, fault, target)
            return out

        return Event.once(Instant.from_seconds(when), event_type, run, daemon=True)


@runtime_checkable
class Fault(Protocol):
    """A fault: makes the events that switch it on and off."""

    def generate_events(self, ctx: FaultContext) -> list[Event]: ...


class FaultHandle:
    """Returned by ``FaultSchedule.add``: ``cancel()`` before the fault fires keeps it
    from firing (idempotent)."""

    def __init__(self, fault: Any) -> None:
        self.fault = fault
        self._events: list[Event] = []
        self._cancelled = False

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        if self._cancelled:
            return
        self._cancelled = True
        for event in self._events:
            event.cancel()


@dataclass(frozen=True)
class FaultStats:
    """Counts of a `FaultSchedule`."""

    faults_scheduled: int
    faults_activated: int
    faults_deactivated: int
    faults_cancelled: int


def _check_window(start: float, end: float | None, what: str = "end") -> None:
    if start < 0:
        raise ValueError(f"a fault's start must be >= 0 seconds, got {start!r}")
    if end is not None and end <= start:
        raise ValueError(f"a fault's {what} ({end!r}) must be after its start ({start!r})")


__all__ = ["Fault", "FaultContext", "FaultHandle", "FaultStats"]
