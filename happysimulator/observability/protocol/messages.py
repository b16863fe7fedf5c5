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

from happysimulator.observability.protocol.hypothesis_messages import (
    BranchesRequest,
    BranchesResponse,
    BranchInfo,
    ChangeRow,
    ChangesRequest,
    ChangesResponse,
    CompareRange,
    CompareRequest,
    CompareResponse,
    Difference,
    DropBranchRequest,
    DropBranchResponse,
    EntitySnapshot,
    ForkRequest,
    ForkResponse,
    ReplayInfo,
    RequestsInSystem,
    RewindRequest,
    RewindResponse,
    SampleSummary,
    SnapshotRequest,
    SnapshotResponse,
    Window,
)
from happysimulator.observability.protocol.message_shapes import (
    ERROR_KINDS,
    PROTOCOL_VERSION,
    AnomalySpec,
    BranchName,
    BreakpointInfo,
    Budget,
    ErrorInfo,
    ErrorResponse,
    EventInfo,
    FaultInfo,
    MetricSpec,
    ModelInfo,
    Name,
    NonNegSeconds,
    PosSeconds,
    QuerySpec,
    Scalar,
    Seconds,
    StateInfo,
    Status,
    Truncation,
    WaitSeconds,
    _Request,
    _Response,
)


# ---- requests ---------------------------------------------------------------------------
class HelpRequest(_Request, tag="help"):
    """The protocol: every operation with its request and response JSON Schemas."""

    about: Annotated[str | None, Meta(description="only this operation")] = None
    budget_bytes: Annotated[int, Meta(ge=512, le=4_000_000, description=(
        "largest answer in bytes of JSON: past it, operations are listed with their "
        "summaries only (ask with about for one operation's schemas)"))] = 4_000_000


class LoadRequest(_Request, tag="load"):
    """Build the model again from its factory (new params / seed), or another
    model by MODEL spec when the session allows loading."""

    model: Name | None = None
    params: dict[str, Any] = {}
    seed: int | None = None


class StateRequest(_Request, tag="state"):
    """Where the simulation is; with wait_s, first wait that long for a run to stop."""

    wait_s: WaitSeconds | None = None
    budget_bytes: Annotated[int, Meta(ge=512, le=4_000_000, description=(
        "largest answer in bytes of JSON: past it, the breakpoint list is cut"))] = 16_000


class CatalogRequest(_Request, tag="catalog"):
    """What can be asked and what the model is: the entities in flow order (role,
    concurrency, service time, rate, downstream edges as wired and as seen in spans, and
    every series with kind and unit), the series with their tags, span entities, event
    types. Available before the run."""

    budget_bytes: Annotated[int, Meta(ge=512, le=4_000_000, description=(
        "largest answer in bytes of JSON: past it, the event types go first, then the "
        "flat series list (entities carry the series), then the series of the last "
        "entities; omitted names what was left out"))] = 16_000


class RunRequest(_Request, tag="run"):
    """Start the run (or continue a paused one); with until, pause before any event
    later than that simulated time."""

    until: Seconds | None = None
    wait_s: WaitSeconds | None = None


class PauseRequest(_Request, tag="pause"):
    """Pause a running simulation after the current event (before the start: the next run
    returns at once, paused)."""

    wait_s: WaitSeconds | None = None


class ResumeRequest(_Request, tag="resume"):
    """Continue a paused simulation to the next pause or the end (ignore_breakpoints:
    to the end, no breakpoint firing; they stay armed)."""

    wait_s: WaitSeconds | None = None
    ignore_breakpoints: bool = False


class StepRequest(_Request, tag="step"):
    """Process the next n events (fewer if the run ends or a breakpoint fires)."""

    n: Annotated[int, Meta(ge=1, le=100_000)] = 1
    budget_bytes: Budget = 16_000


class RunUntilRequest(_Request, tag="run_until"):
    """Run until simulated time (pausing before any later event)."""

    time: Seconds
    wait_s: WaitSeconds | None = None


class PeekRequest(_Request, tag="peek"):
    """The next n events, in order, without running them."""

    n: Annotated[int, Meta(ge=1, le=10_000)] = 5


class AddBreakpointRequest(_Request, tag="add_breakpoint"):
    """Pause when a condition becomes true. Give exactly one of time,
    event_count, event_type, metric, anomaly. A metric on a series that
    is not known yet is refused unless allow_unknown is true."""

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
    """Run a query; rows beyond budget_bytes are fetched with fetch."""

    query: QuerySpec
    budget_bytes: Budget = 16_000


class TraceRequest(_Request, tag="trace"):
    """One request's spans as a tree, and its critical path."""

    trace_id: int | str
    budget_bytes: Budget = 16_000


class ExportRequest(_Request, tag="export"):
    """A query's result as JSON or CSV, or the run's compact summary
    (what="summary", JSON only; it fits budget_bytes by itself)."""

    what: Literal["query", "summary"] = "query"
    query: QuerySpec | None = None
    format: Literal["json", "csv"] = "json"
    budget_bytes: Budget = 16_000


class FetchRequest(_Request, tag="fetch"):
    """The part of a cut answer from offset on."""

    handle: Name
    offset: Annotated[int, Meta(ge=0)] = 0
    budget_bytes: Budget = 16_000


class ResetRequest(_Request, tag="reset"):
    """Rebuild the model from its factory with the same parameters and the same seed
    (or seed); breakpoints are not kept."""

    seed: int | None = None


# ---- responses --------------------------------------------------------------------------
class OpHelp(Struct, kw_only=True):
    summary: str
    request: Annotated[dict[str, Any], Meta(description=(
        "the request's JSON Schema (absent when cut to the budget)"))] | None = None
    response: Annotated[dict[str, Any], Meta(description=(
        "the response's JSON Schema (absent when cut to the budget)"))] | None = None


class HelpResponse(_Response, tag="help", kw_only=True):
    protocol: str
    ops: dict[str, OpHelp]
    errors: dict[str, str]
    error_schema: Annotated[dict[str, Any], Meta(description=(
        "the JSON Schema of a failed answer (absent when cut to the budget)"))] \
        | None = None
    notes: list[str]
    omitted: Annotated[list[str], Meta(description=(
        "what was left out to fit budget_bytes: error_schema, and the operations whose "
        "schemas were (ask help with about for one)"))] = []


class LoadResponse(_Response, tag="load"):
    model: ModelInfo
    state: StateInfo


class StateResponse(_Response, tag="state"):
    state: StateInfo
    model: ModelInfo
    breakpoints: list[BreakpointInfo]
    omitted: Annotated[int, Meta(description=(
        "breakpoints left out to fit budget_bytes (list_breakpoints has them all)"))] = 0


class SeriesInfo(Struct, kw_only=True):
    """One series: who records it, its kind and unit, the tag keys a query may use on it."""

    source: Annotated[str, Meta(description="the entity that records it")]
    name: str
    kind: Annotated[Literal["gauge", "sample", "counter"], Meta(description=(
        "gauge: holds its value, time-weighted; counter: increments, rate per s; "
        "sample: aggregated per sample"))] | None = None
    unit: str | None = None
    tags: Annotated[list[str], Meta(description=(
        "tag keys its component declares plus those its samples carry: the keys tags and "
        "group_by accept (any other is refused); empty where the store keeps no tags"))] = []


class EntitySeries(Struct, kw_only=True):
    """One series an entity records."""

    name: str
    kind: Annotated[str, Meta(description="gauge (time-weighted), counter or sample")]
    unit: Annotated[str, Meta(description="what one value measures, e.g. s, requests, "
                                          "fraction; empty when unknown")]


class ServiceTimeInfo(Struct, kw_only=True, omit_defaults=True):
    """A configured service-time distribution."""

    distribution: Annotated[str, Meta(description="family, e.g. exponential, constant")]
    mean: Annotated[float, Meta(description="mean service time, seconds")] | None = None


class EdgeInfo(Struct, kw_only=True, omit_defaults=True):
    """A hop requests took, as seen in the recorded spans."""

    to: Annotated[str, Meta(description="the downstream entity")]
    requests: Annotated[int, Meta(description="spans of requests that made this hop")]
    of: Annotated[str, Meta(description=(
        "which requests the count is of when not all of them: the sampled ones "
        "(trace_sample_rate < 1), the traces a bounded store kept (trace_capacity)"))] \
        | None = None


class EntityInfo(Struct, kw_only=True, omit_defaults=True):
    """One entity of the model: its role, configuration, edges and series."""

    name: str
    type: Annotated[str, Meta(description="its class name")]
    role: Annotated[Literal["source", "station", "sink", "router", "detector", "other"],
                    Meta(description=(
                        "source makes requests, station queues and serves them, sink "
                        "ends them, router spreads them, detector observes"))]
    concurrency: Annotated[int, Meta(description="requests served at once")] | None = None
    capacity: Annotated[int, Meta(description="queue capacity (requests)")] | None = None
    service_time: ServiceTimeInfo | None = None
    rate: Annotated[float | str, Meta(description=(
        "a source's configured rate, requests per second (or 'profile' when it varies)"))] \
        | None = None
    downstream: Annotated[list[str], Meta(description="entities it sends to, as wired")] = []
    observed_downstream: Annotated[list[EdgeInfo], Meta(description=(
        "hops seen in the recorded spans, with request counts"))] = []
    series: list[EntitySeries] = []


class CatalogInfo(Struct, kw_only=True):
    entities: Annotated[list[EntityInfo], Meta(description=(
        "the model's topology in flow order: sources first, then breadth-first along "
        "the downstream edges"))]
    metrics: list[SeriesInfo]
    span_entities: list[str]
    span_attributes: Annotated[dict[str, list[str]], Meta(description=(
        "entity -> the attribute keys a span query on it may filter or group on "
        "(declared by its component, or carried by a recorded span)"))] = {}
    events: list[dict[str, Any]]
    aggregates: list[str]
    breakpoint_operators: list[str]
    stores: dict[str, str | None]


class CatalogResponse(_Response, tag="catalog"):
    catalog: CatalogInfo
    omitted: Annotated[list[str], Meta(description=(
        "parts left out to fit budget_bytes: events, metrics, series of <entity>, "
        "entity <name>"))] = []


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
    """A query result: rows plus the honesty fields (weighting, exact, error bound)."""

    query: Annotated[dict[str, Any], Meta(description="the query as the engine read it")]
    start: Annotated[float, Meta(description="start of the range answered, seconds")] \
        | None = None
    end: Annotated[float, Meta(description="end of the range answered (exclusive)")] \
        | None = None
    aggregates: list[str]
    weighting: Annotated[str, Meta(description=(
        "time: gauges weighted by how long each value held; sample: per sample"))]
    exact: bool
    error_bound: Annotated[float, Meta(description=(
        "relative error bound of approximate quantiles (streaming stores)"))] | None = None
    time_resolution: Annotated[float, Meta(description=(
        "seconds: edges snapped to this grid by a streaming store"))] | None = None
    of: Annotated[str, Meta(description=(
        "which observations the numbers are of when not all of the run's: spans of a "
        "trace sample (trace_sample_rate < 1; exact is then false)"))] | None = None
    rows: list[dict[str, Any]]


class QueryResponse(_Response, tag="query"):
    result: QueryResultInfo
    truncated: Truncation | None = None


class TraceResponse(_Response, tag="trace"):
    trace_id: int | str
    spans: Annotated[list[dict[str, Any]], Meta(description=(
        "the request's spans, each once, in causal order: span_id, parent_id, entity, "
        "start, end, duration, attributes (a station's wait and service seconds)"))]
    tree: Annotated[list[dict[str, Any]], Meta(description=(
        "the spans as a tree of span ids: {span_id, children}"))]
    critical_path: Annotated[list[str], Meta(description=(
        "the entities on the longest chain of spans"))]
    critical_path_spans: Annotated[list[dict[str, Any]], Meta(description=(
        "that chain as {span_id, entity} (the spans themselves are in spans)"))]
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
    "changes": (ChangesRequest, ChangesResponse),
    "snapshot": (SnapshotRequest, SnapshotResponse),
    "fork": (ForkRequest, ForkResponse),
    "branches": (BranchesRequest, BranchesResponse),
    "compare": (CompareRequest, CompareResponse),
    "rewind": (RewindRequest, RewindResponse),
    "drop_branch": (DropBranchRequest, DropBranchResponse),
}

Request = (HelpRequest | LoadRequest | StateRequest | CatalogRequest | RunRequest
           | PauseRequest | ResumeRequest | StepRequest | RunUntilRequest | PeekRequest
           | AddBreakpointRequest | ListBreakpointsRequest | RemoveBreakpointRequest
           | ClearBreakpointsRequest | QueryRequest | TraceRequest | ExportRequest
           | FetchRequest | ResetRequest | ChangesRequest | SnapshotRequest
           | ForkRequest | BranchesRequest | CompareRequest | RewindRequest
           | DropBranchRequest)


def summary_of(op: str) -> str:
    """The first paragraph of an operation's request docstring."""
    doc = OPS[op][0].__doc__ or ""
    return " ".join(doc.split("\n\n")[0].split())


__all__ = ["OPS", "Request", "summary_of", "msgspec",
           "PROTOCOL_VERSION",
           "ERROR_KINDS",
           "Seconds",
           "NonNegSeconds",
           "PosSeconds",
           "WaitSeconds",
           "Budget",
           "Name",
           "Scalar",
           "BranchName",
           "EventInfo",
           "FaultInfo",
           "ModelInfo",
           "Status",
           "StateInfo",
           "ErrorInfo",
           "ErrorResponse",
           "Truncation",
           "QuerySpec",
           "MetricSpec",
           "AnomalySpec",
           "BreakpointInfo",
           "Window",
           "ChangesRequest",
           "ChangeRow",
           "ChangesResponse",
           "SnapshotRequest",
           "SampleSummary",
           "EntitySnapshot",
           "RequestsInSystem",
           "SnapshotResponse",
           "ForkRequest",
           "ReplayInfo",
           "BranchInfo",
           "ForkResponse",
           "BranchesRequest",
           "BranchesResponse",
           "CompareRequest",
           "Difference",
           "CompareRange",
           "CompareResponse",
           "RewindRequest",
           "RewindResponse",
           "DropBranchRequest",
           "DropBranchResponse",
           ]
