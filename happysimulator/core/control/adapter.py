"""Arm happysim-style breakpoints on ``sim.control`` as observability ``Breakpoint``s."""

from __future__ import annotations

from typing import Any

from happysimulator.core.control.breakpoints import (
    EventCountBreakpoint,
    EventTypeBreakpoint,
    TimeBreakpoint,
)
from happysimulator.core.control.state import BreakpointContext


def is_peer_breakpoint(obj: Any) -> bool:
    return callable(getattr(obj, "should_break", None)) and hasattr(obj, "one_shot")


def adapt(bp: Any, sim: Any) -> Any:
    """An observability ``Breakpoint`` with the meaning of the happysim-style ``bp``.

    Time, event-count and event-type breakpoints map to the native kinds (cheapest: no
    per-event check); anything else becomes a ``condition`` that builds the
    ``BreakpointContext`` the predicate expects.
    """
    from happysimulator.observability.breakpoints import Breakpoint

    if not is_peer_breakpoint(bp):
        raise TypeError(
            f"expected a Breakpoint or an object with should_break(context) and one_shot, "
            f"got {type(bp).__name__}")
    one_shot = bool(bp.one_shot)
    label = str(bp)
    if type(bp) is TimeBreakpoint:
        return Breakpoint(time=bp.time, one_shot=one_shot, name=label)
    if type(bp) is EventCountBreakpoint:
        return Breakpoint(event_count=bp.count, one_shot=one_shot, name=label)
    if type(bp) is EventTypeBreakpoint:
        return Breakpoint(event_type=bp.event_type, one_shot=one_shot, name=label)

    def condition(state: Any) -> bool:
        ctx = BreakpointContext(current_time=state.current_time,
                                events_processed=state.events_processed,
                                last_event=state.last_event, simulation=sim)
        return bool(bp.should_break(ctx))

    condition.__name__ = label
    return Breakpoint(condition=condition, one_shot=one_shot, name=label)


__all__ = ["adapt", "is_peer_breakpoint"]
