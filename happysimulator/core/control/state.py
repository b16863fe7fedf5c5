"""``happysimulator.core.control.state`` (happysim 0.2.5 module path).

``SimulationState`` is the observability layer's snapshot; ``BreakpointContext`` is what a
happysim-style breakpoint's ``should_break`` receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from happysimulator.core.temporal import Instant


@dataclass(frozen=True)
class BreakpointContext:
    """Read-only facts a breakpoint predicate decides on (after each event)."""

    current_time: Instant
    events_processed: int
    last_event: Any
    simulation: Any


def __getattr__(name: str) -> Any:
    # SimulationState lives in the observability layer (which imports the engine), so it
    # is resolved lazily here to keep imports flowing downward.
    if name == "SimulationState":
        from happysimulator.observability.control import SimulationState

        return SimulationState
    raise AttributeError(name)


__all__ = ["BreakpointContext", "SimulationState"]  # noqa: F822 (lazy)
