"""Answers as plain JSON: sizes in bytes, events as `EventInfo`, odd values made plain."""

from __future__ import annotations

import math
from typing import Any

import msgspec

from happysimulator.observability.protocol import messages as m


def _size(obj: Any) -> int:
    return len(msgspec.json.encode(obj))


def _event_info(ev: Any) -> m.EventInfo:
    target = ev.target
    return m.EventInfo(time=ev.time.to_seconds(), event_type=str(ev.event_type),
                       target=getattr(target, "name", None) or type(target).__name__,
                       request_id=_request_id(ev))


def _request_id(ev: Any) -> int | None:
    """The id of the request `ev` carries, read without creating a context (that would
    draw an id from the simulation and change the run): its context's id, following the
    link an engine event keeps to its request (a traced source's request without a
    context yet: the id it drew, in its ``_id``)."""
    root, c = ev, getattr(ev, "_ctx", None)
    for _ in range(64):  # links are short; bounded all the same
        if c is None or isinstance(c, dict):
            break
        root, c = c, getattr(c, "_ctx", None)
    rid = c.get("id") if isinstance(c, dict) else getattr(root, "_id", None)
    return rid if isinstance(rid, int) and not isinstance(rid, bool) else None


def _glob_escape(s: str) -> str:
    import glob

    return glob.escape(s)


def _jsonable(obj: Any) -> Any:
    """Plain JSON types (NaN/inf -> None; numpy scalars and odd objects made plain)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if obj is None or isinstance(obj, str | int | bool):
        return obj
    if hasattr(obj, "item"):
        return _jsonable(obj.item())
    if hasattr(obj, "to_dict"):
        return _jsonable(obj.to_dict())
    if isinstance(obj, msgspec.Struct):
        return _jsonable(msgspec.to_builtins(obj))
    return repr(obj)
