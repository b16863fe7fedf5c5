"""Trace recorders: the engine reports each processed event as a span record."""

from __future__ import annotations

from typing import Any


class TraceRecorder:
    """Interface: ``record(time_s, kind, **data)``."""

    def record(self, time_s: float, kind: str, **data: Any) -> None:
        raise NotImplementedError


class InMemoryTraceRecorder(TraceRecorder):
    """Keeps every record as a dict in ``spans`` (``time``, ``kind`` and the data fields)."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []

    def record(self, time_s: float, kind: str, **data: Any) -> None:
        rec = {"time": time_s, "kind": kind}
        rec.update(data)
        self.spans.append(rec)

    def filter(self, kind: str | None = None, **match: Any) -> list[dict[str, Any]]:
        out = self.spans if kind is None else [s for s in self.spans if s["kind"] == kind]
        for k, v in match.items():
            out = [s for s in out if s.get(k) == v]
        return out

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

    def record(self, time_s: float, kind: str, **data: Any) -> None:
        return None


__all__ = ["TraceRecorder", "InMemoryTraceRecorder", "NullTraceRecorder"]
