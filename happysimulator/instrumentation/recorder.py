"""Trace recorders: the engine reports each processed event as a span record."""

from __future__ import annotations

from typing import Any


class TraceRecorder:
    """Interface: ``record(time, kind, event_id=None, event_type=None, **data)``."""

    def record(self, time: Any, kind: str, event_id: Any = None, event_type: str | None = None,
               **data: Any) -> None:
        raise NotImplementedError


class InMemoryTraceRecorder(TraceRecorder):
    """Keeps every record in ``spans`` as ``{"time", "kind", "event_id", "event_type",
    "data": {...}}`` (the happysim 0.2.5 shape; the engine's times are float seconds)."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []

    def record(self, time: Any, kind: str, event_id: Any = None, event_type: str | None = None,
               **data: Any) -> None:
        self.spans.append({"time": time, "kind": kind, "event_id": event_id,
                           "event_type": event_type, "data": data})

    def filter(self, kind: str | None = None, **match: Any) -> list[dict[str, Any]]:
        """Spans of ``kind`` whose fields (or data fields) equal ``match``."""
        out = self.spans if kind is None else [s for s in self.spans if s["kind"] == kind]
        for k, v in match.items():
            out = [s for s in out if (s[k] if k in s else s["data"].get(k)) == v]
        return out

    def filter_by_kind(self, kind: str) -> list[dict[str, Any]]:
        return [s for s in self.spans if s["kind"] == kind]

    def filter_by_event(self, event_id: Any) -> list[dict[str, Any]]:
        return [s for s in self.spans if s["event_id"] == event_id]

    def clear(self) -> None:
        self.spans.clear()

    def __len__(self) -> int:
        return len(self.spans)


class NullTraceRecorder(TraceRecorder):
    """Records nothing (the simulation treats it as no recorder: zero cost)."""

    _is_null = True

    @property
    def spans(self) -> list[dict[str, Any]]:
        return []

    def record(self, time: Any, kind: str, event_id: Any = None, event_type: str | None = None,
               **data: Any) -> None:
        return None


__all__ = ["TraceRecorder", "InMemoryTraceRecorder", "NullTraceRecorder"]
