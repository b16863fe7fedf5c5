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

from happysimulator.core.event_heap import MODEL, TIMER, EventHeap, TimerHandle

if TYPE_CHECKING:
    from happysimulator.core.event import Event

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
    - ``push_if_due(time_ns, seq, event)``: schedule a same-instant event made earlier
      (``seq`` from ``next_seq()``) only if something else is due first;
    - ``schedule_timer(time_ns, handle)``: put a daemon clock timer in the heap;
    - ``traced``: True when a trace recorder sees heap pushes (no inline pushes then);
    - ``may_recycle``: True while a processed event object may be reused;
    - ``unseen``: True while nobody sees processed events at all (of any type);
    - ``pending_timers()``: the clock timers not yet run nor cancelled.
    """

    __slots__ = ("_events", "_entries", "_counter", "may_recycle", "unseen", "traced",
                 "next_seq")

    def __init__(self, events: EventHeap) -> None:
        self._events = events
        self._entries = events.entries
        self._counter = events.counter
        #: True when a trace recorder sees every heap push: a component must then
        #: schedule through `Simulation.schedule_result`, never inline
        self.traced = type(events) is not EventHeap
        #: the heap sequence number of an event scheduled now (`push_if_due` later puts
        #: it where scheduling it at this point would have put it)
        self.next_seq = events.counter.__next__
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

    def push_if_due(self, time_ns: int, seq: int, event: Event) -> bool:
        """Schedule ``event`` at ``time_ns`` (now) with the sequence number ``seq`` drawn
        by `next_seq` when it was made, if anything else is due by then; False: nothing
        is, and the caller runs it as the very next event (a generator's continuation).
        Same conditions as `schedule_at`."""
        entries = self._entries
        if entries and entries[0][0] <= time_ns:
            heappush(entries, (time_ns, MODEL, seq, event))
            return True
        return False

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
