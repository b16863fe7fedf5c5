"""happysim 0.2.5 breakpoint classes (``should_break(context)`` predicates).

``sim.control.add_breakpoint`` accepts these next to the observability ``Breakpoint``; it
arms them through ``adapt`` (``happysimulator.core.control.adapter``), with this
project's semantics: a non-one-shot breakpoint fires when its condition *becomes* true,
not again on every event while it stays true (so ``resume()`` makes progress).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from happysimulator.core.control.state import BreakpointContext
from happysimulator.core.temporal import Instant


@runtime_checkable
class BreakpointProtocol(Protocol):
    """Anything with ``one_shot`` and ``should_break(context) -> bool``."""

    @property
    def one_shot(self) -> bool: ...

    def should_break(self, context: BreakpointContext) -> bool: ...


COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt, "ge": operator.ge, "lt": operator.lt,
    "le": operator.le, "eq": operator.eq, "ne": operator.ne,
}


@dataclass(frozen=True)
class TimeBreakpoint:
    """Pause once simulated time reaches ``time``."""

    time: Instant
    one_shot: bool = True

    def should_break(self, context: BreakpointContext) -> bool:
        return context.current_time >= self.time

    def __str__(self) -> str:
        return f"TimeBreakpoint(time={self.time!r}, one_shot={self.one_shot})"


@dataclass(frozen=True)
class EventCountBreakpoint:
    """Pause once ``count`` events have been processed."""

    count: int
    one_shot: bool = True

    def should_break(self, context: BreakpointContext) -> bool:
        return context.events_processed >= self.count

    def __str__(self) -> str:
        return f"EventCountBreakpoint(count={self.count}, one_shot={self.one_shot})"


@dataclass(frozen=True)
class ConditionBreakpoint:
    """Pause when ``fn(context)`` is true."""

    fn: Callable[[BreakpointContext], bool] = field(repr=False)
    description: str = "custom condition"
    one_shot: bool = False

    def should_break(self, context: BreakpointContext) -> bool:
        return bool(self.fn(context))

    def __str__(self) -> str:
        return f"ConditionBreakpoint({self.description!r}, one_shot={self.one_shot})"


@dataclass(frozen=True)
class MetricBreakpoint:
    """Pause when attribute ``attribute`` of the entity named ``entity_name`` compares
    (``gt``, ``ge``, ``lt``, ``le``, ``eq``, ``ne``) true with ``threshold``."""

    entity_name: str
    attribute: str
    operator: str
    threshold: float
    one_shot: bool = False

    def __post_init__(self) -> None:
        if self.operator not in COMPARATORS:
            raise ValueError(
                f"Unknown operator {self.operator!r}; valid: {', '.join(COMPARATORS)}")

    def should_break(self, context: BreakpointContext) -> bool:
        entity = find_entity(context.simulation, self.entity_name)
        value = None if entity is None else getattr(entity, self.attribute, None)
        if value is None:
            return False
        return bool(COMPARATORS[self.operator](value, self.threshold))

    def __str__(self) -> str:
        return (f"MetricBreakpoint({self.entity_name}.{self.attribute} {self.operator} "
                f"{self.threshold}, one_shot={self.one_shot})")


@dataclass(frozen=True)
class EventTypeBreakpoint:
    """Pause after an event of type ``event_type``."""

    event_type: str
    one_shot: bool = False

    def should_break(self, context: BreakpointContext) -> bool:
        ev = context.last_event
        return ev is not None and ev.event_type == self.event_type

    def __str__(self) -> str:
        return f"EventTypeBreakpoint({self.event_type!r}, one_shot={self.one_shot})"


def find_entity(simulation: Any, name: str) -> Any:
    """The simulation's entity (or source) called ``name``, or None."""
    if simulation is None:
        return None
    for group in ("_entities", "entities", "_sources", "sources"):
        for e in getattr(simulation, group, None) or ():
            if getattr(e, "name", None) == name:
                return e
    return None


# happysim 0.2.5 exports the protocol under this name from this module
Breakpoint = BreakpointProtocol

__all__ = [
    "Breakpoint",
    "BreakpointProtocol",
    "ConditionBreakpoint",
    "EventCountBreakpoint",
    "EventTypeBreakpoint",
    "MetricBreakpoint",
    "TimeBreakpoint",
]
