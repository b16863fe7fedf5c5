"""The component-instrumentation seam: standard components call these at fixed points.

Every ``Entity`` has ``_instr = None``. Standard components check it and call the methods
below only when it is set. Each call is made *after* the component's state reflects the
change, so gauges (``entity.depth`` = waiting, ``entity.in_flight`` = in service) are
current. Times are float seconds.
"""

from __future__ import annotations

from typing import Any


class ComponentInstrumentation:
    """No-op base; the observability package subclasses it."""

    __slots__ = ()

    # QueuedResource / Server
    def arrived(self, entity: Any, event: Any, now_s: float) -> None:
        """A request arrived (already queued, started or counted as dropped)."""

    def dropped(self, entity: Any, event: Any, now_s: float) -> None:
        """A request was rejected because the queue was full (after ``arrived``)."""

    def started(self, entity: Any, event: Any, now_s: float, wait_s: float) -> None:
        """Service started; ``wait_s`` = start minus arrival at this entity."""

    def completed(self, entity: Any, event: Any, now_s: float, service_s: float) -> None:
        """Service ended; ``service_s`` = end minus start of service."""

    # Sink / LatencyTracker
    def received(self, entity: Any, event: Any, now_s: float, latency_s: float) -> None:
        """A request reached a sink; ``latency_s`` = now minus ``context['created_at']``."""

    # Source
    def generated(self, entity: Any, event: Any, now_s: float) -> None:
        """A source generated a request."""


__all__ = ["ComponentInstrumentation"]
