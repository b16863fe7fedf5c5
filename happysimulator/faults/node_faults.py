"""Node faults: ``CrashNode`` (the node loses what it holds and what reaches it) and
``PauseNode`` (the node stops; what reaches it waits and is handled on resume).

Both work on any `Entity`: while it is down, its ``handle_event`` is replaced on the
instance (the loop dispatches through it), so nothing in the engine checks a flag per
event. A `Server` / `QueuedResource` is taken down whole: a crash discards its waiting
requests (they count as its drops) and loses the results of those in service (none of
their senders is answered; a `Server`'s end at the crash, as its drops too, and none
completes); a pause also holds its service completions until it resumes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from happysimulator.components.forwarding import take_hooks
from happysimulator.core.event import partial_context
from happysimulator.faults.fault import _check_window

if TYPE_CHECKING:
    from happysimulator.core.entity import Entity
    from happysimulator.core.event import Event
    from happysimulator.faults.fault import FaultContext

_MISSING = object()


class _Outage:
    """One entity taken down (crash or pause) and brought back."""

    def __init__(self, entity: Entity, schedule: Any, crash: bool) -> None:
        self.entity = entity
        self.schedule = schedule
        self.crash = crash
        self.held: list[tuple[Event, list | None]] = []
        self.saved: list[tuple[Any, str, Any]] = []

    def _swap(self, obj: Any, handler: Callable[[Event], Any]) -> None:
        prev = obj.__dict__.get("handle_event", _MISSING) if hasattr(obj, "__dict__") else (
            obj.handle_event)
        self.saved.append((obj, "handle_event", prev))
        obj.handle_event = handler

    def down(self) -> None:
        entity = self.entity
        entity._crashed = True  # (happysim 0.2.5's flag, for models that read it)
        self._swap(entity, self._lose if self.crash else self._hold)
        port = getattr(entity, "done_port", None)
        if port is not None and callable(getattr(port, "handle_event", None)):
            complete = port.handle_event
            if self.crash:
                self._abort_in_service(entity, port)
                # in service at the crash: the work ends, its result is lost
                self._swap(port, lambda ce: complete(ce) and None)
            else:
                self._swap(port, self._hold)
        if self.crash and isinstance(getattr(entity, "_hooks", None), dict):
            # the requests it holds (waiting or in service) are never answered: their
            # senders learn of the crash by their own timeouts, as 0.2.5's do
            entity._hooks.clear()
        if self.crash and hasattr(entity, "_removed") and hasattr(entity, "_queue"):
            self._discard_waiting(entity)

    def _abort_in_service(self, server: Any, port: Any) -> None:
        """The requests a `Server` serves at the crash: their service ends now and their
        results are lost: drops of the server (as its waiting requests are), their
        completions cancelled (none completes while it is down, nor after it restarts)
        and their slots freed. Found among the pending events (a crash is rare)."""
        sim = server._sim
        engine = getattr(sim, "engine", None)
        entries = getattr(engine, "_entries", None)
        if not entries:
            return
        pending = sorted((ev for _, _, _, ev in entries
                          if getattr(ev, "target", None) is port and not ev.cancelled),
                         key=lambda ev: ev._time_ns)
        if not pending:
            return
        i = server._instr
        if i is not None and i.reconfigured is not None:
            i.reconfigured()  # facts derived up to now; from here on, facts
        now = sim.now_ns
        for ce in pending:
            ce.cancel()
            if server._own_count:
                server._in_service -= 1
            else:
                server.in_flight -= 1
            server.dropped += 1
            server.busy_ns += now - ce.start_ns
            if i is not None and hasattr(i, "aborting"):
                i.aborting(now, ce.request, ce.arr_ns)

    def _discard_waiting(self, resource: Any) -> None:
        i = resource._instr
        if i is not None and i.reconfigured is not None:
            i.reconfigured()  # derived facts up to now; from here on, facts
        q = resource._queue
        while len(q):
            item = q.pop()
            if item is None:
                break
            resource._removed(*item)

    def up(self, now_event: Event) -> None:
        for obj, attr, prev in reversed(self.saved):
            if prev is _MISSING:
                del obj.__dict__[attr]
            else:
                setattr(obj, attr, prev)
        self.saved.clear()
        self.entity._crashed = False
        held, self.held = self.held, []
        sim = self.entity._sim
        now = now_event._time_ns
        for ev, hooks in held:  # delivered now, in the order they arrived
            if ev._ctx is None:
                # an untouched request's creation time is its event's time, which changes
                # now: kept in a partial context (with its id: drawn now, or the one a
                # traced source drew), so its latency still counts the pause
                ev._ctx = partial_context(ev._new_id(), ev._time_ns)
            ev._time_ns = now
            if hooks:  # the sender is answered when the event is handled, not before
                ev.on_complete.extend(hooks)
            sim.schedule(ev)

    def _lose(self, event: Event) -> None:
        # Nobody answers a lost event: its completion hooks (how a sender such as a
        # `Client` or a health probe learns of an answer) never run, as in 0.2.5.
        take_hooks(event)
        if self.schedule is not None:
            self.schedule.increment("lost", entity=self.entity.name)

    def _hold(self, event: Event) -> None:
        self.held.append((event, take_hooks(event)))
        if self.schedule is not None:
            self.schedule.increment("held", entity=self.entity.name)


@dataclass(frozen=True)
class CrashNode:
    """Crash ``entity_name`` at ``at`` seconds; restart at ``restart_at`` (None: never).

    While crashed every event addressed to the entity is lost (the schedule's ``lost``
    counter). A crashed `Server` / `QueuedResource` also discards its waiting requests
    (as its drops) and loses the results of those in service: a `Server`'s end at the
    crash, as drops too (none completes); a custom service's run on unanswered.
    Restarted, it starts empty.
    """

    entity_name: str
    at: float
    restart_at: float | None = None

    def __post_init__(self) -> None:
        _check_window(self.at, self.restart_at, "restart_at")

    def generate_events(self, ctx: FaultContext) -> list[Event]:
        outage = _Outage(ctx.entity(self.entity_name), ctx.schedule, crash=True)
        return ctx.window(self, self.entity_name, self.at, self.restart_at,
                          lambda e: outage.down(), outage.up, "crash")


@dataclass(frozen=True)
class PauseNode:
    """Pause ``entity_name`` from ``start`` to ``end`` seconds (a stop-the-world pause):
    events addressed to it meanwhile wait and are handled at ``end``, in order; a
    paused `Server`'s service completions wait too."""

    entity_name: str
    start: float
    end: float

    def __post_init__(self) -> None:
        _check_window(self.start, self.end)

    def generate_events(self, ctx: FaultContext) -> list[Event]:
        outage = _Outage(ctx.entity(self.entity_name), ctx.schedule, crash=False)
        return ctx.window(self, self.entity_name, self.start, self.end,
                          lambda e: outage.down(), outage.up, "pause")


__all__ = ["CrashNode", "PauseNode"]
