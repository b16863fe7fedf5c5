"""Descriptions for the schema fields whose type annotation carries none, so every field
of every request and response is described for a reader with no other docs (a test
holds it). Keyed by ``Struct.field`` first, then by the field name alone."""

from __future__ import annotations

from typing import Any

FIELDS: dict[str, str] = {
    "ok": "true when the operation succeeded (false: see error)",
    "protocol": "the protocol version",
    "ops": "every operation by name",
    "errors": "the error kinds and what each means",
    "error_schema": "the JSON Schema of a failed answer",
    "notes": "how the protocol works, in short",
    "summary": "what the operation does",
    "model": "which model the session runs",
    "params": "the factory's keyword parameters",
    "seed": "the random seed the model was built with",
    "can_reset": "whether the model can be built again (reset, load, fork, rewind)",
    "status": "not_started, running, paused, complete or faulted",
    "events_processed": "model events processed since the start (absolute, not since the "
                        "last call)",
    "heap_size": "events scheduled, model and internal",
    "primary_events_remaining": "model events scheduled",
    "is_paused": "paused (a breakpoint, pause or step stopped it)",
    "is_running": "running on the session's thread now",
    "is_complete": "the run reached its end",
    "paused_by": "what paused it: the breakpoint's description, pause(), step()",
    "stop_reason": "why the last run stretch stopped",
    "wall_clock_elapsed_s": "wall-clock seconds spent running so far",
    "event_type": "the event's type",
    "request_id": "the id of the request the event belongs to (its trace_id)",
    "target": "the entity the event is for",
    "exception": "the exception's class name",
    "message": "what went wrong, in words",
    "entity": "the entity's name",
    "breakpoints": "the armed breakpoints",
    "breakpoint": "the breakpoint as armed",
    "id": "the breakpoint's id",
    "kind": "what kind of thing this is",
    "description": "in words",
    "one_shot": "removed after it fires once",
    "hits": "how many times it fired",
    "catalog": "what can be asked and what the model is",
    "span_entities": "entities that record spans (one per request visit)",
    "events": "events",
    "aggregates": "aggregate names a query accepts",
    "breakpoint_operators": "comparison operators a metric breakpoint accepts",
    "stores": "the store of each kind of observation (metrics, spans, events)",
    "name": "the name",
    "unit": "what one value measures (s, requests, fraction, ...); empty when unknown",
    "ignore_breakpoints": "run to the end with no breakpoint firing (they stay armed)",
    "n": "how many events",
    "handle": "the cut answer's handle (from its truncated note)",
    "returned": "items in this answer",
    "next_offset": "the offset to fetch next",
    "uri": "the MCP resource with the whole answer, paged",
    "event_count": "pause after this many model events in total since the start "
                   "(absolute, not counted from now)",
    "allow_unknown": "accept a series that is not known yet (entities that record it "
                     "later)",
    "source": "the entity that records the series",
    "threshold": "the value compared with",
    "metric": "the series watched",
    "warmup": "samples before the detector judges",
    "k_sigma": "how many standard deviations count as a shift",
    "min_increase": "smallest relative increase that counts",
    "peak_fraction": "share of the peak the value must keep to stay anomalous",
    "warning": "something to know about the breakpoint (it was armed)",
    "removed": "the ids removed",
    "tags": "tag filters: only observations carrying these tag values",
    "group_by": "one row per value of these keys: entity, name, or a tag key listed in "
                "the catalog's series tags",
    "limit": "at most this many rows (raw rows: the first ones in time)",
    "weighting": "time (gauges, by how long each value held) or sample (each sample "
                 "once); default: each series by its kind",
    "exact": "true when every number is exact over every observation in range (exact "
             "stores); else within error_bound, or of a sample (see of)",
    "of": "which observations the numbers are of when not all of the run's (spans of a "
          "trace sample)",
    "rows": "the result rows: raw observations (time, value) or aggregates by group and "
            "window",
    "trace_id": "a request's id: the trace_id of any span (a spans query lists them)",
    "spans": "the request's spans, each once, in causal order",
    "tree": "the spans as a tree (children under their parent span)",
    "critical_path": "the entities on the longest chain of spans",
    "critical_path_spans": "the spans on that chain",
    "duration_s": "from the first span's start to the last span's end, seconds",
    "truncated": "set when the answer was cut to its budget",
    "what": "query (a query's result) or summary (the run's digest)",
    "format": "json or csv",
    "size_bytes": "the content's size in bytes of JSON or text",
    "offset": "the first item to return (items: rows, events or characters)",
    "items": "the items from offset on",
    "before": "the statistic in the before window",
    "after": "the statistic in the after window",
    "requests": "the requests in the system at that instant",
    "total": "the sum",
    "by_entity": "by entity name",
    "count": "how many samples",
    "mean": "their mean",
    "branches": "branch names",
    "base": "the branch the differences are taken from (the first)",
    "ranges": "by branch: the range its answer covers and how it was computed",
    "start": "start of the range, simulated seconds",
    "end": "end of the range (exclusive), simulated seconds",
    "aggregate": "the aggregate compared",
    "valid": "the accepted choices",
    "state": "where the simulation is",
    "at": "the simulated second",
    "Truncation.handle": "the answer's handle: fetch(handle, offset) returns more",
    "EntityInfo.name": "the entity's name (as queries and settings name it)",
    "EntitySeries.name": "the series' name",
    "SeriesInfo.name": "the series' name",
    "ChangeRow.entity": "the entity that records the series",
    "ChangeRow.name": "the series' name",
    "BranchInfo.name": "the branch's name (the branch field of every request)",
    "BranchInfo.params": "the factory parameters it was built with",
    "BranchInfo.status": "not_started, running, paused, complete or faulted",
    "FetchResponse.kind": "rows, events or text",
    "ErrorInfo.kind": "bad_request, unknown_name, not_kept, model_fault, state or internal",
    "ExportResponse.what": "what was exported",
    "ExportResponse.format": "the content's format",
    "BreakpointInfo.kind": "time, event_count, event_type, metric, anomaly or condition",
    "AnomalySpec.kind": "level_shift (a sustained rise) or outlier (single values)",
    "AnomalySpec.threshold": "the detector's confidence to report (0..1]",
    "QuerySpec.start": "start of the range in simulated seconds, included: the range is "
                       "half-open, start <= t < end (default: the first record)",
    "QuerySpec.end": "end of the range in simulated seconds, excluded: start <= t < end "
                     "(default: now; a range past now answers up to now and says so)",
    "QuerySpec.kind": "metrics (series), spans (request visits) or events (processed "
                      "events)",
    "TraceResponse.trace_id": "the request's id",
    "TraceResponse.truncated": "parts left out to fit the budget (spans, tree)",
    "AddBreakpointRequest.event_type": "pause after an event of this type is processed",
    "AddBreakpointRequest.name": "a name for the breakpoint (shown in paused_by)",
    "AddBreakpointRequest.one_shot": "remove it after it fires once (default: time and "
                                     "event-count breakpoints are one-shot)",
    "MetricSpec.name": "the series' name",
    "RemoveBreakpointRequest.id": "the breakpoint's id (list_breakpoints)",
    "ResetRequest.seed": "build with this seed instead",
    "LoadRequest.model": "a MODEL spec, path/file.py:factory or package.module:factory",
    "LoadRequest.seed": "build with this seed",
    "StepRequest.n": "how many model events to process (1..100000)",
    "PeekRequest.n": "how many of the next events to show",
    "FetchRequest.offset": "the first item to return: rows, events or characters, "
                           "counted in items not bytes (a truncated note's next_offset)",
    "CompareRange.start": "start of the range the branch answered, seconds",
    "CompareRange.end": "end of the range the branch answered, seconds",
    "SampleSummary.count": "how many samples up to and including at",
    "SampleSummary.mean": "their mean",
    "RequestsInSystem.total": "waiting + in_service",
    "SnapshotResponse.exact": "true when every number comes from exact stores",
    "SnapshotResponse.requests": "the requests in the system at at",
    "ModelInfo.seed": "the seed the factory was given (absent: its own default)",
}


def _op_of(struct: str) -> str | None:
    for suffix in ("Response", "Request"):
        if struct.endswith(suffix):
            stem = struct[: -len(suffix)]
            return "".join(("_" + c.lower()) if c.isupper() else c for c in stem).lstrip("_")
    return None


def describe(defs: dict[str, Any]) -> dict[str, Any]:
    """`defs` (JSON Schema definitions) with every struct and property described."""
    for name, d in defs.items():
        if d.get("type") != "object":
            continue
        if "description" not in d:
            op = _op_of(name)
            d["description"] = (f"The answer to {op}." if name.endswith("Response") and op
                                else f"{name}.")
        for field, p in d.get("properties", {}).items():
            if field == "op" or "description" in p:
                continue
            own = FIELDS.get(f"{name}.{field}")
            lifted = [x["description"] for x in p.get("anyOf", []) if "description" in x]
            if lifted and own is None:  # (a nullable field's words sit on its non-null
                p["description"] = lifted[0]  # member)
                continue
            text = own or FIELDS.get(field)
            if text is not None:
                p["description"] = text
    return defs
