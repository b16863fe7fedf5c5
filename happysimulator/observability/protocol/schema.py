"""JSON Schemas of the session protocol, generated from its msgspec types.

``python -m happysimulator.observability.protocol.schema`` rewrites
``docs/schemas/session-v1.schema.json``; a test fails when the file and the types drift.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from happysimulator.observability.protocol import messages as m
from happysimulator.observability.protocol.field_docs import describe

SCHEMA_FILE = "session-v1.schema.json"
_REF = "#/$defs/{name}"

ERRORS = {
    "bad_request": "the request is malformed or a value is out of range (the message "
                   "says which field and what is accepted)",
    "unknown_name": "a name (op, series, entity, aggregate, breakpoint id, trace id, "
                    "handle) does not exist; `valid` lists the known ones",
    "not_kept": "it was recorded but the recording settings did not keep it: a trace "
                "evicted by trace_capacity or not sampled at trace_sample_rate (the "
                "message says which); `valid` lists kept ones",
    "model_fault": "the model's own code raised; what was recorded is kept, `state.fault` "
                   "says where (time, event, entity)",
    "state": "the operation does not fit the simulation's state (e.g. step while "
             "running, resume when not paused); `valid` suggests what fits",
    "internal": "a bug in happysim-rx (please report it); the session stays usable",
}

NOTES = [
    "Every response is {ok: true, op, ...} or {ok: false, error: {kind, message, valid?}}.",
    "Times are simulated seconds. Ranges are half-open [start, end); query.last_s = 10 "
    "means the last 10 s up to and including now.",
    "run / resume / run_until / pause answer when the run stops or after wait_s wall-clock "
    "seconds, whichever is first; a run still going has state.status = 'running' (state "
    "with wait_s waits for it; pause stops it).",
    "Answers longer than budget_bytes are cut: `truncated` gives a handle; fetch(handle, "
    "offset) returns the rest (MCP: the resource happysim://answers/{handle}).",
    "Gauges (queue_depth, in_flight) are time-weighted; every query result states its "
    "weighting, whether it is exact, and its error bound.",
]


def _types() -> list[type]:
    out: list[type] = []
    for req, resp in m.OPS.values():
        out += [req, resp]
    out.append(m.ErrorResponse)
    return out


def session_schema() -> dict[str, Any]:
    """The whole protocol as one JSON Schema document (root: any request)."""
    _, defs = msgspec.json.schema_components(_types(), ref_template=_REF)
    describe(defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://happysim-rx.dev/schemas/" + SCHEMA_FILE,
        "title": "happysim-rx session protocol",
        "description": f"Protocol {m.PROTOCOL_VERSION}. The root validates a request; "
                       "x-operations maps each op to its request and response definitions.",
        "version": m.PROTOCOL_VERSION,
        "oneOf": [{"$ref": _REF.format(name=req.__name__)} for req, _ in m.OPS.values()],
        "x-operations": {
            op: {"request": _REF.format(name=req.__name__),
                 "response": _REF.format(name=resp.__name__),
                 "summary": m.summary_of(op)}
            for op, (req, resp) in m.OPS.items()
        },
        "x-error-response": _REF.format(name="ErrorResponse"),
        "x-error-kinds": ERRORS,
        "$defs": defs,
    }


def standalone(type_: type) -> dict[str, Any]:
    """One type's schema with only the definitions it uses (``$defs`` inline)."""
    schema = msgspec.json.schema(type_)
    describe(schema.get("$defs", {}))
    return schema


def request_schema(op: str) -> dict[str, Any]:
    return standalone(m.OPS[op][0])


def response_schema(op: str) -> dict[str, Any]:
    return standalone(m.OPS[op][1])


def tool_input_schema(op: str) -> dict[str, Any]:
    """The request's schema as an MCP tool input: an object without ``op`` (the tool name)."""
    schema = request_schema(op)
    defs = schema.get("$defs", {})
    name = schema["$ref"].rsplit("/", 1)[1]
    body = dict(defs.pop(name))
    props = {k: v for k, v in body.get("properties", {}).items() if k != "op"}
    required = [k for k in body.get("required", []) if k != "op"]
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    if body.get("description"):
        out["description"] = body["description"]
    out["additionalProperties"] = False
    if defs:
        out["$defs"] = defs
    return out


def help_document() -> dict[str, Any]:
    """What ``help`` answers: each op's summary and standalone schemas, and the errors."""
    return {
        "ops": {op: {"summary": m.summary_of(op), "request": request_schema(op),
                     "response": response_schema(op)} for op in m.OPS},
        "errors": ERRORS,
        "error_schema": standalone(m.ErrorResponse),
        "notes": NOTES,
    }


def render() -> str:
    return json.dumps(session_schema(), indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else Path(__file__).resolve().parents[3] / "docs" / "schemas"
    path = root / SCHEMA_FILE
    path.write_text(render())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
