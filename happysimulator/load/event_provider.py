"""Event providers: what a ``Source`` emits at each arrival."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from happysimulator.core.event import Event
from happysimulator.core.temporal import Instant, to_ns


class EventProvider:
    """Base class: ``get_events(time) -> list[Event]`` for one arrival."""

    def get_events(self, time: Instant) -> list[Event]:
        raise NotImplementedError(f"{type(self).__name__}.get_events is not implemented")


class SimpleEventProvider(EventProvider):
    """One ``event_type`` event to ``target`` per arrival.

    Its context is ``context_fn(time, count)`` if given, else ``{"created_at": time,
    "request_id": count}`` (count from 1). Nothing is produced at times after
    ``stop_after``. A ``Source`` built on a plain one (no ``context_fn``, no
    ``stop_after``) takes a fast path that creates the request without calling it: its
    context is then made on first access and has no ``request_id``.
    """

    def __init__(
        self,
        target: Any,
        event_type: str = "Request",
        stop_after: Instant | float | None = None,
        context_fn: Callable[[Instant, int], dict] | None = None,
    ) -> None:
        self.target = target
        self.event_type = event_type
        self.stop_after = None if stop_after is None else Instant(to_ns(stop_after))
        self.context_fn = context_fn
        self.generated = 0

    # happysim 0.2.5 attribute names
    @property
    def _target(self) -> Any:
        return self.target

    @property
    def _event_type(self) -> str:
        return self.event_type

    @property
    def _stop_after(self) -> Instant | None:
        return self.stop_after

    @property
    def _context_fn(self) -> Callable[[Instant, int], dict] | None:
        return self.context_fn

    @property
    def is_plain(self) -> bool:
        """No per-request context and no stop time: a ``Source`` may bypass it."""
        return self.context_fn is None and self.stop_after is None

    def get_events(self, time: Instant) -> list[Event]:
        if self.stop_after is not None and time > self.stop_after:
            return []
        self.generated += 1
        fn = self.context_fn
        context = (fn(time, self.generated) if fn is not None
                   else {"created_at": time, "request_id": self.generated})
        return [Event(time, self.event_type, self.target, context=context)]


_SimpleEventProvider = SimpleEventProvider

__all__ = ["EventProvider", "SimpleEventProvider"]
