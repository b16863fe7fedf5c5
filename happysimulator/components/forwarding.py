"""How a component that stands between a caller and a target passes a request on and
answers it.

A caller learns that its request was answered through the request event's completion
hooks (that is how `Client` sees a response). A wrapper (circuit breaker, bulkhead, load
balancer, ...) therefore *takes* the caller's hooks off the incoming event and runs them
when the request is really answered: when its target finished it, or at once when the
wrapper refuses it. A refusal is marked on the request's context, so the caller can tell
an answer from a rejection::

    hooks = take_hooks(event)
    if self.is_open:
        return answer_rejected(self, event, hooks, "circuit_open")   # caller answered now
    return forward(self, event, self.target, lambda: self._done(event, hooks))

(0.2.5 copied the hooks *and* let them run at the wrapper, so callers saw every request
answered the instant it was passed on, and refused ones as successes.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from happysimulator.core.entity import Entity, bind_simulation
from happysimulator.core.event import Event, new_event
from happysimulator.core.observed import ObservedEntity
from happysimulator.core.temporal import Duration, _inst

#: metadata key of a refusal: ``(entity name, reason)``
REJECTED = "_rejected"


class RejectedError(Exception):
    """A request was refused by ``by`` for ``reason`` (what a `Client`'s retry policy is
    asked about)."""

    def __init__(self, by: str, reason: str) -> None:
        super().__init__(f"{by}: {reason}")
        self.by = by
        self.reason = reason


def take_hooks(event: Event) -> list | None:
    """Remove and return ``event``'s completion hooks (None if it has none)."""
    x = event._x
    if x is None or not x.on_complete:
        return None
    hooks, x.on_complete = x.on_complete, None
    return hooks


def run_hooks(entity: Entity, hooks: list | None) -> list[Event]:
    """Answer the caller now: call ``hooks`` with the current time; the events they
    return."""
    if not hooks:
        return []
    sim = entity._sim or bind_simulation(entity)
    now = _inst(sim.now_ns)
    out: list[Event] = []
    for hook in hooks:
        res = hook(now)
        if res is None:
            continue
        if isinstance(res, Event):
            out.append(res)
        else:
            out.extend(res)
    return out


def forward(entity: Entity, event: Event, target: Entity,
            on_answer: Callable[[], Any] | None = None,
            event_type: str | None = None, at_ns: int | None = None) -> Event:
    """A new event delivering ``event`` to ``target`` now (or at ``at_ns``; same context,
    so the same trace); ``on_answer()`` runs when ``target`` has finished it (its return
    value, events or None, is scheduled)."""
    if at_ns is None:
        at_ns = (entity._sim or bind_simulation(entity)).now_ns
    out = new_event(at_ns, event.event_type if event_type is None else event_type,
                    target, event)
    if on_answer is not None:
        out.add_completion_hook(lambda _t: on_answer())
    return out


def mark_rejected(event: Event, by: str, reason: str) -> None:
    """Mark ``event``'s request as refused by ``by`` for ``reason``."""
    event.context["metadata"][REJECTED] = (by, reason)


def answer_rejected(entity: Entity, event: Event, hooks: list | None,
                    reason: str) -> list[Event]:
    """Refuse ``event`` at ``entity``: mark it and answer the caller now."""
    mark_rejected(event, entity.name, reason)
    return run_hooks(entity, hooks)


def rejection(event: Event) -> tuple[str, str] | None:
    """``(entity, reason)`` if ``event``'s request was refused on its way, else None."""
    c = event._ctx
    if c is None:
        return None
    if c.__class__ is not dict:
        c = event.context
    meta = c.get("metadata")
    return None if meta is None else meta.get(REJECTED)




class Pending:
    """A request a wrapper has passed on and not answered yet: the caller's hooks, when
    it arrived (s), the wrapper's open span, and its timer for the request (if any)."""

    __slots__ = ("event", "hooks", "start", "span", "timer")

    def __init__(self, event: Event, hooks: list | None, start: float) -> None:
        self.event, self.hooks, self.start = event, hooks, start
        self.span: Any = None
        self.timer: Event | None = None


def add_events(out: list[Event], res: Event | list[Event] | None) -> list[Event]:
    """``out`` with what a user callback returned (an event, events or None) added."""
    if isinstance(res, Event):
        out.append(res)
    elif res:
        out.extend(res)
    return out


class RequestWrapper(ObservedEntity):
    """A component that takes a caller's request, passes it on and answers the caller
    once, later (a timeout, a hedge, a fallback). It counts arrivals (``requests``) and
    keeps the requests it has not answered by id in ``_in_flight``."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._total_requests = 0
        self._next_request_id = 0
        self._in_flight: dict[int, Any] = {}

    def _arrived(self) -> None:
        self._total_requests += 1
        self.increment("requests")

    def _track(self, event: Event, pending: type[Pending] = Pending) -> tuple[int, Any]:
        """Count ``event``'s arrival, take its caller's hooks, open its span:
        ``(request id, its pending record)``."""
        self._arrived()
        self._next_request_id += 1
        rid = self._next_request_id
        p = self._in_flight[rid] = pending(event, take_hooks(event), self.now.to_seconds())
        p.span = self.open_span(event)
        return rid, p

    def _timer(self, delay: float, event_type: str, rid: int, **metadata: Any) -> Event:
        """An event to this wrapper ``delay`` seconds from now about request ``rid``."""
        return Event(self.now + Duration.from_seconds(delay), event_type, self,
                     context={"metadata": {"request_id": rid, **metadata}})


class TargetWrapper(RequestWrapper):
    """A component standing in front of one target entity (a breaker, a bulkhead, a
    timeout, a hedge): the target is its downstream and runs on its clock."""

    downstream_attributes = ("target",)

    def __init__(self, name: str, target: Entity) -> None:
        super().__init__(name)
        self._target = target

    @property
    def target(self) -> Entity:
        return self._target

    def downstream_entities(self) -> list[Entity]:
        return [self._target]

    def set_clock(self, sim: Any) -> None:
        super().set_clock(sim)
        self._target.set_clock(sim)


__all__ = ["REJECTED", "Pending", "RejectedError", "RequestWrapper", "TargetWrapper",
           "add_events", "answer_rejected", "forward", "mark_rejected", "rejection",
           "run_hooks", "take_hooks"]
