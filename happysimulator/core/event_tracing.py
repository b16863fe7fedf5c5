"""Application-level event tracing (happysim 0.2.5): each handler appends its entity's name
to the request's ``context["stack"]`` and ``handle.start``/``handle.end`` records to
``context["trace"]["spans"]``.

Off by default and free when off: ``enable_event_tracing()`` makes simulations built
afterwards wrap their entities' handlers (a per-instance wrapper; the run loop is
unchanged). ``disable_event_tracing()`` affects simulations built afterwards.
"""

from __future__ import annotations

from typing import Any

_ENABLED = [False]
MAX_STACK_DEPTH = 50  # the stack keeps the most recent hops


def enable_event_tracing() -> None:
    _ENABLED[0] = True


def disable_event_tracing() -> None:
    _ENABLED[0] = False


def event_tracing_enabled() -> bool:
    return _ENABLED[0]


def _wrap(entity: Any) -> None:
    if getattr(entity, "_event_traced", False):
        return
    handle = entity.handle_event
    name = getattr(entity, "name", type(entity).__name__)

    def traced(event: Any) -> Any:
        ctx = event.context
        stack = ctx.setdefault("stack", [])
        if len(stack) >= MAX_STACK_DEPTH:
            del stack[: len(stack) - MAX_STACK_DEPTH + 1]
        stack.append(name)
        spans = ctx.setdefault("trace", {"spans": []})["spans"]
        spans.append({"time": event.time, "action": "handle.start", "event_id": ctx["id"],
                      "event_type": event.event_type, "data": {"handler_label": name}})
        try:
            result = handle(event)
        except Exception as exc:
            spans.append({"time": event.time, "action": "handle.error",
                          "event_id": ctx["id"], "event_type": event.event_type,
                          "data": {"error": type(exc).__name__, "message": str(exc)}})
            raise
        kind = "process" if hasattr(result, "send") else "immediate"
        spans.append({"time": event.time, "action": "handle.end", "event_id": ctx["id"],
                      "event_type": event.event_type, "data": {"result_kind": kind}})
        return result

    entity.handle_event = traced
    entity._event_traced = True


def install(sim: Any) -> None:
    """Wrap the handlers of ``sim``'s entities and sources (when tracing is enabled)."""
    if not _ENABLED[0]:
        return
    for e in list(sim.entities) + list(sim.sources):
        _wrap(e)


__all__ = ["disable_event_tracing", "enable_event_tracing", "event_tracing_enabled"]
