"""What every part of the debugger's worker uses: the error reply and "just past now"."""

from __future__ import annotations

from typing import Any

# the end of a range that counts the values in effect at now: the next float after now,
# the query layer's own rule (now + 1e-9 is now itself past ~1.7e7 s)
from operators.simtime import just_after as _past_now  # noqa: F401 - for the worker


def _err(kind: str, message: str, valid: list[str] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"kind": kind, "message": message}
    if valid is not None:
        error["valid"] = valid
    return {"ok": False, "error": error}


def span_flows(query: Any, now: float, limit: int) -> dict[tuple[str, str], int]:
    """Requests seen passing from one entity to the next (parent span -> child span of
    another entity) in the last 60 simulated seconds, counted per edge; `query` is the
    debugger's protocol query function."""
    spans = query({"kind": "spans", "start": max(0.0, now - 60.0),
                   "end": _past_now(now), "limit": limit})
    edges: dict[tuple[str, str], int] = {}
    if spans.get("ok"):
        rows = spans["result"]["rows"]
        entity_of = {r["span_id"]: r["entity"] for r in rows}
        for r in rows:
            parent = entity_of.get(r.get("parent_id"))
            if parent is not None and parent != r["entity"]:
                edges[(parent, r["entity"])] = edges.get((parent, r["entity"]), 0) + 1
    return edges
