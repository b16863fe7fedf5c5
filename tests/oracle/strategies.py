"""Hypothesis strategies: models, configurations, control schedules, queries, interfaces.

Everything drawn is plain data (shrinkable, printable as a repro). Query times are
``(anchor, offset)`` pairs resolved when asked: ``"start"`` (the model's start time),
``"now"`` (the clock at that moment: ranges reaching past it) or ``"abs"`` (absolute
seconds: ranges at 1e9 s and beyond, before the first sample).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.oracle.harness import CONFIGS, Case
from tests.oracle.hostile import HOSTILE
from tests.oracle.models import ModelSpec

__all__ = ["models", "queries", "schedules", "cases"]

_GAUGES = [("Server", "queue_depth"), ("Server", "in_flight"), ("Router", "load"),
           ("Worker", "queue_depth"), ("Worker", "in_flight"), ("Prober", "level"),
           ("Prober", "level"), ("LB", "healthy_backends"), ("Server2", "queue_depth")]
_SAMPLES = [("Server", "wait_time"), ("Server", "service_time"), ("Sink", "latency"),
            ("Router", "hops"), ("Worker", "wait_time"), ("Client", "latency")]
_COUNTERS = [("Server", "arrivals"), ("Server", "completed"), ("Server", "dropped"),
             ("Source", "generated"), ("Router", "routed"), ("Client", "requests"),
             ("Client", "retries"), ("Client", "timeouts"), ("Client", "wasted"),
             ("LB", "routed"), ("Client", "failures"), ("LB", "rejected")]
_GLOBS = ["*", "*_time", "in_*", "*e*", "queue_depth", "latency"]
#: the tag key each tagged series carries or declares: Router's routed/hops (carried,
#: undeclared), LB's routed (declared), Client's failures (declared, carried once one
#: fails), Prober's level (a declared tag on a gauge: the time held from matching changes)
_TAG_KEYS = {"routed": "backend", "hops": "lane", "failures": "reason", "level": "phase"}
_TAG_VALUES = {"backend": ["a", "b", "Server", "Server2"], "lane": ["a", "b"],
               "reason": ["timeout", "nosuch"], "phase": ["even", "odd"]}
_AGGS = ["count", "sum", "mean", "min", "max", "stddev", "p50", "p90", "p99", "p99.9",
         "rate", "last", "first"]


@st.composite
def models(draw: Any) -> ModelSpec:
    start = draw(st.sampled_from([0.0, 0.0, 0.0, 3e7, 1e9]))
    service = draw(st.sampled_from(["exp", "const", "zero"]))
    arrivals = draw(st.sampled_from(["poisson", "constant"]))
    rate = draw(st.sampled_from([1.0, 2.0, 4.0, 8.0]))
    cancels: tuple[float, ...] = ()
    if draw(st.booleans()):
        cancels = tuple(sorted(draw(st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, 4.5]),
                                             max_size=3, unique=True))))
    return ModelSpec(
        seed=draw(st.integers(0, 5)),
        arrivals=arrivals,
        rate=rate,
        limit=draw(st.integers(1, 40)),
        start_time=start,
        concurrency=draw(st.sampled_from([1, 1, 2])),
        service=service,
        service_mean=draw(st.sampled_from([0.125, 0.25, 0.5, 1.0])),
        queue_capacity=draw(st.sampled_from([None, None, 2])),
        router=draw(st.booleans()),
        worker=draw(st.booleans()),
        worker_service=draw(st.sampled_from([0.0, 0.0, 0.25])),
        cancels=cancels,
        raise_at=draw(st.sampled_from([None] * 6 + [3])),
        probe=draw(st.booleans()),
        client_attempts=draw(st.sampled_from([0, 0, 1, 2, 3])),
        client_timeout=draw(st.sampled_from([None, 0.3, 1.0])),
        client_backoff=draw(st.booleans()),
        balancer=draw(st.integers(0, 3)) == 0,
    )


def _time(draw: Any) -> tuple[str, float]:
    kind = draw(st.sampled_from(["start", "start", "start", "now", "abs"]))
    if kind == "start":
        return ("start", draw(st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0, 3.5, 5.0, 10.0])))
    if kind == "now":
        return ("now", draw(st.sampled_from([-10.0, -1.0, 0.0, 1e-9, 5.0, 100.0])))
    return ("abs", draw(st.sampled_from([0.0, 1e9, 1e9 + 10.0, 2e9])))


@st.composite
def metric_queries(draw: Any) -> dict[str, Any]:
    pick = draw(st.sampled_from(["gauge", "sample", "counter", "glob"]))
    q: dict[str, Any] = {"kind": "metrics"}
    weighting = None
    if pick == "glob":
        q["name"] = draw(st.sampled_from(_GLOBS))
        q["entity"] = draw(st.sampled_from(["*", "*", "S*", "Server"]))
        if draw(st.integers(0, 3)) == 0:  # one weighting asked of a pool of several kinds
            weighting = draw(st.sampled_from(["time", "sample"]))
    else:
        src, name = draw(st.sampled_from({"gauge": _GAUGES, "sample": _SAMPLES,
                                          "counter": _COUNTERS}[pick]))
        q["name"], q["entity"] = name, draw(st.sampled_from([src, src, "*"]))
        if pick == "gauge" and draw(st.booleans()):
            weighting = draw(st.sampled_from(["time", "sample"]))
    form = draw(st.integers(0, 7))
    if form >= 2:
        q["start"], q["end"] = _time(draw), _time(draw)
    elif form == 1:
        q["last_s"] = draw(st.sampled_from([0.5, 1.0, 10.0]))
    elif draw(st.booleans()):
        q["start"] = _time(draw)  # since(start): the end is open
    aggs = draw(st.lists(st.sampled_from(_AGGS), min_size=0, max_size=4, unique=True))
    if draw(st.integers(0, 6)) == 0:
        aggs = []  # raw rows
    q["aggregates"] = aggs
    if aggs and draw(st.integers(0, 3)) == 0:
        q["window"] = draw(st.sampled_from([0.5, 1.0, 2.5]))
        if "start" not in q and "last_s" not in q:
            q["start"], q["end"] = ("start", 0.0), ("start", 8.0)
    if aggs:
        gb = draw(st.sampled_from([[], [], [], ["entity"], ["name"], ["tag"]]))
        if gb == ["tag"]:
            # a key the series carries or declares, or (rarely) one it can never carry:
            # valid keys group (into no row when nothing in the range carries them), any
            # other is refused with or without data
            gb = [_TAG_KEYS.get(q["name"], draw(st.sampled_from(["nosuch", "backend"])))]
        q["group_by"] = gb
    key = _TAG_KEYS.get(q["name"])
    if key is not None and draw(st.booleans()):
        q["tags"] = {key: draw(st.sampled_from(_TAG_VALUES[key]))}
    elif draw(st.integers(0, 15)) == 0:  # a key no selected series declares or carries
        q["tags"] = {draw(st.sampled_from(["nosuch", "backend", "reason"])): "a"}
    if weighting:
        q["weighting"] = weighting
    return q


@st.composite
def record_queries(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(["spans", "events"]))
    q: dict[str, Any] = {"kind": kind}
    if kind == "spans":
        q["entity"] = draw(st.sampled_from(["*", "Sink", "Server", "Worker", "Source",
                                            "Client", "LB", "Router"]))
        aggs = draw(st.lists(st.sampled_from(["count", "mean", "max", "p90", "rate"]),
                             min_size=1, max_size=3, unique=True))
        # attribute keys: the entity's own (declared, or carried once recorded: the
        # Router's lane), another entity's, or a typo -- refused with or without data
        pick = draw(st.integers(0, 5))
        if pick == 1:
            key, values = draw(st.sampled_from(_SPAN_ATTRS.get(q["entity"], _ANY_ATTR)))
            q["tags"] = {key: draw(st.sampled_from(values))}
        elif pick == 2:
            q["tags"] = {draw(st.sampled_from(["bkend", "lane", "backend", "entity"])): "a"}
        elif pick == 3:
            key, _ = draw(st.sampled_from(_SPAN_ATTRS.get(q["entity"], _ANY_ATTR)))
            q["group_by"] = [draw(st.sampled_from([key, key, "outcom"]))]
    else:
        q["name"] = draw(st.sampled_from(["*", "Request", "service.done"]))
        # (with a numeric aggregate too: events without a value still count)
        aggs = draw(st.lists(st.sampled_from(["count", "rate", "mean", "max"]), min_size=1,
                             max_size=3, unique=True))
    q["aggregates"] = aggs
    if draw(st.integers(0, 4)) > 0:
        q["start"], q["end"] = _time(draw), _time(draw)
    if draw(st.integers(0, 4)) == 0 and "group_by" not in q:
        q["group_by"] = ["entity"]
    return q


#: span attribute keys per entity (with values they take) for the fuzzer's filters
_SPAN_ATTRS: dict[str, list[tuple[str, list[Any]]]] = {
    "LB": [("backend", ["Server", "Server2"])],
    "Client": [("outcome", ["ok", "timeout"]), ("attempt", [1, 2])],
    "Router": [("lane", ["a", "b"])],
    "Server": [("status", ["dropped"])],
    "Sink": [("latency", [0.5])],
}
_ANY_ATTR = [("lane", ["a"]), ("backend", ["Server"]), ("status", ["dropped"])]


@st.composite
def probe_queries(draw: Any) -> dict[str, Any]:
    """Quantiles of the whole-second probe gauge over a few seconds (the case where held
    seconds equal the number of held segments)."""
    q = {"kind": "metrics", "name": "level", "entity": "Prober",
         "start": ("start", draw(st.sampled_from([0.0, 0.0, 1.5, 2.0, 2.5]))),
         "end": ("start", draw(st.sampled_from([3.25, 4.0, 8.0, 12.0]))),
         "aggregates": draw(st.lists(st.sampled_from(["p10", "p50", "p90", "mean"]),
                                     min_size=1, max_size=3, unique=True)),
         "weighting": draw(st.sampled_from([None, "time", "sample"]))}
    tag = draw(st.sampled_from([None, None, "tags", "group_by"]))
    if tag == "tags":
        q["tags"] = {"phase": draw(st.sampled_from(["even", "odd"]))}
    elif tag == "group_by":  # (a short range: a phase only carried in is a group too)
        q["group_by"] = ["phase"]
        if draw(st.booleans()):
            q["window"] = 1.0
    return q


def queries() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(metric_queries(), metric_queries(), record_queries(), probe_queries())


_BP_SERIES = [("Sink", "latency"), ("Server", "wait_time"), ("Server", "service_time"),
              ("Server", "arrivals")]  # (a counter: its running total is compared)


@st.composite
def schedules(draw: Any) -> tuple[tuple[Any, ...], ...]:
    actions: list[tuple[Any, ...]] = []
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from([
            "step", "step", "run_until", "bp_time", "bp_count", "bp_type", "bp_metric",
            "bp_condition", "raise_observer", "raise_hook", "reader_thread", "wall_timer", "ctrl_c"]))
        if op == "step":
            actions.append(("step", draw(st.integers(1, 7))))
        elif op == "run_until":
            actions.append(("run_until", draw(st.sampled_from([0.0, 0.5, 1.0, 2.25, 4.0]))))
        elif op == "bp_time":
            actions.append(("bp_time", draw(st.sampled_from([0.5, 1.0, 1.75, 3.0]))))
        elif op == "bp_count":
            actions.append(("bp_count", draw(st.integers(1, 40))))
        elif op == "bp_type":
            actions.append(("bp_type", draw(st.sampled_from(["Request", "service.done"]))))
        elif op == "bp_metric":
            src, name = draw(st.sampled_from(_BP_SERIES))
            actions.append(("bp_metric", src, name, draw(st.integers(0, 3))))
        elif op == "bp_condition":
            actions.append(("bp_condition", draw(st.integers(3, 12))))
        elif op in ("raise_observer", "raise_hook", "ctrl_c"):
            actions.append((op, draw(st.integers(1, 20))))
        else:
            actions.append((op,))
    return tuple(actions)


@st.composite
def cases(draw: Any) -> Case:
    return Case(
        model=draw(models()),
        config=draw(st.sampled_from(CONFIGS)),
        schedule=draw(schedules()),
        queries=tuple(draw(st.lists(queries(), min_size=1, max_size=6))),
        interface=draw(st.sampled_from(["python", "python", "json", "export"])),
        budget=draw(st.sampled_from([16_000, 16_000, 600, 1_000, 3_000])),
        live=draw(st.sampled_from([None, None, None, 0.5, 1.0])),
        hostile=tuple(draw(st.lists(st.sampled_from(sorted(HOSTILE)), max_size=2,
                                    unique=True))),
    )
