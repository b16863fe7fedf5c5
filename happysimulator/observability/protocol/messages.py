"""The session protocol's messages: one msgspec Struct per request and per response.

A request is a JSON object whose ``op`` names the operation (the struct's tag); a
response is ``{"ok": true, "op": ..., ...}`` or an `ErrorResponse`. The JSON Schemas in
``docs/schemas/session-v1.schema.json`` are generated from these types
(`happysimulator.observability.protocol.schema`), and a test fails when they drift.
Field docs live in the ``Meta(description=...)`` annotations so they reach the schemas.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

PROTOCOL_VERSION = "happysim-rx.session/1"

ERROR_KINDS = ("bad_request", "unknown_name", "model_fault", "state", "internal")

# ---- constrained scalars ----------------------------------------------------------------
Seconds = Annotated[float, Meta(description="simulated seconds")]
NonNegSeconds = Annotated[float, Meta(ge=0, description="simulated seconds, >= 0")]
PosSeconds = Annotated[float, Meta(gt=0, description="simulated seconds, > 0")]
WaitSeconds = Annotated[float, Meta(ge=0, le=600, description=(
    "wall-clock seconds to wait for the run to stop (pause, breakpoint or end) before "
    "answering; the run goes on in the background if it has not stopped by then"))]
Budget = Annotated[int, Meta(ge=512, le=4_000_000, description=(
    "largest answer in bytes of JSON; longer answers are cut and name a handle to fetch "
    "the rest"))]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Scalar = str | int | float | bool | None


class _Request(Struct, tag_field="op", forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Base of every request (``op`` is the tag)."""


class _Response(Struct, tag_field="op", kw_only=True):
    """Base of every successful response."""

    ok: Literal[True] = True


# ---- shared shapes ----------------------------------------------------------------------
class EventInfo(Struct, kw_only=True):
    """A model event (processed, stepped or pending)."""

    time: Seconds
    event_type: str
    target: str
    request_id: int | None = None  # the request (trace) the event belongs to, if any


class FaultInfo(Struct, kw_only=True):
    """A model exception that stopped the run (what was recorded until then is kept)."""

    exception: str
    message: str
    time: Seconds | None = None
    event: EventInfo | None = None
    entity: str | None = None


class ModelInfo(Struct, kw_only=True):
    """Which model the session runs and how it was built."""

    spec: Annotated[str | None, Meta(description=(
        "MODEL spec (path/file.py:factory or package.module:factory); None for a "
        "Simulation object"))] = None
    params: dict[str, Any] = {}
    seed: int | None = None
    can_reset: bool = False


Status = Literal["not_started", "running", "paused", "complete", "faulted"]


class StateInfo(Struct, kw_only=True):
    """Where the simulation is. ``status`` sums it up; the rest is `SimulationState`."""

    status: Status
    current_time: Seconds
    events_processed: int
    heap_size: int
    primary_events_remaining: int
    is_paused: bool
    is_running: bool
    is_complete: bool
    paused_by: str | None = None
    stop_reason: str | None = None
    last_event: EventInfo | None = None
    wall_clock_elapsed_s: float = 0.0
    end_time: Seconds | None = None
    fault: FaultInfo | None = None


class ErrorInfo(Struct, kw_only=True, omit_defaults=True):
    """Why a request failed. ``valid`` lists the accepted choices when there are any."""

    kind: Literal["bad_request", "unknown_name", "model_fault", "state", "internal"]
    message: str
    valid: list[str] | None = None
    op: str | None = None


class ErrorResponse(Struct, kw_only=True):
    """Any failed request. Nothing recorded is lost; ``state`` is included when known."""

    ok: Literal[False] = False
    error: ErrorInfo
    state: StateInfo | None = None


class Truncation(Struct, kw_only=True):
    """An answer cut to its byte budget: fetch the rest with ``fetch`` (or read the MCP
    resource ``uri``)."""

    handle: str
    total: Annotated[int, Meta(description="items (rows, events, characters) in the whole answer")]
    returned: int
    next_offset: int
    uri: str


# ---- query spec -------------------------------------------------------------------------
class QuerySpec(Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """What the Python `Query` can express (``sim.query.execute(spec)``).

    ``last_s`` is a shorthand for ``start = now - last_s, end = now + 1 ns`` (the range
    that includes the values in effect now)."""

    kind: Literal["metrics", "spans", "events"]
    name: Annotated[str, Meta(min_length=1, max_length=200, description=(
        "metric name (glob allowed) for kind=metrics; event type for kind=events"))] | None = None
    entity: Annotated[str, Meta(min_length=1, max_length=200,
                                description="entity (source) name or glob")] = "*"
    tags: dict[str, Scalar] = {}
    start: Seconds | None = None
    end: Seconds | None = None
    last_s: PosSeconds | None = None
    window: PosSeconds | None = None
    group_by: list[Name] = []
    aggregates: Annotated[list[Name], Meta(description=(
        "count, sum, mean, min, max, stddev, variance, p50, p90, p95, p99, p999, pNN, "
        "pNN.N, rate, last, first"))] = []
    limit: Annotated[int, Meta(ge=0)] | None = None
    weighting: Literal["time", "sample"] | None = None


class MetricSpec(Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """``source``'s series ``name`` compared with ``threshold`` (optionally for ``for_s``
    simulated seconds)."""

    source: Name
    name: Name
    operator: Annotated[str, Meta(min_length=1, description=(
        "gt, ge, lt, le, eq, ne or >, >=, <, <=, ==, !="))]
    threshold: float
    for_s: NonNegSeconds | None = None
    hysteresis: Annotated[float, Meta(ge=0, description=(
        "once true, the episode ends only when the value is past the threshold by this "
        "much the other way (gt/ge/lt/le only)"))] | None = None
    cooldown_s: Annotated[float, Meta(ge=0, description=(
        "after firing, episodes that begin within this many simulated seconds are "
        "ignored"))] | None = None


class AnomalySpec(Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """An `AnomalyDetector` on ``source``'s series ``metric``."""

    source: Name
    metric: Name
    kind: Literal["level_shift", "outlier"] = "level_shift"
    window: PosSeconds | None = 1.0
    warmup: Annotated[int, Meta(ge=1)] = 10
    confirm_after: NonNegSeconds = 5.0
    k_sigma: Annotated[float, Meta(gt=0)] = 4.0
    min_increase: Annotated[float, Meta(ge=0)] = 0.5
    threshold: Annotated[float, Meta(gt=0, le=1)] = 0.999
    peak_fraction: Annotated[float, Meta(ge=0, le=1)] = 0.9


class BreakpointInfo(Struct, kw_only=True):
    id: int
    kind: str
    description: str
    one_shot: bool
    hits: int


# ---- requests ---------------------------------------------------------------------------
class HelpRequest(_Request, tag="help"):
    """The protocol: every operation with its request and response JSON Schemas."""

    about: Annotated[str | None, Meta(description="only this operation")] = None


class LoadRequest(_Request, tag="load"):
    """Build the model again from its factory (new ``params`` / ``seed``), or another
    model by MODEL spec when the session allows loading."""

    model: Name | None = None
    params: dict[str, Any] = {}
    seed: int | None = None


class StateRequest(_Request, tag="state"):
    """Where the simulation is; with ``wait_s``, first wait that long for a run to stop."""

    wait_s: WaitSeconds | None = None


class CatalogRequest(_Request, tag="catalog"):
    """What can be asked: series (kind, unit, known tags), span entities, event types."""


class RunRequest(_Request, tag="run"):
    """Start the run (or continue a paused one); with ``until``, pause before any event
    later than that simulated time."""

    until: Seconds | None = None
    wait_s: WaitSeconds | None = None


class PauseRequest(_Request, tag="pause"):
    """Pause a running simulation after the current event (before the start: the next run
    returns at once, paused)."""

    wait_s: WaitSeconds | None = None


class ResumeRequest(_Request, tag="resume"):
    """Continue a paused simulation to the next pause or the end (``ignore_breakpoints``:
    to the end, no breakpoint firing; they stay armed)."""

    wait_s: WaitSeconds | None = None
    ignore_breakpoints: bool = False


class StepRequest(_Request, tag="step"):
    """Process the next ``n`` events (fewer if the run ends or a breakpoint fires)."""

    n: Annotated[int, Meta(ge=1, le=100_000)] = 1
    budget_bytes: Budget = 16_000


class RunUntilRequest(_Request, tag="run_until"):
    """Run until simulated ``time`` (pausing before any later event)."""

    time: Seconds
    wait_s: WaitSeconds | None = None


class PeekRequest(_Request, tag="peek"):
    """The next ``n`` events, in order, without running them."""

    n: Annotated[int, Meta(ge=1, le=10_000)] = 5


class AddBreakpointRequest(_Request, tag="add_breakpoint"):
    """Pause when a condition becomes true. Give exactly one of ``time``,
    ``event_count``, ``event_type``, ``metric``, ``anomaly``. A metric on a series that
    is not known yet is refused unless ``allow_unknown`` is true."""

    time: Seconds | None = None
    event_count: Annotated[int, Meta(ge=1)] | None = None
    event_type: Name | None = None
    metric: MetricSpec | None = None
    anomaly: AnomalySpec | None = None
    one_shot: bool | None = None
    name: Name | None = None
    allow_unknown: bool = False


class ListBreakpointsRequest(_Request, tag="list_breakpoints"):
    """The armed breakpoints."""


class RemoveBreakpointRequest(_Request, tag="remove_breakpoint"):
    """Disarm one breakpoint by id."""

    id: int


class ClearBreakpointsRequest(_Request, tag="clear_breakpoints"):
    """Disarm every breakpoint."""


class QueryRequest(_Request, tag="query"):
    """Run a query; rows beyond ``budget_bytes`` are fetched with ``fetch``."""

    query: QuerySpec
    budget_bytes: Budget = 16_000


class TraceRequest(_Request, tag="trace"):
    """One request's spans as a tree, and its critical path."""

    trace_id: int | str
    budget_bytes: Budget = 16_000


class ExportRequest(_Request, tag="export"):
    """A query's result as JSON or CSV, or the run's compact summary
    (``what="summary"``, JSON only; it fits ``budget_bytes`` by itself)."""

    what: Literal["query", "summary"] = "query"
    query: QuerySpec | None = None
    format: Literal["json", "csv"] = "json"
    budget_bytes: Budget = 16_000


class FetchRequest(_Request, tag="fetch"):
    """The part of a cut answer from ``offset`` on."""

    handle: Name
    offset: Annotated[int, Meta(ge=0)] = 0
    budget_bytes: Budget = 16_000


class ResetRequest(_Request, tag="reset"):
    """Rebuild the model from its factory with the same parameters and the same seed
    (or ``seed``); breakpoints are not kept."""

    seed: int | None = None


# ---- responses --------------------------------------------------------------------------
class OpHelp(Struct, kw_only=True):
    summary: str
    request: dict[str, Any]
    response: dict[str, Any]


class HelpResponse(_Response, tag="help"):
    protocol: str
    ops: dict[str, OpHelp]
    errors: dict[str, str]
    error_schema: dict[str, Any]
    notes: list[str]


class LoadResponse(_Response, tag="load"):
    model: ModelInfo
    state: StateInfo


class StateResponse(_Response, tag="state"):
    state: StateInfo
    model: ModelInfo
    breakpoints: list[BreakpointInfo]


class SeriesInfo(Struct, kw_only=True):
    source: str
    name: str
    kind: Literal["gauge", "sample", "counter"] | None
    unit: str | None
    tags: list[str]


class CatalogInfo(Struct, kw_only=True):
    metrics: list[SeriesInfo]
    span_entities: list[str]
    events: list[dict[str, Any]]
    aggregates: list[str]
    breakpoint_operators: list[str]
    stores: dict[str, str | None]


class CatalogResponse(_Response, tag="catalog"):
    catalog: CatalogInfo


class RunResponse(_Response, tag="run"):
    state: StateInfo


class PauseResponse(_Response, tag="pause"):
    state: StateInfo


class ResumeResponse(_Response, tag="resume"):
    state: StateInfo


class StepResponse(_Response, tag="step"):
    events: list[EventInfo]
    state: StateInfo
    truncated: Truncation | None = None


class RunUntilResponse(_Response, tag="run_until"):
    state: StateInfo


class PeekResponse(_Response, tag="peek"):
    events: list[EventInfo]


class AddBreakpointResponse(_Response, tag="add_breakpoint"):
    breakpoint: BreakpointInfo
    warning: str | None = None


class ListBreakpointsResponse(_Response, tag="list_breakpoints"):
    breakpoints: list[BreakpointInfo]


class RemoveBreakpointResponse(_Response, tag="remove_breakpoint"):
    removed: int


class ClearBreakpointsResponse(_Response, tag="clear_breakpoints"):
    removed: list[int]


class QueryResultInfo(Struct, kw_only=True):
    """A `QueryResult`: rows plus the honesty fields (weighting, exact, error bound)."""

    query: dict[str, Any]
    start: float | None
    end: float | None
    aggregates: list[str]
    weighting: str
    exact: bool
    error_bound: float | None
    time_resolution: float | None
    rows: list[dict[str, Any]]


class QueryResponse(_Response, tag="query"):
    result: QueryResultInfo
    truncated: Truncation | None = None


class TraceResponse(_Response, tag="trace"):
    trace_id: int | str
    spans: list[dict[str, Any]]
    tree: list[dict[str, Any]]
    critical_path: list[str]
    critical_path_spans: list[dict[str, Any]]
    duration_s: float
    truncated: list[str] = []


class ExportResponse(_Response, tag="export"):
    what: Literal["query", "summary"]
    format: Literal["json", "csv"]
    content: Annotated[Any, Meta(description="the JSON document, or the CSV text")]
    size_bytes: int
    truncated: Truncation | None = None


class FetchResponse(_Response, tag="fetch"):
    handle: str
    kind: Literal["rows", "events", "text"]
    items: list[Any] | str
    offset: int
    truncated: Truncation | None = None


class ResetResponse(_Response, tag="reset"):
    model: ModelInfo
    state: StateInfo


# op name -> (request type, response type, one-line summary)
OPS: dict[str, tuple[type[_Request], type[_Response]]] = {
    "help": (HelpRequest, HelpResponse),
    "load": (LoadRequest, LoadResponse),
    "state": (StateRequest, StateResponse),
    "catalog": (CatalogRequest, CatalogResponse),
    "run": (RunRequest, RunResponse),
    "pause": (PauseRequest, PauseResponse),
    "resume": (ResumeRequest, ResumeResponse),
    "step": (StepRequest, StepResponse),
    "run_until": (RunUntilRequest, RunUntilResponse),
    "peek": (PeekRequest, PeekResponse),
    "add_breakpoint": (AddBreakpointRequest, AddBreakpointResponse),
    "list_breakpoints": (ListBreakpointsRequest, ListBreakpointsResponse),
    "remove_breakpoint": (RemoveBreakpointRequest, RemoveBreakpointResponse),
    "clear_breakpoints": (ClearBreakpointsRequest, ClearBreakpointsResponse),
    "query": (QueryRequest, QueryResponse),
    "trace": (TraceRequest, TraceResponse),
    "export": (ExportRequest, ExportResponse),
    "fetch": (FetchRequest, FetchResponse),
    "reset": (ResetRequest, ResetResponse),
}

Request = (HelpRequest | LoadRequest | StateRequest | CatalogRequest | RunRequest
           | PauseRequest | ResumeRequest | StepRequest | RunUntilRequest | PeekRequest
           | AddBreakpointRequest | ListBreakpointsRequest | RemoveBreakpointRequest
           | ClearBreakpointsRequest | QueryRequest | TraceRequest | ExportRequest
           | FetchRequest | ResetRequest)


def summary_of(op: str) -> str:
    """The first paragraph of an operation's request docstring."""
    doc = OPS[op][0].__doc__ or ""
    return " ".join(doc.split("\n\n")[0].split())


__all__ = ["OPS", "PROTOCOL_VERSION", "ERROR_KINDS", "Request", "ErrorResponse",
           "ErrorInfo", "StateInfo", "summary_of", "msgspec"]
