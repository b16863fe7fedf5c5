"""Simulation control in the happysim 0.2.5 layout (``core.control``).

The control itself is ``sim.control`` (``happysimulator.observability.control``); this
package holds the happysim-style breakpoint classes it also accepts.
"""

from typing import Any

from happysimulator.core.control.breakpoints import (
    Breakpoint,
    ConditionBreakpoint,
    EventCountBreakpoint,
    EventTypeBreakpoint,
    MetricBreakpoint,
    TimeBreakpoint,
)
from happysimulator.core.control.state import BreakpointContext


def __getattr__(name: str) -> Any:
    if name in ("SimulationState", "SimulationControl"):
        from happysimulator.observability import control

        return getattr(control, name)
    raise AttributeError(name)


__all__ = [
    "Breakpoint",
    "BreakpointContext",
    "ConditionBreakpoint",
    "EventCountBreakpoint",
    "EventTypeBreakpoint",
    "MetricBreakpoint",
    "SimulationControl",
    "SimulationState",
    "TimeBreakpoint",
]
