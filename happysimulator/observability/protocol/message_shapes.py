"""The session protocol's building blocks: its version, error kinds, constrained scalars,
the request/response base classes and the shapes several messages share (state, errors,
query specs). The operations' own messages are in `messages` and `hypothesis_messages`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

PROTOCOL_VERSION = "happysim-rx.session/1"

ERROR_KINDS = ("bad_request", "unknown_name", "not_kept", "model_fault", "state",
               "internal")

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

    kind: Literal["bad_request", "unknown_name", "not_kept", "model_fault", "state",
                  "internal"]
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
