"""Events: the unit of work on the simulation heap."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from happysimulator.core._active import ACTIVE, detached_id
from happysimulator.core.temporal import HORIZON_NS, Instant, _inst, past_horizon, to_ns
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion

_INF = float("inf")

if TYPE_CHECKING:
    from happysimulator.core.entity import Entity

CompletionHook = Callable[[Instant], Any]


class _Extra:
    """Rare per-event flags, kept off the common path (``Event._x is None`` for plain events)."""

    __slots__ = ("daemon", "on_complete", "cancelled")

    def __init__(self) -> None:
        self.daemon = False
        self.on_complete: list[CompletionHook] | None = None
        self.cancelled = False


class Event:
    """Something that happens to ``target`` at ``time``.

    ``context`` is created lazily on first access as ``{"id", "created_at", "metadata"}``;
    ``id`` comes from the owning simulation's counter and ``created_at`` is the event's time.
    A forwarded event shares the context (same id) of the request it continues.
    """

    # `_id`: the context id a traced `Source` drew for its request when it made it (its
    # trace id, in creation order), before any context dict exists; None, or unset
    # (events made with ``object.__new__``), if none was drawn; read only in a
    # simulation whose ``_ids_in_events`` is set. (A sixth slot costs no memory: objects
    # are allocated in 16-byte steps.)
    __slots__ = ("_time_ns", "event_type", "target", "_ctx", "_x", "_id")

    def __init__(
        self,
        time: Instant | float,
        event_type: str,
        target: Entity | None = None,
        *,
        daemon: bool = False,
        on_complete: CompletionHook | list[CompletionHook] | None = None,
        context: dict | None = None,
    ) -> None:
        t = self._time_ns = time._ns if time.__class__ is Instant else to_ns(time)
        if t > HORIZON_NS and t != _INF:  # (past it, the loop would never reach it)
            raise past_horizon(t)
        self.event_type = event_type
        self.target = target
        self._ctx = None
        self._x = None
        self._id = None
        if daemon or on_complete is not None:
            x = self._x = _Extra()
            x.daemon = bool(daemon)
            if on_complete is not None:
                x.on_complete = (
                    list(on_complete) if isinstance(on_complete, list) else [on_complete]
                )
        if context is not None:
            self.context = context

    # ---- time ---------------------------------------------------------------------------
    @property
    def time(self) -> Instant:
        return _inst(self._time_ns)

    @time.setter
    def time(self, value: Instant | float) -> None:
        t = to_ns(value)
        if t > HORIZON_NS and t != _INF:
            raise past_horizon(t)
        self._time_ns = t

    # ---- flags --------------------------------------------------------------------------
    @property
    def daemon(self) -> bool:
        x = self._x
        return x is not None and x.daemon

    @property
    def on_complete(self) -> list[CompletionHook]:
        x = self._x
        if x is None:
            x = self._x = _Extra()
        if x.on_complete is None:
            x.on_complete = []
        return x.on_complete

    def add_completion_hook(self, hook: CompletionHook) -> None:
        """Call ``hook(finish_time)`` when this event's processing completes."""
        self.on_complete.append(hook)

    @property
    def cancelled(self) -> bool:
        x = self._x
        return x is not None and x.cancelled

    def cancel(self) -> None:
        """Mark the event cancelled: it is skipped (not processed) when its time comes."""
        x = self._x
        if x is None:
            x = self._x = _Extra()
        x.cancelled = True

    # ---- context ------------------------------------------------------------------------
    @property
    def context(self) -> dict:
        c = self._ctx
        if c.__class__ is dict:
            if PARTIAL in c:  # (`_complete` inline: a traced source's requests carry one)
                created = _new(Instant)
                created._ns = c.pop(PARTIAL)
                c.setdefault("created_at", created)
                c.setdefault("metadata", {})
            return c
        if c is None:
            c = self._ctx = {
                "id": self._new_id(),
                "created_at": _inst(self._time_ns),
                "metadata": {},
            }
            return c
        # linked to the root event of the request (`c`): its context, made if need be
        # (inline: user models read a forwarded request's context once per request)
        rc = c._ctx
        if rc is None:  # (the root's context made here: the common case, inline)
            sim = ACTIVE.sim  # (`_new_id` and `_inst` inline)
            created = _new(Instant)
            created._ns = c._time_ns
            if sim is None:
                cid = c._new_id()
            elif not sim._ids_in_events:
                cid = next(sim.context_ids)
            elif c.__class__ is Event:
                # (`_new_id` inline: a traced source's request has its id already)
                try:
                    cid = c._id
                except AttributeError:
                    cid = None
                if cid is None:
                    cid = sim._next_context_id()
            else:
                cid = c._new_id()
            rc = c._ctx = {
                "id": cid,
                "created_at": created,
                "metadata": {},
            }
        elif rc.__class__ is not dict:
            rc = c.context
        elif PARTIAL in rc:  # (`_complete` inline: a traced source's requests carry one)
            created = _new(Instant)
            created._ns = rc.pop(PARTIAL)
            if "created_at" not in rc:  # (`setdefault` written out: a cheaper test)
                rc["created_at"] = created
            if "metadata" not in rc:
                rc["metadata"] = {}
        self._ctx = rc
        return rc

    @context.setter
    def context(self, value: dict) -> None:
        if not isinstance(value, dict):
            raise TypeError("context must be a dict")
        if "id" not in value:
            value["id"] = self._new_id()
        value.setdefault("created_at", _inst(self._time_ns))
        value.setdefault("metadata", {})
        self._ctx = value

    def _new_id(self) -> int:
        """The id of a context made for this event: the one a traced source drew when it
        made it, else the next of the simulation's."""
        sim = ACTIVE.sim
        if sim is None:
            sim = getattr(self.target, "_sim", None)
        if sim is None:
            return detached_id()
        # (read only there: an unset slot raises; an entity's clock may be an
        # `ExternalClock`, which draws ids but keeps none in events)
        if getattr(sim, "_ids_in_events", False):
            try:
                cid = self._id
            except AttributeError:
                cid = None
            if cid is not None:
                return cid
        return sim._next_context_id()

    def _created_ns(self) -> int:
        """Nanoseconds of ``context["created_at"]`` without materializing the context."""
        c = self._ctx
        if c is None:
            return self._time_ns
        if c.__class__ is dict:
            ca = c.get("created_at")
            if ca is None:
                return c.get(PARTIAL, self._time_ns)
            return to_ns(ca)
        return c._created_ns()

    def _link_context(self, origin: Event) -> None:
        """Share ``origin``'s (possibly not yet created) context."""
        c = origin._ctx
        self._ctx = origin if c is None else c

    def add_context(self, key: str, value: Any) -> None:
        """Set ``context["metadata"][key]`` (shared by the events that continue this
        request)."""
        ctx = self.context
        meta = ctx.get("metadata")
        if meta is None:
            meta = ctx["metadata"] = {}
        meta[key] = value

    def get_context(self, key: str, default: Any = None) -> Any:
        """``context["metadata"][key]``, or ``default`` if it is not set."""
        meta = self.context.get("metadata")
        return default if meta is None else meta.get(key, default)

    # ---- helpers ------------------------------------------------------------------------
    @classmethod
    def once(
        cls,
        time: Instant | float,
        event_type: str,
        fn: Callable[[Event], Any],
        *,
        daemon: bool = False,
        context: dict | None = None,
    ) -> Event:
        """An event that calls ``fn(event)`` at ``time`` (its return value is scheduled)."""
        from happysimulator.core.callback_entity import CallbackEntity

        target = CallbackEntity(f"once:{event_type}", fn)
        return cls(time, event_type, target, daemon=daemon, context=context)

    def invoke(self) -> list[Event]:
        """Run this event's handler now, outside the run loop, and return the events it
        produced, then its completion hooks' (which are cleared). A generator handler is
        run to its first yield only, as the loop would start it; its continuation is not
        returned. For unit tests of handlers."""
        res = self.target.handle_event(self)
        out = _as_events(res) if not hasattr(res, "send") else _first_step(res)
        if hasattr(res, "send"):
            return out  # hooks run when a process finishes, which this does not drive
        x = self._x
        if x is not None and x.on_complete:
            hooks, x.on_complete = x.on_complete, None
            for h in hooks:
                out.extend(_as_events(h(self.time)))
        return out

    def __lt__(self, other: Event) -> bool:
        return self._time_ns < other._time_ns

    def __repr__(self) -> str:
        tname = getattr(self.target, "name", None) or type(self.target).__name__
        return f"Event({self._time_ns / _NS!r}s, {self.event_type!r}, target={tname!r})"


def _as_events(res: object) -> list[Event]:
    if res is None:
        return []
    if isinstance(res, Event):
        return [res]
    if isinstance(res, (list, tuple)):
        return list(res)
    raise TypeError(f"handler returned {type(res).__name__}; expected events or None")


def _first_step(gen: object) -> list[Event]:
    try:
        first = gen.send(None)  # type: ignore[attr-defined]
    except StopIteration as stop:
        return _as_events(stop.value)
    if isinstance(first, tuple) and len(first) == 2:
        return _as_events(first[1])
    return []


class _Kind(type):
    """Metaclass of the internal event kinds that share one class, `Wakeup`:
    ``isinstance(e, K)`` is also true for a `Wakeup` whose ``kind`` is ``K`` (or a
    subclass of it). So a source's tick answers ``isinstance(e, SourceTick)``, and a
    resource's generator resume ``isinstance(e, ProcessContinuation)``, as before."""

    def __instancecheck__(cls, obj: object) -> bool:
        if obj.__class__ is Wakeup:
            return issubclass(obj.kind, cls)  # type: ignore[attr-defined]
        return type.__instancecheck__(cls, obj)


class ProcessContinuation(Event, metaclass=_Kind):
    """The event that resumes a generator handler after a ``yield`` (its target is the
    running process; cancel it to abandon the rest of the process)."""

    __slots__ = ()


class Wakeup(Event):
    """The one class of the engine's internal events: a source's next arrival, a
    server's service completion, a resource's generator resume. ``kind`` is the class
    the event stands for (``SourceTick``, ``ServiceDone``, `ProcessContinuation`:
    ``isinstance`` answers by it, see `_Kind`); ``request``, ``start_ns`` and ``arr_ns``
    are a completion's payload.

    Why one class: the run loop reads ``_x`` and ``target`` of every event it pops, and
    CPython 3.11 specializes such a read for one class per site; ticks and completions
    of two classes alternating there cost ~500 instructions per customer
    (benchmarks/results/2026-12-08-s12-usr4-*.txt)."""

    __slots__ = ("kind", "request", "start_ns", "arr_ns")

    def _new_id(self) -> int:
        """An internal event is no request: its own context (made only when something
        looks at it, e.g. an observer stepping the run) takes an id apart from requests'
        ids, so looking never shifts the trace id of a later request."""
        sim = getattr(self.target, "_sim", None)
        return detached_id() if sim is None else next(sim.internal_context_ids)


def new_event(time_ns: int, event_type: str, target: Any, origin: Event | None = None) -> Event:
    """Fast internal constructor (no validation); links context to ``origin`` if given."""
    e = _new(Event)
    e._time_ns = time_ns
    e.event_type = event_type
    e.target = target
    if origin is None:
        e._ctx = None
    else:
        c = origin._ctx
        e._ctx = origin if c is None else c
    e._x = None
    return e


_new = object.__new__

# A *partial* context: ``{"id": n, PARTIAL: created_ns}``, made by instrumented sources
# (a request's id is fixed when it is created, for its trace) at a third of the cost of a
# full one. `Event.context` completes it in place, so it is never seen partial.
PARTIAL = "_created_ns"  # (internal) key of a partial context's creation time


def partial_context(context_id: int, created_ns: int) -> dict:
    """A context holding only ``id`` and the creation time (completed on first access)."""
    return {"id": context_id, PARTIAL: created_ns}


def _complete(c: dict) -> None:
    c.setdefault("created_at", _inst(c.pop(PARTIAL)))
    c.setdefault("metadata", {})


# re-exported here, where happysim 0.2.5 had them
from happysimulator.core.event_tracing import (  # noqa: E402
    disable_event_tracing,
    enable_event_tracing,
)

__all__ = ["Event", "CompletionHook", "ProcessContinuation", "Wakeup", "disable_event_tracing",
           "enable_event_tracing", "new_event"]
