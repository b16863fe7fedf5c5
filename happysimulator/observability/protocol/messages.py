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


BranchName = Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$",
                                  description=(
    "which branch of the session the operation works on: main (the run as given) or "
    "a what-if branch made by fork; see the branches operation"))]


class _Request(Struct, tag_field="op", forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Base of every request (op is the tag)."""

    branch: BranchName = "main"


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
        "MODEL spec (path/file.py:factory or package.module:factory); absent for a "
        "Simulation object"))] = None
    params: dict[str, Any] = {}
    seed: int | None = None
    can_reset: bool = False


Status = Literal["not_started", "running", "paused", "complete", "faulted"]


class StateInfo(Struct, kw_only=True):
    """Where the simulation is. status sums it up; the rest is the engine's simulation state."""

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
    """Why a request failed. valid lists the accepted choices when there are any."""

    kind: Literal["bad_request", "unknown_name", "model_fault", "state", "internal"]
    message: str
    valid: list[str] | None = None
    op: str | None = None


class ErrorResponse(Struct, kw_only=True):
    """Any failed request. Nothing recorded is lost; state is included when known."""

    ok: Literal[False] = False
    error: ErrorInfo
    state: StateInfo | None = None


class Truncation(Struct, kw_only=True):
    """An answer cut to its byte budget: fetch the rest with fetch (or read the MCP
    resource uri)."""

    handle: str
    total: Annotated[int, Meta(description="items (rows, events, characters) in the whole answer")]
    returned: int
    next_offset: int
    uri: str


# ---- query spec -------------------------------------------------------------------------
class QuerySpec(Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """What a query can express (the Python API: sim.query.execute(spec)).

    last_s is a shorthand for start = now - last_s, end = the next float after now: the
    range [now - last_s, now], which includes the values in effect at now at any magnitude
    of time (now + 1 ns would be now itself past ~1.7e7 s)."""

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
    """source's series name compared with threshold (optionally for for_s
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
    """An anomaly detector on source's series metric."""

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
    """One series: who records it, its kind and unit, the tag keys seen on it."""

    source: Annotated[str, Meta(description="the entity that records it")]
    name: str
    kind: Annotated[Literal["gauge", "sample", "counter"], Meta(description=(
        "gauge: holds its value, time-weighted; counter: increments, rate per s; "
        "sample: aggregated per sample"))] | None = None
    unit: str | None = None
    tags: Annotated[list[str], Meta(description="tag keys seen (usable in group_by)")] = []


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


class EdgeInfo(Struct, kw_only=True):
    """A hop requests took, as seen in the recorded spans."""

    to: Annotated[str, Meta(description="the downstream entity")]
    requests: Annotated[int, Meta(description="spans of requests that made this hop")]


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



# ---- hypotheses: what changed, the state at an instant, what-if branches -------------------
Window = Annotated[list[Annotated[float, Meta(ge=0)]], Meta(min_length=2, max_length=2,
                                                            description=(
    "[start, end] in simulated seconds, half-open: start <= t < end"))]


class ChangesRequest(_Request, tag="changes"):
    """Every series of every entity, ranked by how much it changed from the before window
    to the after window; each measured by its kind (gauges time-weighted mean, counters
    rate, samples mean and p99), with when the change began (onset). Defaults: after is
    the last tenth of the elapsed time, before the tenth before it."""

    before: Window | None = None
    after: Window | None = None
    limit: Annotated[int, Meta(ge=1, le=10_000, description=(
        "how many of the most-changed series to return"))] = 20
    budget_bytes: Budget = 16_000


class ChangeRow(Struct, kw_only=True, omit_defaults=True):
    """How one series changed. before/after are the statistic named in statistic."""

    entity: str
    name: str
    kind: Annotated[str, Meta(description="gauge, counter or sample")]
    unit: str = ""
    statistic: Annotated[str, Meta(description=(
        "what before and after measure: time-weighted mean (gauges), rate per s "
        "(counters), mean (samples)"))]
    before: float | None = None
    after: float | None = None
    delta: Annotated[float, Meta(description="after - before")] | None = None
    relative: Annotated[float, Meta(description=(
        "(after - before) / |before|; absent when before is 0"))] | None = None
    p99_before: Annotated[float, Meta(description="samples: p99 in the before window")] \
        | None = None
    p99_after: Annotated[float, Meta(description="samples: p99 in the after window")] \
        | None = None
    score: Annotated[float, Meta(description=(
        "|ln((|after| + f) / (|before| + f))|, f a noise floor (the standard error of the "
        "change within each window, plus 1 percent of its size): the size of the factor of change, comparable "
        "across series; 0.69 = doubled or halved, 2.3 = tenfold. Samples score by the "
        "larger of mean and p99"))]
    no_data: Annotated[Literal["before", "after"], Meta(description=(
        "the window in which the series recorded nothing (it started or stopped "
        "recording): not scored, score 0"))] | None = None
    onset: Annotated[float, Meta(description=(
        "simulated second when the change began (one-sided CUSUM over the scanned range; "
        "resolution onset_resolution); absent when there is no clear start"))] | None = None


class ChangesResponse(_Response, tag="changes"):
    before: Window
    after: Window
    scanned: Annotated[list[float], Meta(description=(
        "the range the onset pass scanned: from one after-window length before after "
        "(not before before.start) to after.end"))]
    onset_resolution: Annotated[float, Meta(description="seconds per onset bin")]
    exact: Annotated[bool, Meta(description="every statistic came from exact stores")]
    total: Annotated[int, Meta(description="series compared")]
    series: Annotated[list[ChangeRow], Meta(description="most changed first")]
    omitted: Annotated[int, Meta(description=(
        "least-changed series left out by limit or to fit budget_bytes"))] = 0


class SnapshotRequest(_Request, tag="snapshot"):
    """The whole model at one instant: every entity's gauges in effect at at, counters'
    totals and samples' count and mean up to and including at, and the requests in the
    system then (waiting and in service). Default at: now."""

    at: NonNegSeconds | None = None
    budget_bytes: Budget = 16_000


class SampleSummary(Struct, kw_only=True):
    count: int
    mean: float


class EntitySnapshot(Struct, kw_only=True, omit_defaults=True):
    gauges: Annotated[dict[str, float], Meta(description="value in effect at at")] = {}
    counters: Annotated[dict[str, float], Meta(description="total up to and including at")] = {}
    samples: Annotated[dict[str, SampleSummary], Meta(description=(
        "count and mean of the samples up to and including at"))] = {}


class RequestsInSystem(Struct, kw_only=True):
    waiting: Annotated[float, Meta(description="sum of the stations' queue_depth")]
    in_service: Annotated[float, Meta(description="sum of the stations' in_flight")]
    total: float
    by_entity: dict[str, float]


class SnapshotResponse(_Response, tag="snapshot"):
    at: Seconds
    exact: bool
    entities: Annotated[dict[str, EntitySnapshot], Meta(description=(
        "by entity name, in flow order"))]
    requests: RequestsInSystem
    omitted: Annotated[list[str], Meta(description=(
        "entities left out to fit budget_bytes"))] = []


class ForkRequest(_Request, tag="fork"):
    """A what-if branch of this session, made by deterministic replay: the model is built
    again from its factory with the same seed, the branch's history (breakpoints,
    earlier changes) is replayed up to at (default: where the branch is now), the
    changes in set are applied, and the new branch pauses there. Then run, query or
    compare it. Needs a model factory (a MODEL spec or factory, not a Simulation
    object)."""

    at: Annotated[float, Meta(ge=0, description=(
        "simulated second to fork at, at most the branch's current time; default: now "
        "(the exact same event)"))] | None = None
    set: Annotated[dict[str, Any], Meta(description=(
        "changes to apply, {\"Entity.attribute\": value}: e.g. {\"Server.concurrency\": 2} "
        "(more workers), {\"Server.service_time.mean\": 0.08} (a new mean, same "
        "distribution family), {\"Users.rate\": 16} (a source's arrivals per second), "
        "{\"Client.retry_policy.max_attempts\": 1} (retries off). Values keep the "
        "attribute's type (no conversion); an unknown entity or attribute is refused with "
        "the valid names"))] = {}
    params: Annotated[dict[str, Any], Meta(description=(
        "factory parameters to change; the model is then a different one from the start "
        "and the history is replayed by simulated time"))] = {}
    name: Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$",
                              description="the new branch's name (default: fork-N)")] \
        | None = None


class ReplayInfo(Struct, kw_only=True):
    """What a replay did and what it cost."""

    to_time: Annotated[float, Meta(description="simulated second reached")]
    events: Annotated[int, Meta(description="model events replayed")]
    actions: Annotated[int, Meta(description="history entries re-applied")]
    wall_s: Annotated[float, Meta(description="wall-clock seconds the replay took")]


class BranchInfo(Struct, kw_only=True, omit_defaults=True):
    """One branch of the session."""

    name: str
    parent: Annotated[str, Meta(description="the branch it was forked from")] | None = None
    forked_at: Annotated[float, Meta(description="simulated second of the fork")] | None = None
    set: Annotated[dict[str, Any], Meta(description="changes applied at the fork")] = {}
    params: dict[str, Any] = {}
    status: Status
    current_time: Seconds
    events_processed: int


class ForkResponse(_Response, tag="fork"):
    branch: BranchInfo
    applied: Annotated[list[str], Meta(description="each change, old -> new")]
    replayed: ReplayInfo
    state: StateInfo


class BranchesRequest(_Request, tag="branches"):
    """The session's branches: main and every what-if made by fork."""


class BranchesResponse(_Response, tag="branches"):
    branches: list[BranchInfo]


class CompareRequest(_Request, tag="compare"):
    """The same query on several branches, side by side, with the differences from the
    first branch."""

    query: QuerySpec
    branches: Annotated[list[BranchName], Meta(description=(
        "branches to compare, the first is the base; default: every branch, main first"))] \
        = []
    budget_bytes: Budget = 16_000


class Difference(Struct, kw_only=True, omit_defaults=True):
    """One aggregate of one result row on every branch."""

    row: Annotated[dict[str, Any], Meta(description=(
        "what identifies the row: metric, source or name, window start, group (each "
        "branch's range end is in ranges)"))]
    aggregate: str
    values: Annotated[dict[str, float], Meta(description=(
        "by branch; a branch with no data for the row is absent"))]
    delta: Annotated[dict[str, float], Meta(description="by branch: value - base value")] = {}
    relative: Annotated[dict[str, float], Meta(description=(
        "by branch: (value - base) / |base| (absent when base is 0)"))] = {}


class CompareRange(Struct, kw_only=True, omit_defaults=True):
    """How a branch's answer was computed."""

    start: float | None = None
    end: float | None = None
    now: Annotated[float, Meta(description="the branch's current time")]
    weighting: str
    exact: bool


class CompareResponse(_Response, tag="compare"):
    branches: list[str]
    base: str
    ranges: dict[str, CompareRange]
    differences: list[Difference]
    omitted: Annotated[int, Meta(description="differences left out to fit budget_bytes")] = 0


class RewindRequest(_Request, tag="rewind"):
    """Replay the branch to simulated second to: everything recorded before to is the
    same, what came after is gone (history entries after to are dropped); the branch
    pauses there, ready to step, run or fork."""

    to: NonNegSeconds


class RewindResponse(_Response, tag="rewind"):
    replayed: ReplayInfo
    dropped: Annotated[list[str], Meta(description="history entries after to, dropped")]
    state: StateInfo


class DropBranchRequest(_Request, tag="drop_branch"):
    """Drop the what-if branch named in branch: its simulation and history are gone (a
    running branch is paused first); answers already cut and fetched by handle stay.
    main cannot be dropped. A session holds at most 16 branches: drop one to fork
    another."""


class DropBranchResponse(_Response, tag="drop_branch"):
    dropped: Annotated[str, Meta(description="the branch dropped")]
    branches: Annotated[list[str], Meta(description="the branches left, main first")]


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


__all__ = ["OPS", "PROTOCOL_VERSION", "ERROR_KINDS", "Request", "ErrorResponse",
           "ErrorInfo", "StateInfo", "summary_of", "msgspec"]
