"""Structural types for duck-typed simulation participants (happysim 0.2.5 names)."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from happysimulator.core.temporal import Instant


@runtime_checkable
class Simulatable(Protocol):
    """What ``Simulation`` needs of an entity: a name, a clock and an event handler."""

    name: str

    def set_clock(self, clock: Any) -> None: ...

    @property
    def now(self) -> Instant: ...

    def handle_event(self, event: Any) -> Any: ...


@runtime_checkable
class HasCapacity(Protocol):
    """Something that can say whether it accepts more work now."""

    def has_capacity(self) -> bool: ...


__all__ = ["HasCapacity", "Simulatable"]
