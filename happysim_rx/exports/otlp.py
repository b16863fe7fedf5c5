"""Traces as OTLP JSON (an ``ExportTraceServiceRequest``), as Jaeger and the OpenTelemetry
Collector read it: hex trace/span ids, times in ``*UnixNano`` strings, one resource (a
``service.name``) per entity so that a trace view shows the hops between entities.

Simulated time ``t`` seconds becomes ``epoch_unix_nano + t * 1e9``; the default epoch 0
keeps files reproducible (give ``epoch_unix_nano=time.time_ns()`` to find the traces among
recent ones in a UI's time search).
"""

from __future__ import annotations

import os
from typing import Any

import msgspec

from happysim_rx.exports import _data
from happysim_rx.exports.ids import span_id_hex, trace_id_hex
from operators.simtime import ticks

__all__ = ["otlp_traces", "write_otlp_json"]

_SPAN_KIND_INTERNAL = 1
_SCOPE = {"name": "happysim-rx", "version": "0.1.0"}


def _any_value(v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}  # int64 is a string in proto3 JSON
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, list | tuple):
        return {"arrayValue": {"values": [_any_value(x) for x in v]}}
    return {"stringValue": str(v)}


def _attributes(d: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [{"key": str(k), "value": _any_value(v)} for k, v in (d or {}).items()
            if v is not None]


def _nanos(t: float, epoch: int) -> str:
    return str(epoch + ticks(t))


def otlp_traces(engine: Any, *, start: float | None = None, end: float | None = None,
                epoch_unix_nano: int = 0, service_prefix: str = "") -> dict[str, Any]:
    """The spans that start in [start, end) as an OTLP ``ExportTraceServiceRequest`` dict."""
    if isinstance(epoch_unix_nano, bool) or not isinstance(epoch_unix_nano, int) \
            or epoch_unix_nano < 0:
        raise ValueError(f"epoch_unix_nano must be a non-negative int, got {epoch_unix_nano!r}")
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for s in _data.spans(engine, start, end):
        span: dict[str, Any] = {
            "traceId": trace_id_hex(s.trace_id),
            "spanId": span_id_hex(s.span_id),
            "name": s.entity,
            "kind": _SPAN_KIND_INTERNAL,
            "startTimeUnixNano": _nanos(s.start, epoch_unix_nano),
            "endTimeUnixNano": _nanos(s.end, epoch_unix_nano),
            "attributes": _attributes({"happysim.entity": s.entity,
                                       "happysim.request_id": s.trace_id
                                       if isinstance(s.trace_id, int) else str(s.trace_id),
                                       **(s.attributes or {})}),
        }
        if s.parent_id is not None:
            span["parentSpanId"] = span_id_hex(s.parent_id)
        by_entity.setdefault(s.entity, []).append(span)
    return {"resourceSpans": [
        {"resource": {"attributes": _attributes({"service.name": f"{service_prefix}{entity}"})},
         "scopeSpans": [{"scope": dict(_SCOPE), "spans": spans}]}
        for entity, spans in by_entity.items()
    ]}


def write_otlp_json(engine: Any, path: str | os.PathLike[str], **kwargs: Any) -> int:
    """Write `otlp_traces` to `path`; returns the number of spans written."""
    doc = otlp_traces(engine, **kwargs)
    with open(path, "wb") as f:
        f.write(msgspec.json.encode(doc))
    return sum(len(r["scopeSpans"][0]["spans"]) for r in doc["resourceSpans"])
