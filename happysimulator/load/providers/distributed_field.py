"""An event provider whose events carry context fields drawn from value distributions."""

from __future__ import annotations

from typing import Any

from happysimulator.core.event import Event
from happysimulator.core.temporal import Instant
from happysimulator.distributions.value_distribution import ValueDistribution
from happysimulator.load.event_provider import EventProvider


class DistributedFieldProvider(EventProvider):
    """One ``event_type`` event to ``target`` per arrival; each key of
    ``field_distributions`` is sampled into the event's context, next to the constant
    ``static_fields``. Nothing is generated at times after ``stop_after``."""

    def __init__(
        self,
        target: Any,
        event_type: str,
        field_distributions: dict[str, ValueDistribution],
        static_fields: dict[str, Any] | None = None,
        stop_after: Instant | None = None,
    ) -> None:
        self._target = target
        self._event_type = event_type
        self._fields = dict(field_distributions)
        self._static = dict(static_fields or {})
        self._stop_after = stop_after
        self.generated = 0

    @property
    def target(self) -> Any:
        return self._target

    @property
    def event_type(self) -> str:
        return self._event_type

    def get_events(self, time: Instant) -> list[Event]:
        if self._stop_after is not None and time > self._stop_after:
            return []
        self.generated += 1
        context: dict[str, Any] = dict(self._static)
        context["created_at"] = time
        for name, dist in self._fields.items():
            context[name] = dist.sample()
        return [Event(time, self._event_type, self._target, context=context)]

    def __repr__(self) -> str:
        return f"DistributedFieldProvider(event_type={self._event_type!r}, fields={list(self._fields)})"


__all__ = ["DistributedFieldProvider"]
