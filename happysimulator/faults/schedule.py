"""``FaultSchedule``: the entity that fires the faults and records them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from happysim_rx import ObservationKind
from happysimulator.core.attributes import attribute_values
from happysimulator.core.entity import Entity
from happysimulator.core.observed import ObservedEntity, counter, gauge
from happysimulator.core.temporal import Instant
from happysimulator.faults.fault import FaultContext, FaultHandle, FaultStats
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion

if TYPE_CHECKING:
    from happysimulator.core.event import Event


class FaultSchedule(ObservedEntity):
    """Collects faults and fires them during the run::

        schedule = FaultSchedule()
        schedule.add(CrashNode("backend-2", at=30.0, restart_at=45.0))
        sim = Simulation(sources=[...], entities=[...], fault_schedule=schedule)

    Observed: events ``fault.start`` / ``fault.end`` (payload: ``fault`` type,
    ``target``), the ``active_faults`` gauge, and ``lost`` (events addressed to a
    crashed entity, tagged ``entity``). Faults name their targets; names resolve in
    every entity of the simulation, including those only reachable from the
    registered ones.
    """

    observed_series = (
        gauge("active_faults", "faults", "faults in effect"),
        counter("lost", "events", "events addressed to a crashed entity, lost",
                tags=("entity",)),
        counter("held", "events", "events addressed to a paused entity, delivered on resume",
                tags=("entity",)),
    )

    def __init__(self, name: str = "FaultSchedule") -> None:
        super().__init__(name)
        self._faults: list[Any] = []
        self._handles: list[FaultHandle] = []
        self._activated = self._deactivated = 0
        self._active = 0
        self.context: FaultContext | None = None

    def add(self, fault: Any) -> FaultHandle:
        """Schedule `fault` (anything with ``generate_events(ctx)``); returns its handle."""
        if not callable(getattr(fault, "generate_events", None)):
            raise TypeError(f"a fault needs generate_events(ctx); got {type(fault).__name__}")
        handle = FaultHandle(fault)
        self._faults.append(fault)
        self._handles.append(handle)
        return handle

    @property
    def faults(self) -> list[Any]:
        return list(self._faults)

    @property
    def active_faults(self) -> int:
        """Faults started and not ended."""
        return self._active

    @property
    def stats(self) -> FaultStats:
        return FaultStats(len(self._faults), self._activated, self._deactivated,
                          sum(1 for h in self._handles if h.cancelled))

    def start(self, start_time: Instant, sim: Any) -> list[Event]:
        """The events of every fault, names resolved in `sim` (happysim 0.2.5 API;
        `Simulation` calls it when given ``fault_schedule=``)."""
        self.context = ctx = _context(start_time, sim, self)
        out: list[Event] = []
        for fault, handle in zip(self._faults, self._handles, strict=True):
            events = list(fault.generate_events(ctx))
            handle._events = events
            if handle.cancelled:
                for e in events:
                    e.cancel()
            out.extend(events)
        return out

    def _start(self, sim: Any) -> None:
        sim.schedule(self.start(Instant.from_seconds(sim.start_ns / _NS), sim))
        self.set_gauge("active_faults", 0)
        if self._faults:  # the events it will record: in the catalog before the run
            for name in ("fault.start", "fault.end"):
                self._topic(ObservationKind.EVENT, name, None)

    def _record(self, phase: str, fault: Any, target: str) -> None:
        if phase == "start":
            self._activated += 1
            self._active += 1
        else:
            self._deactivated += 1
            self._active -= 1
        self.emit_event(f"fault.{phase}", {"fault": type(fault).__name__, "target": target})
        self.set_gauge("active_faults", self._active)

    def handle_event(self, event: Event) -> None:
        """(A schedule receives no events: its faults run on their own.)"""
        return None


def _context(start_time: Instant, sim: Any, schedule: FaultSchedule) -> FaultContext:
    """Every entity reachable from the simulation's, by name; networks and resources."""
    entities: dict[str, Entity] = {}
    seen: set[int] = set()
    roots = list(sim.entities) + list(sim.sources) + list(getattr(sim, "probes", []))
    stack = list(reversed(roots))
    while stack:
        obj = stack.pop()
        if id(obj) in seen or not isinstance(obj, Entity):
            continue
        seen.add(id(obj))
        entities.setdefault(obj.name, obj)
        children: list[Any] = []
        for value in attribute_values(obj):  # (not `__dict__`: it would slow `obj`)
            if isinstance(value, dict):
                value = list(value.values())
            if isinstance(value, Entity):
                children.append(value)
            elif isinstance(value, list | tuple):
                children.extend(v for v in value if isinstance(v, Entity))
        stack.extend(reversed(children))
    networks = {n: e for n, e in entities.items() if _is_network(e)}
    resources = {n: e for n, e in entities.items() if _is_resource(e)}
    return FaultContext(entities, networks, resources, start_time, schedule)


def _is_network(entity: Any) -> bool:
    return callable(getattr(entity, "partition", None)) and callable(
        getattr(entity, "get_link", None))


def _is_resource(entity: Any) -> bool:
    try:
        from happysimulator.components.resource import Resource
    except ImportError:  # (the resource module is optional)
        return False
    return isinstance(entity, Resource)


__all__ = ["FaultSchedule"]
