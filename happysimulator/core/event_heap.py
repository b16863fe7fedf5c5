"""The simulation's event heap: entries are ``(time_ns, priority, seq, item)``.

Priority 0 = timer (a ``TimerHandle``, runs a plain function), 1 = model event. ``seq``
comes from this heap's own counter, so equal keys pop in FIFO order. ``ndaemon`` counts
entries that must not keep a run alive (timers and daemon events).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from happysimulator.core.event import Event
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion

TIMER = 0
MODEL = 1


class TimerHandle:
    """A pending clock callback; ``cancel()`` stops it from running."""

    __slots__ = ("fn", "cancelled", "time_ns")

    def __init__(self, fn: Callable[[], Any], time_ns: int) -> None:
        self.fn = fn
        self.cancelled = False
        self.time_ns = time_ns

    def cancel(self) -> None:
        self.cancelled = True

    @property
    def time_s(self) -> float:
        return self.time_ns / _NS

    def __repr__(self) -> str:
        state = " cancelled" if self.cancelled else ""
        return f"<TimerHandle at {self.time_ns / _NS}s{state}>"


class EventHeap:
    """Binary heap of events and timers (see module docstring)."""

    __slots__ = ("entries", "counter", "ndaemon")

    def __new__(cls, trace_recorder: Any = None) -> EventHeap:
        # a recorder gets the traced subclass: the plain heap's methods stay untouched
        if trace_recorder is not None and cls is EventHeap:
            cls = _TracedEventHeap
        return object.__new__(cls)

    def __init__(self, trace_recorder: Any = None) -> None:
        self.entries: list[tuple[int, int, int, Any]] = []
        self.counter = itertools.count()
        self.ndaemon = 0

    def push(self, event: Event) -> None:
        heapq.heappush(self.entries, (event._time_ns, MODEL, next(self.counter), event))
        x = event._x
        if x is not None and x.daemon:
            self.ndaemon += 1

    def push_timer(self, time_ns: int, handle: TimerHandle) -> None:
        heapq.heappush(self.entries, (time_ns, TIMER, next(self.counter), handle))
        self.ndaemon += 1

    def pop(self) -> tuple[int, int, int, Any]:
        entry = heapq.heappop(self.entries)
        item = entry[3]
        if entry[1] == TIMER or (item._x is not None and item._x.daemon):
            self.ndaemon -= 1
        return entry

    def peek(self) -> tuple[int, int, int, Any] | None:
        return self.entries[0] if self.entries else None

    def peek_event(self) -> Event | None:
        """The next model event that will run (skips timers and cancelled events)."""
        best = None
        for entry in self.entries:
            if entry[1] == MODEL and not entry[3].cancelled and (best is None or entry < best):
                best = entry
        return None if best is None else best[3]

    def has_events(self) -> bool:
        return bool(self.entries)

    def has_live_events(self) -> bool:
        return len(self.entries) > self.ndaemon

    def __len__(self) -> int:
        return len(self.entries)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def __iter__(self) -> Iterator[tuple[int, int, int, Any]]:
        return iter(sorted(self.entries, key=lambda e: e[:3]))


class _TracedEventHeap(EventHeap):
    """Records ``heap.push`` (and ``simulation.schedule``) / ``heap.pop`` spans."""

    __slots__ = ("trace",)

    def __init__(self, trace_recorder: Any = None) -> None:
        super().__init__()
        self.trace = trace_recorder

    def push(self, event: Event) -> None:
        super().push(event)
        t = event._time_ns / _NS
        eid = event.context["id"]
        self.trace.record(t, "heap.push", event_id=eid, event_type=event.event_type,
                          heap_size=len(self.entries))
        self.trace.record(t, "simulation.schedule", event_id=eid,
                          event_type=event.event_type, scheduled_time=event.time)

    def pop(self) -> tuple[int, int, int, Any]:
        entry = super().pop()
        item = entry[3]
        if entry[1] == MODEL:
            self.trace.record(entry[0] / _NS, "heap.pop", event_id=item.context["id"],
                              event_type=item.event_type, heap_size=len(self.entries))
        return entry


__all__ = ["EventHeap", "TimerHandle", "TIMER", "MODEL"]
