"""Resource faults: a resource's capacity reduced for a while."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from happysimulator.faults.fault import _check_window

if TYPE_CHECKING:
    from happysimulator.core.event import Event
    from happysimulator.faults.fault import FaultContext


def _set_capacity(resource: Any, capacity: float) -> Any:
    """Change `resource`'s capacity; returns what its ``set_capacity`` returned (events
    granting waiters, if it has that method)."""
    setter = getattr(resource, "set_capacity", None)
    if callable(setter):
        return setter(capacity)
    # a resource without set_capacity: its counters directly (happysim 0.2.5's way)
    in_use = resource._capacity - resource._available
    resource._capacity = capacity
    resource._available = max(0, capacity - in_use)
    return None


@dataclass(frozen=True)
class ReduceCapacity:
    """Multiply ``resource_name``'s capacity by ``factor`` from ``start`` to ``end``
    seconds (what is in use stays in use; new grants wait for the reduced capacity)."""

    resource_name: str
    factor: float
    start: float
    end: float

    def __post_init__(self) -> None:
        _check_window(self.start, self.end)
        if not 0.0 <= self.factor:
            raise ValueError(f"factor must be >= 0, got {self.factor!r}")

    def generate_events(self, ctx: FaultContext) -> list[Event]:
        resource = ctx.resource(self.resource_name)
        saved: list[float] = []

        def on(_e: Event) -> Any:
            saved.append(resource.capacity)
            reduced = resource.capacity * self.factor
            if isinstance(saved[-1], int):
                reduced = int(reduced)
            return _set_capacity(resource, reduced)

        def off(_e: Event) -> Any:
            return _set_capacity(resource, saved.pop())

        return ctx.window(self, self.resource_name, self.start, self.end, on, off,
                          "capacity")


__all__ = ["ReduceCapacity"]
