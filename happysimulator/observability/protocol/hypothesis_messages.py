"""The messages of the hypothesis operations: what changed, the state at an instant and
what-if branches (changes, snapshot, fork, branches, compare, rewind, drop_branch)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from happysimulator.observability.protocol.message_shapes import (
    BranchName,
    Budget,
    NonNegSeconds,
    QuerySpec,
    Seconds,
    StateInfo,
    Status,
    _Request,
    _Response,
)

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
