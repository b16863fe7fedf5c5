"""``TimeoutWrapper``: answers the caller after at most ``timeout`` seconds.

A request its target has not finished within ``timeout`` is answered at that instant
with a rejection (reason ``"timeout"``, so a `CircuitBreaker` or `Client` upstream counts
a failure) and ``on_timeout(request)`` may return events to schedule; the target's late
answer is then ignored. Observed: ``requests``, ``successes``, ``timeouts`` counters,
``latency`` sample (answered in time), one span per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from happysimulator.components.forwarding import (
    TargetWrapper,
    add_events,
    answer_rejected,
    forward,
    run_hooks,
)
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import counter, sample

TIMEOUT = "_tw_timeout"


@dataclass(frozen=True)
class TimeoutStats:
    """Snapshot of a timeout wrapper's counts."""

    total_requests: int = 0
    successful_requests: int = 0
    timed_out_requests: int = 0


class TimeoutWrapper(TargetWrapper):
    """Bounds the time ``target`` may take per request (see the module docstring)."""

    #: the attribute keys its spans carry (see its `record_span` calls)
    span_attributes = ("outcome",)
    observed_series = (
        counter("requests", "requests", "requests that arrived"),
        counter("successes", "requests", "requests answered within the timeout"),
        counter("timeouts", "requests", "requests answered by the timeout"),
        sample("latency", "s", "arrival to the target's answer, for requests in time"),
    )

    def __init__(self, name: str, target: Entity, timeout: float,
                 on_timeout: Callable[[Event], Event | list[Event] | None] | None = None,
                 ) -> None:
        super().__init__(name, target)
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        self._timeout = timeout
        self._on_timeout = on_timeout
        self._successful_requests = 0
        self._timed_out_requests = 0

    @property
    def timeout(self) -> float:
        return self._timeout

    @property
    def in_flight_count(self) -> int:
        return len(self._in_flight)

    @property
    def stats(self) -> TimeoutStats:
        return TimeoutStats(self._total_requests, self._successful_requests,
                            self._timed_out_requests)

    def handle_event(self, event: Event) -> Any:
        if event.event_type == TIMEOUT:
            return self._expired(event.context["metadata"]["request_id"])
        rid, p = self._track(event)
        p.timer = self._timer(self._timeout, TIMEOUT, rid)
        return [forward(self, event, self._target, lambda: self._answered(rid)), p.timer]

    def _answered(self, rid: int) -> list[Event] | None:
        p = self._in_flight.pop(rid, None)
        if p is None:
            return None  # too late: already answered by the timeout
        self._successful_requests += 1
        if self._recording() is not None:
            self.increment("successes")
            self.observe("latency", self.now.to_seconds() - p.start)
            self.record_span(p.event, p.start, span=p.span, outcome="ok")
        return run_hooks(self, p.hooks)

    def _expired(self, rid: int) -> list[Event] | None:
        p = self._in_flight.pop(rid, None)
        if p is None:
            return None
        self._timed_out_requests += 1
        if self._recording() is not None:
            self.increment("timeouts")
            self.record_span(p.event, p.start, span=p.span, outcome="timeout")
        out = answer_rejected(self, p.event, p.hooks, "timeout")
        if self._on_timeout is not None:
            add_events(out, self._on_timeout(p.event))
        return out


__all__ = ["TimeoutStats", "TimeoutWrapper"]
