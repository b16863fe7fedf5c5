"""``Fallback``: sends a request to ``primary``; if that fails, to ``fallback``.

The primary fails when it refuses the request (a downstream rejection), when
``failure_predicate(request)`` is true after its answer, or when it has not answered
within ``timeout`` seconds (if set). ``fallback`` is an entity (the request is passed to
it) or a function ``fallback(request) -> events | None``. The caller is answered once:
by the primary's success, else when the fallback finishes. Observed: ``requests``,
``primary_successes``, ``primary_failures``, ``fallbacks`` counters, one span per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from happysimulator.components.forwarding import (
    REJECTED,
    Pending,
    RequestWrapper,
    add_events,
    forward,
    rejection,
    run_hooks,
)
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import _OPEN_SPAN, counter

TIMEOUT = "_fb_timeout"


@dataclass(frozen=True)
class FallbackStats:
    """Snapshot of a fallback's counts."""

    total_requests: int = 0
    primary_successes: int = 0
    primary_failures: int = 0
    fallback_invocations: int = 0
    fallback_successes: int = 0
    fallback_failures: int = 0


class _Pending(Pending):
    __slots__ = ("state",)

    def __init__(self, event: Event, hooks: list | None, start: float) -> None:
        super().__init__(event, hooks, start)
        self.state = "primary"  # then "fallback"


class Fallback(RequestWrapper):
    """Primary first, fallback on its failure (see the module docstring)."""

    #: the attribute keys its spans carry (see its `record_span` calls)
    span_attributes = ("served_by",)
    observed_series = (
        counter("requests", "requests", "requests that arrived"),
        counter("primary_successes", "requests", "requests the primary answered"),
        counter("primary_failures", "requests", "requests the primary failed",
                tags=("reason",)),
        counter("fallbacks", "requests", "requests sent to the fallback"),
    )
    downstream_attributes = ("primary", "fallback")

    def __init__(self, name: str, primary: Entity,
                 fallback: Entity | Callable[[Event], Event | list[Event] | None],
                 failure_predicate: Callable[[Event], bool] | None = None,
                 timeout: float | None = None) -> None:
        super().__init__(name)
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds or None, got {timeout}")
        self._primary = primary
        self._fallback = fallback
        self._failure_predicate = failure_predicate
        self._timeout = timeout
        self._primary_successes = 0
        self._primary_failures = 0
        self._fallback_invocations = 0
        self._fallback_successes = 0
        self._fallback_failures = 0

    @property
    def primary(self) -> Entity:
        return self._primary

    @property
    def fallback(self) -> Entity | Callable[[Event], Any]:
        return self._fallback

    @property
    def timeout(self) -> float | None:
        return self._timeout

    @property
    def stats(self) -> FallbackStats:
        return FallbackStats(self._total_requests, self._primary_successes,
                             self._primary_failures, self._fallback_invocations,
                             self._fallback_successes, self._fallback_failures)

    def downstream_entities(self) -> list[Entity]:
        out = [self._primary]
        if isinstance(self._fallback, Entity):
            out.append(self._fallback)
        return out

    def set_clock(self, sim: Any) -> None:
        super().set_clock(sim)
        self._primary.set_clock(sim)
        if isinstance(self._fallback, Entity):
            self._fallback.set_clock(sim)

    def handle_event(self, event: Event) -> Any:
        if event.event_type == TIMEOUT:
            rid = event.context["metadata"]["request_id"]
            p = self._in_flight.get(rid)
            if p is None or p.state != "primary":
                return None
            return self._primary_failed(rid, p, "timeout")
        rid, p = self._track(event, _Pending)
        out = [forward(self, event, self._primary, lambda: self._primary_answered(rid))]
        if self._timeout is not None:
            p.timer = self._timer(self._timeout, TIMEOUT, rid)
            out.append(p.timer)
        return out

    def _primary_answered(self, rid: int) -> list[Event] | None:
        p = self._in_flight.get(rid)
        if p is None or p.state != "primary":
            return None
        refused = rejection(p.event)
        if refused is not None:
            return self._primary_failed(rid, p, refused[1])
        if self._failure_predicate is not None and self._failure_predicate(p.event):
            return self._primary_failed(rid, p, "predicate")
        del self._in_flight[rid]
        self._primary_successes += 1
        self.increment("primary_successes")
        self.record_span(p.event, p.start, span=p.span, served_by="primary")
        return run_hooks(self, p.hooks)

    def _primary_failed(self, rid: int, p: _Pending, reason: str) -> list[Event]:
        self._primary_failures += 1
        self._fallback_invocations += 1
        self.increment("primary_failures", reason=reason)
        self.increment("fallbacks")
        p.state = "fallback"
        # the fallback's answer is the caller's answer: forget the primary's refusal
        p.event.context["metadata"].pop(REJECTED, None)
        if p.span is not None:  # the fallback's hop is ours too, not the primary's
            p.event.context[_OPEN_SPAN] = p.span[0]
        fb = self._fallback
        if not isinstance(fb, Entity):
            del self._in_flight[rid]
            res = fb(p.event)
            self._fallback_successes += 1
            self.record_span(p.event, p.start, span=p.span, served_by="fallback")
            return add_events(run_hooks(self, p.hooks), res)
        return [forward(self, p.event, fb, lambda: self._fallback_answered(rid))]

    def _fallback_answered(self, rid: int) -> list[Event] | None:
        p = self._in_flight.pop(rid, None)
        if p is None:
            return None
        if rejection(p.event) is None:
            self._fallback_successes += 1
        else:
            self._fallback_failures += 1
        self.record_span(p.event, p.start, span=p.span, served_by="fallback")
        return run_hooks(self, p.hooks)


__all__ = ["Fallback", "FallbackStats"]
