"""Event providers: what a ``Source`` emits at each arrival."""

from __future__ import annotations

from typing import Any

from happysimulator.core.event import Event
from happysimulator.core.temporal import Instant


class EventProvider:
    """Base class: ``get_events(time) -> list[Event]`` for one arrival."""

    def get_events(self, time: Instant) -> list[Event]:
        raise NotImplementedError


class SimpleEventProvider(EventProvider):
    """One ``event_type`` event to ``target`` per arrival (the ``Source`` fast path)."""

    def __init__(self, target: Any, event_type: str = "request") -> None:
        self.target = target
        self.event_type = event_type

    def get_events(self, time: Instant) -> list[Event]:
        return [Event(time, self.event_type, self.target)]


__all__ = ["EventProvider", "SimpleEventProvider"]
