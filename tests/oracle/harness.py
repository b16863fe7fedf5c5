"""Run one fuzz case and hold every answer against the oracle.

A `Case` is a model, a configuration, a control schedule, queries and an interface. The
reference is built from one uninterrupted ``full()`` run of the same model and seed,
with a subscriber of the bus collecting every observation (tagged with the number of
the event that emitted it). Then:

* the uninterrupted run under the case's configuration answers every query; each answer
  must equal the reference (float tolerance `_close`), lie within its stated
  ``error_bound`` over its stated range, or be a clear error (`QueryError`, or the
  protocol's ``ok: false``) where the reference refuses;
* a second run under the case's control schedule (steps, run_until, breakpoints of every
  kind, raising observers, reader threads) answers the queries at every pause — against
  the reference cut at that event — and, once complete, must hold exactly the stores of
  the uninterrupted run.

Every disagreement is a `Mismatch`; `Mismatch.cls` names its class for reports and for
`known_defects`.
"""

from __future__ import annotations

import itertools
import math
import signal
import threading
from dataclasses import dataclass
from typing import Any

import msgspec

from happysimulator.observability import Breakpoint, MetricCondition, ObservabilityConfig
from operators.simtime import TICKS_PER_SECOND  # the one ns -> seconds conversion
from tests.oracle.asking import _json_roundtrip, _resolve
from tests.oracle.checker import Checker, Mismatch, _close
from tests.oracle.models import (
    DECLARED,
    DECLARED_SPAN_ATTRIBUTES,
    DECLARED_TAGS,
    ENTITIES,
    ModelSpec,
    build,
)
from tests.oracle.reference import Reference

__all__ = ["Case", "Mismatch", "run_case", "CONFIGS", "reference_run"]


def _config(name: str) -> ObservabilityConfig:
    if name == "full":
        return ObservabilityConfig.full()
    if name == "default":
        return ObservabilityConfig.default()
    if name == "streaming":
        return ObservabilityConfig.streaming()
    if name == "tiny":  # streaming with tiny raw windows and retention
        return ObservabilityConfig.streaming().replace(
            raw_samples=8, rollup_s=1.0, event_capacity=16, trace_capacity=16)
    raise ValueError(name)


CONFIGS = ("full", "default", "streaming", "tiny")


@dataclass(frozen=True)
class Case:
    model: ModelSpec
    config: str = "full"
    #: control actions: ("step", n) ("run_until", dt) ("bp_time", dt) ("bp_count", n)
    #: ("bp_type", type) ("bp_metric", source, name, j) ("bp_condition", n)
    #: ("raise_observer", n) ("raise_hook", n) ("reader_thread",) ("pause_hook", n)
    schedule: tuple[tuple[Any, ...], ...] = ()
    #: query dicts; times are (anchor, offset): anchor "start" (the model's start time),
    #: "now" (the clock when asked) or "abs"
    queries: tuple[dict[str, Any], ...] = ()
    interface: str = "python"  # python | json | export
    budget: int = 16_000  # the protocol's budget_bytes (json interface)
    #: a live `operators.time_weighted` window (seconds) on Server.queue_depth during the
    #: uninterrupted run; every window it emits is held against the reference
    live: float | None = None
    #: hostile calls (tests/oracle/hostile.py) made on a fresh simulation of the model
    hostile: tuple[str, ...] = ()

    def describe(self) -> str:
        return (f"Case(model={self.model!r}, config={self.config!r}, "
                f"schedule={self.schedule!r}, queries={self.queries!r}, "
                f"interface={self.interface!r}, budget={self.budget!r}, live={self.live!r}, "
                f"hostile={self.hostile!r})")


# ---- the reference run -----------------------------------------------------------------
@dataclass
class RefRun:
    obs: list[tuple[int, Any]]  # (event number that emitted it, Observation)
    now: float
    events: int
    catalog: dict[tuple[str, str], str]
    entities: tuple[str, ...]
    error: str | None
    declared_tags: dict[tuple[str, str], tuple[str, ...]]
    declared_span_attributes: dict[str, tuple[str, ...]]

    def reference(self, upto: int | None, now: float, config: str) -> Reference:
        records = ("metrics", "spans") if config == "default" else (
            "metrics", "spans", "events")
        ref = Reference(now, entities=self.entities, catalog=self.catalog, records=records,
                        keeps_tags=config in ("full", "default"),
                        declared_tags=self.declared_tags,
                        declared_span_attributes=self.declared_span_attributes)
        for k, o in self.obs:
            if upto is not None and k > upto:
                break
            kind = o.kind.value
            if kind == "metric":
                ref.metric(o.time, o.source, o.name, self.catalog.get((o.source, o.name)),
                           o.value, o.tags)
            elif kind == "span":
                ref.span(o.value)
            elif kind == "event":
                ref.event(o.time, o.source, o.name, o.value, o.tags)
        return ref


_REF_CACHE: dict[ModelSpec, RefRun] = {}


def reference_run(model: ModelSpec) -> RefRun:
    """The uninterrupted full() run of `model`, every observation collected."""
    hit = _REF_CACHE.get(model)
    if hit is not None:
        return hit
    sim = build(model, ObservabilityConfig.full())
    obs: list[tuple[int, Any]] = []
    # what the components emitted when they were built (gauges' initial values) predates
    # any subscriber: take it from the store, as event 0
    from happysim_rx.observation import Observation, ObservationKind
    from happysim_rx.query import Query

    for src, name in sorted(DECLARED(model)):
        try:
            rows = sim.query.execute(Query().metrics(name).from_entity(src)).rows
        except Exception:  # noqa: BLE001 - not emitted yet: nothing to carry
            continue
        for r in rows:
            obs.append((0, Observation(r["time"], ObservationKind.METRIC, src, name,
                                       r["value"], r.get("tags"))))
    sim.observations.all().subscribe(lambda o: obs.append((sim._events_processed, o)))
    error = None
    try:
        sim.run()
    except Exception as exc:  # a model bug: the run stops there, in every configuration
        error = f"{type(exc).__name__}: {exc}"
    catalog = dict(DECLARED(model))
    for info in sim.observations.catalog():
        if info.kind.value == "metric" and info.series_kind:
            catalog[(info.source, info.name)] = info.series_kind
    run = RefRun(obs, sim.now_ns / TICKS_PER_SECOND, sim._events_processed, catalog,
                 ENTITIES(model), error, DECLARED_TAGS(model),
                 DECLARED_SPAN_ATTRIBUTES(model))
    if len(_REF_CACHE) > 64:
        _REF_CACHE.clear()
    _REF_CACHE[model] = run
    return run


# ---- running a case -----------------------------------------------------------------------
def _store_snapshot(sim: Any, catalog: dict[tuple[str, str], str], config: str) -> dict:
    """Everything the stores hold, through the query API (raw rows per series, spans and
    events counted)."""
    from happysim_rx.query import Query, QueryError

    out: dict[str, Any] = {}
    for (src, name) in sorted(catalog):
        try:
            r = sim.query.execute(Query().metrics(name).from_entity(src))
            out[f"m:{src}.{name}"] = [(row["time"], row["value"]) for row in r.rows]
        except QueryError as e:
            out[f"m:{src}.{name}"] = f"refused: {str(e)[:60]}"
    for kind in ("spans", "events"):
        try:
            q = Query().spans() if kind == "spans" else Query().events()
            r = sim.query.execute(q)
            key = "start" if kind == "spans" else "time"
            out[kind] = sorted((row[key], row.get("entity") or row.get("source"))
                               for row in r.rows)
        except QueryError as e:
            out[kind] = f"refused: {str(e)[:60]}"
    return out


def _first_diff(a: dict, b: dict) -> str:
    for k in sorted(set(a) | set(b)):
        x, y = a.get(k), b.get(k)
        if x != y:
            if isinstance(x, list) and isinstance(y, list):
                sx, sy = set(x), set(y)
                return (f"{k}: {len(x)} rows vs {len(y)} uninterrupted; extra "
                        f"{sorted(sx - sy)[:3]}, missing {sorted(sy - sx)[:3]}")
            return f"{k}: {str(x)[:80]} vs {str(y)[:80]}"
    return ""


def run_case(case: Case) -> list[Mismatch]:
    """Every disagreement of `case` with the oracle (empty: it holds)."""
    ref = reference_run(case.model)
    checker = Checker(case, ref)
    start_time = case.model.start_time
    if case.hostile:
        from tests.oracle.hostile import check_hostile

        for item, name, what in check_hostile(build(case.model, _config(case.config)),
                                              case.hostile):
            checker.add("hostile", f"{name}: {what}", extra={"item": item, "tag": item})
    # 1. the uninterrupted run under the case's configuration
    sim_u = build(case.model, _config(case.config))
    windows: list[Any] = []
    if case.live is not None:
        import operators as ops

        sim_u.observations.metrics("queue_depth", source="Server").pipe(
            ops.time_weighted(case.live, "mean")).subscribe(windows.append)
    try:
        sim_u.run()
    except Exception:
        pass
    now_u = sim_u.now_ns / TICKS_PER_SECOND
    if now_u != ref.now or sim_u._events_processed != ref.events:
        checker.add("run", f"ended at t={now_u}, {sim_u._events_processed} events; the "
                    f"full() run at t={ref.now}, {ref.events} events")
        return checker.mismatches
    for q in case.queries:
        checker.check_query(sim_u, _resolve(q, start_time, now_u, case.interface), None,
                            now_u, "final")
    if windows:
        _check_live(checker, windows, now_u)
    if case.interface == "json":
        _check_export_budget(checker, sim_u, case)
    if not case.schedule:
        return checker.mismatches
    # 2. the same under the control schedule: answers at every pause, then equal stores
    sim_s = build(case.model, _config(case.config))
    pauses = _drive(sim_s, case, ref, checker)
    del pauses
    checker.context["transient_rows"] = _standard_transients(sim_s)
    snap_u = _store_snapshot(sim_u, ref.catalog, case.config)
    snap_s = _store_snapshot(sim_s, ref.catalog, case.config)
    if snap_s != snap_u:
        checker.add("store", "after the schedule the stores differ from the uninterrupted "
                    f"run's: {_first_diff(snap_s, snap_u)}",
                    extra={"schedule": [a[0] for a in case.schedule]})
    past_end = any(a[0] == "run_until" and start_time + a[1] > now_u for a in case.schedule)
    if sim_s.now_ns != sim_u.now_ns and not past_end:
        checker.add("run", f"scheduled run ended at {sim_s.now_ns / TICKS_PER_SECOND}, uninterrupted "
                    f"at {now_u}")
    return checker.mismatches


def _drive(sim: Any, case: Case, ref: RefRun, checker: Checker) -> int:
    """Apply the schedule, answering the queries at each pause; run to completion."""
    control = sim.control
    st = case.model.start_time
    stop_reader = threading.Event()
    reader_errors: list[str] = []
    metric_bps: list[tuple[Breakpoint, str]] = []
    raising = {"n": 0}
    for action in case.schedule:
        op = action[0]
        if op == "bp_time":
            control.add_breakpoint(Breakpoint(time=st + action[1]))
        elif op == "bp_count":
            control.add_breakpoint(Breakpoint(event_count=action[1]))
        elif op == "bp_type":
            control.add_breakpoint(Breakpoint(event_type=action[1]))
        elif op == "bp_condition":
            n = action[1]
            control.add_breakpoint(Breakpoint(
                condition=lambda s, n=n: s.events_processed % n == 0))
        elif op == "bp_metric":
            _, src, name, j = action
            vals = [o.value for k, o in ref.obs
                    if o.kind.value == "metric" and o.source == src and o.name == name
                    and k >= 1]
            if ref.catalog.get((src, name)) == "counter":
                # a counter's condition holds on its running total (docs/design.md)
                vals = list(itertools.accumulate(vals))
            if vals:
                thr = vals[-1 - (j % len(vals))]
                bp = Breakpoint(metric_condition=MetricCondition(src, name, "ge", thr))
                control.add_breakpoint(bp)
                metric_bps.append((bp, f"{src}.{name} ge {thr}"))
        elif op == "raise_observer":
            n = action[1]
            count = {"k": 0}

            def boom(o: Any, n: int = n, count: dict = count) -> None:
                count["k"] += 1
                if count["k"] == n:
                    raising["n"] += 1
                    raise RuntimeError("observer bug")

            sim.observations.metrics().subscribe(boom)
        elif op == "raise_hook":
            n = action[1]
            seen = {"k": 0}

            def hook(ev: Any, n: int = n, seen: dict = seen) -> None:
                seen["k"] += 1
                if seen["k"] == n:
                    raise RuntimeError("hook bug")

            control.on_event(hook)
        elif op == "ctrl_c" and not raising.get("ctrl_c"):
            # (one Ctrl-C per run: a second before the pause is a hard interrupt by design)
            raising["ctrl_c"] = 1
            # Ctrl-C during run() at the n-th event (the handler run() installs, called as
            # the signal would call it): a pause at the next event boundary
            n = action[1]
            hits = {"k": 0}

            def interrupt(ev: Any, n: int = n, hits: dict = hits) -> None:
                hits["k"] += 1
                handler = getattr(control, "_on_sigint", None)
                if hits["k"] == n and handler is not None:
                    handler(signal.SIGINT, None)

            control.on_event(interrupt)
        elif op == "wall_timer":
            # unrelated program code on another thread, using reactivex's own wall-clock
            # timer while the simulation runs: it must tick, not fail
            fired = {"k": 0}

            def wall_hook(ev: Any, fired: dict = fired) -> None:
                fired["k"] += 1
                if fired["k"] != 2:
                    return
                got: list[str] = []

                def other() -> None:
                    import reactivex

                    done = threading.Event()
                    reactivex.timer(0.001).subscribe(
                        on_next=lambda _: (got.append("tick"), done.set()),
                        on_error=lambda e: (got.append(f"{type(e).__name__}: {e}"),
                                            done.set()))
                    done.wait(1.0)

                t = threading.Thread(target=other)
                t.start()
                t.join(2.0)
                if got != ["tick"]:
                    reader_errors.append(f"a reactivex.timer on another thread during the "
                                         f"run: {got or 'never fired'}")

            control.on_event(wall_hook)
        elif op == "reader_thread":
            def reader() -> None:
                while not stop_reader.is_set():
                    try:
                        _ = sim.query.trace_store
                        _ = sim.query.metric_store
                        sim.query.metrics("queue_depth").from_entity("Server").aggregate(
                            "count").execute()
                    except Exception as exc:  # noqa: BLE001 - a reader's failure is a finding
                        if "QueryError" not in type(exc).__name__:
                            reader_errors.append(f"{type(exc).__name__}: {exc}")

            threading.Thread(target=reader, daemon=True).start()
    steps = [a for a in case.schedule if a[0] in ("step", "run_until")]
    pauses = 0
    metric_pauses = 0
    last_hits = {"n": 0}
    errors: list[str] = []

    def at_pause() -> None:
        nonlocal pauses, metric_pauses
        pauses += 1
        hits = sum(bp.hits for bp, _ in metric_bps)
        if hits > last_hits["n"]:
            metric_pauses += 1
        last_hits["n"] = hits
        k = sim._events_processed
        now = sim.now_ns / TICKS_PER_SECOND
        checker.context["transient_rows"] = _standard_transients(sim)
        _check_model_truth(checker, sim, now)
        for q in case.queries[:3]:  # (a few per pause: cases stay fast)
            checker.check_query(sim, _resolve(q, st, now, case.interface), k, now, "pause")

    def advance(fn: Any) -> bool:
        try:
            fn()
        except Exception as exc:  # a model bug ends the run; anything else is a finding
            if ref.error is None:
                errors.append(f"{type(exc).__name__}: {exc}")
            return False
        return True

    ok = True
    for a in steps:
        if control.is_complete or not ok:
            break
        if a[0] == "step":
            ok = advance(lambda n=a[1]: control.step(n))
        else:
            target = st + a[1]
            if target < sim.now_ns / TICKS_PER_SECOND:
                continue
            ok = advance(lambda t=target: control.run_until(t))
        if ok and control.is_paused:
            at_pause()
    # every resume runs at least one event unless the run is stuck: more resumes than the
    # uninterrupted run's events (breakpoints on every request of a retrying client take
    # hundreds) means it does not finish
    guard, most = 0, ref.events + 100
    while ok and not control.is_complete:
        guard += 1
        if guard > most:
            checker.add("run", f"the scheduled run does not finish after {most} resumes")
            break
        if control.is_paused:
            ok = advance(control.resume)
        else:
            ok = advance(sim.run)
        if ok and control.is_paused:
            at_pause()
    stop_reader.set()
    for e in errors + reader_errors:
        checker.add("crash", f"driving the run: {e}",
                    extra={"schedule": [x[0] for x in case.schedule]})
    if ref.error is None and metric_bps and ok and metric_pauses == 0:
        checker.add("breakpoint", "a metric breakpoint whose condition the run satisfies "
                    f"never paused it ({metric_bps[0][1]}; hits={metric_bps[0][0].hits})",
                    extra={"tag": "metric"})
    return pauses


def _standard_transients(sim: Any) -> bool:
    """Whether a standard component's gauge holds two rows at one instant (a value that
    was in effect for no time, recorded as a change)."""
    from happysim_rx.query import Query, QueryError

    for src in ("Server", "Worker"):
        for name in ("queue_depth", "in_flight"):
            try:
                rows = sim.query.execute(Query().metrics(name).from_entity(src)).rows
            except QueryError:
                continue
            times = [r["time"] for r in rows]
            if len(times) != len(set(times)):
                return True
    return False


def _check_live(checker: Checker, windows: list[Any], now: float) -> None:
    """Each window a live `time_weighted` operator emitted equals the reference's
    time-weighted mean over the window (as far as the run got: a partial last window)."""
    ref = checker.ref.reference(None, now, "full")
    for w in windows:
        q = {"kind": "metrics", "name": "queue_depth", "entity": "Server",
             "start": w.start, "end": min(w.end, now) if w.partial else w.end,
             "aggregates": ["mean"]}
        if q["end"] <= q["start"]:
            continue
        rows = ref.answer(q).rows
        want = rows[0]["mean"] if rows else None
        got = w.values.get("mean")
        if want is None or got is None:
            if (want is None) != (got is None):
                checker.add("live", f"window [{w.start}, {w.end}) mean={got!r}, the "
                            f"reference {want!r}", query=q, series_kind="gauge",
                            aggregate="mean")
            continue
        if not _close(float(got), want[0], want[1], 1e-9, abs(w.end), w.end - w.start):
            checker.add("live", f"window [{w.start}, {w.end}) mean={got!r}, the reference "
                        f"{want[0]!r}", query=q, series_kind="gauge", aggregate="mean")
            return


def _check_model_truth(checker: Checker, sim: Any, now: float) -> None:
    """At a pause the gauges in effect now are the model's own state: the waiting line
    (`len(policy)`, whatever model code did to it) and the requests in service."""
    from happysim_rx.query import Query, QueryError

    for name in ("Server", "Worker"):
        ent = next((e for e in sim.entities if getattr(e, "name", None) == name), None)
        if ent is None:
            continue
        truth = {"queue_depth": len(ent.queue.policy), "in_flight": ent.in_flight}
        for series, want in truth.items():
            try:
                r = sim.query.execute(Query().metrics(series).from_entity(name).between(
                    now - 1e12, math.nextafter(now, math.inf)).aggregate("last"))
            except QueryError:
                continue
            got = r.scalar
            if got is not None and got != want:
                checker.add("model", f"{name}.{series} in effect at now={now} is {got}; "
                            f"the model's state is {want}", when="pause",
                            query={"kind": "metrics", "name": series, "entity": name},
                            series_kind="gauge")


def _check_export_budget(checker: Checker, sim: Any, case: Case) -> None:
    """The protocol's CSV/JSON export cut to a budget: the answer fits the budget, says
    its size truly, and the pieces fetched add up to the whole."""
    from happysimulator.observability.json_api import JsonSession

    session = JsonSession(sim)
    spec = {"kind": "metrics", "name": "*", "aggregates": []}
    whole = _json_roundtrip(session, {"op": "export", "query": spec, "format": "csv",
                                      "budget_bytes": 1_000_000})
    if not whole.get("ok"):
        return
    text = whole["content"]
    resp_bytes = len(msgspec.json.encode(
        _json_roundtrip(session, {"op": "export", "query": spec, "format": "csv",
                                  "budget_bytes": case.budget})))
    resp = _json_roundtrip(session, {"op": "export", "query": spec, "format": "csv",
                                     "budget_bytes": case.budget})
    ctx = {"query": spec, "extra": {"tag": "export-csv"}}
    if not resp.get("ok"):
        checker.add("export", f"csv export at budget {case.budget} failed: {resp.get('error')}",
                    **ctx)
        return
    if resp.get("truncated") and resp_bytes > case.budget:
        checker.add("export", f"csv export at budget {case.budget} answered {resp_bytes} "
                    f"bytes (size_bytes says {resp['size_bytes']})", **ctx)
    if resp["size_bytes"] != len(msgspec.json.encode(resp["content"])) and resp[
            "size_bytes"] != len(resp["content"].encode()):
        checker.add("export", f"size_bytes {resp['size_bytes']} is not the content's size",
                    **ctx)
    got, trunc, n = resp["content"], resp.get("truncated"), 0
    while trunc:
        n += 1
        if n > 5000:
            checker.add("export", f"fetching the csv at budget {case.budget} does not end",
                        **ctx)
            return
        fr = _json_roundtrip(session, {"op": "fetch", "handle": trunc["handle"],
                                       "offset": trunc["next_offset"],
                                       "budget_bytes": case.budget})
        if not fr.get("ok"):
            checker.add("export", f"fetch failed: {fr.get('error')}", **ctx)
            return
        if not fr["items"] and (fr.get("truncated") or {}).get("next_offset") == trunc[
                "next_offset"]:
            checker.add("export", f"fetching the csv at budget {case.budget} makes no "
                        "progress", **ctx)
            return
        got += fr["items"]
        trunc = fr.get("truncated")
    if got != text:
        checker.add("export", f"the csv fetched in pieces ({len(got)} chars) is not the "
                    f"whole ({len(text)} chars)", **ctx)
