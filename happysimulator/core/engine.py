"""``Simulation.engine``: what components may do with the event loop, by name.

Standard components (``Server``, ``Source``, probes) schedule their internal events on
every request, so they skip ``Simulation.schedule``'s checks; the observability layer
looks at pending timers. Both go through this small object instead of the simulation's
heap, counter and flags, so the loop's internals can change without touching them.
"""

from __future__ import annotations

from collections.abc import Iterator
from heapq import heappush
from typing import TYPE_CHECKING

from happysimulator.core.event_heap import MODEL, TIMER, TimerHandle

if TYPE_CHECKING:
    from happysimulator.core.event import Event
    from happysimulator.core.event_heap import EventHeap

# event types whose processed events their component may reuse (`declare_recyclable`)
_RECYCLABLE: set[str] = set()


def declare_recyclable(event_type: str) -> None:
    """Say that a component reuses processed events of ``event_type`` for its next one
    (when `Engine.may_recycle` allows it). Call once, at import of the component.

    The loop then turns recycling off while something watches that event type
    (an event-type breakpoint), since a watcher may keep the event it was given."""
    _RECYCLABLE.add(event_type)


def recyclable_types() -> frozenset[str]:
    """The event types given to `declare_recyclable` so far."""
    return frozenset(_RECYCLABLE)


class Engine:
    """The simulation's event loop as components see it (``sim.engine``).

    - ``schedule_at(time_ns, event)``: put a model event in the heap, unchecked;
    - ``schedule_timer(time_ns, handle)``: put a daemon clock timer in the heap;
    - ``may_recycle``: True while a processed event object may be reused;
    - ``unseen``: True while nobody sees processed events at all (of any type);
    - ``pending_timers()``: the clock timers not yet run nor cancelled.
    """

    __slots__ = ("_events", "_entries", "_counter", "may_recycle", "unseen")

    def __init__(self, events: EventHeap) -> None:
        self._events = events
        self._entries = events.entries
        self._counter = events.counter
        # True while nobody sees processed events (no per-event hook, trace recorder or
        # watcher of a recyclable type): set by the run loop when it starts
        self.may_recycle = True
        # True while no per-event hook, trace recorder or watched event type sees
        # processed events: a generator process may then be its own continuation event
        # (whose type is its request's, so `declare_recyclable` cannot cover it)
        self.unseen = True

    def schedule_at(self, time_ns: int, event: Event) -> None:
        """Schedule ``event`` (its ``time`` must be ``time_ns``) with no checks.

        For components on their hot path only: the caller guarantees that ``time_ns``
        is not before now, that ``event.target`` is set and that the event is neither
        daemon nor carries completion hooks (``Simulation.schedule`` checks all that)."""
        heappush(self._entries, (time_ns, MODEL, next(self._counter), event))

    def schedule_timer(self, time_ns: int, handle: TimerHandle) -> None:
        """Schedule ``handle.fn()`` at ``time_ns`` (not before now) as a clock timer:
        daemon, run before the model events of the same instant, FIFO among timers."""
        self._events.push_timer(time_ns, handle)

    def pending_timers(self) -> Iterator[TimerHandle]:
        """The clock timers still to run (not cancelled), in no particular order."""
        for _, kind, _, item in self._entries:
            # (an interrupt entry is a timer entry without a handle)
            if kind == TIMER and item is not None and not item.cancelled:
                yield item


__all__ = ["Engine", "declare_recyclable", "recyclable_types"]
