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
from dataclasses import dataclass, field
from typing import Any

import msgspec

from happysimulator.observability import Breakpoint, MetricCondition, ObservabilityConfig
from operators.simtime import TICKS_PER_SECOND  # the one ns -> seconds conversion
from tests.oracle.models import DECLARED, ENTITIES, ModelSpec, build
from tests.oracle.reference import Reference, RefRefusal, parse_quantile

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


@dataclass
class Mismatch:
    check: str  # what disagreed (see `cls`)
    detail: str
    config: str = ""
    interface: str = ""
    when: str = "final"  # final | pause
    query: dict[str, Any] | None = None
    aggregate: str | None = None
    series_kind: str | None = None
    weighting: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cls(self) -> str:
        """The class of the disagreement: what check, where, for which kind of answer."""
        parts = [self.check, self.config, self.interface, self.when]
        q = self.query or {}
        if q:
            parts.append(q.get("kind") or "")
        if self.series_kind:
            parts.append(self.series_kind)
        if self.aggregate:
            fam = "pNN" if parse_quantile(self.aggregate) is not None else self.aggregate
            parts.append(fam)
        if self.weighting:
            parts.append(self.weighting)
        for k in ("tag",):
            if k in self.extra:
                parts.append(str(self.extra[k]))
        return "|".join(p for p in parts if p)


# ---- the reference run -----------------------------------------------------------------
@dataclass
class RefRun:
    obs: list[tuple[int, Any]]  # (event number that emitted it, Observation)
    now: float
    events: int
    catalog: dict[tuple[str, str], str]
    entities: tuple[str, ...]
    error: str | None

    def reference(self, upto: int | None, now: float, config: str) -> Reference:
        records = ("metrics", "spans") if config == "default" else (
            "metrics", "spans", "events")
        ref = Reference(now, entities=self.entities, catalog=self.catalog, records=records,
                        keeps_tags=config in ("full", "default"))
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
    run = RefRun(obs, sim.now_ns / TICKS_PER_SECOND, sim._events_processed, catalog, ENTITIES(model), error)
    if len(_REF_CACHE) > 64:
        _REF_CACHE.clear()
    _REF_CACHE[model] = run
    return run


# ---- asking -------------------------------------------------------------------------------
@dataclass
class Answer:
    rows: list[dict[str, Any]]
    exact: bool
    error_bound: float | None
    weighting: str | None
    start: float | None = None
    end: float | None = None


class Refused(Exception):
    """The system refused the question with a clear error (message kept)."""


class Crashed(Exception):
    """The system failed in a way that is not a clear error."""


def _resolve(q: dict[str, Any], start_time: float, now: float,
             interface: str = "json") -> dict[str, Any]:
    out = dict(q)
    if out.get("last_s") is not None:
        if interface == "json":
            return out  # (the protocol resolves it; the reference reads it in check_query)
        last = out.pop("last_s")  # the Python API's spelling of "the last s seconds"
        out["start"], out["end"] = now - last, math.nextafter(now, math.inf)
        return out
    for key in ("start", "end"):
        v = out.get(key)
        if isinstance(v, tuple):
            anchor, off = v
            base = {"start": start_time, "now": now, "abs": 0.0}[anchor]
            out[key] = base + off
    if out.get("start") is not None and out.get("end") is not None and out["start"] > out["end"]:
        out["start"], out["end"] = out["end"], out["start"]
    return out


def ask(sim: Any, q: dict[str, Any], interface: str, budget: int) -> Answer:
    from happysim_rx.query import Query, QueryError

    if interface == "python":
        try:
            r = sim.query.execute(Query.from_dict(q))
        except QueryError as e:
            raise Refused(str(e)) from None
        except Exception as e:
            raise Crashed(f"{type(e).__name__}: {e}") from None
        return Answer(r.rows, r.exact, r.error_bound, r.weighting, r.start, r.end)
    if interface == "export":
        from happysimulator.observability import Exporter

        try:
            text = Exporter(sim).to_json(Query.from_dict(q))
        except QueryError as e:
            raise Refused(str(e)) from None
        except Exception as e:
            raise Crashed(f"{type(e).__name__}: {e}") from None
        d = msgspec.json.decode(text)
        return Answer(d["rows"], d["exact"], d["error_bound"], d["weighting"],
                      d.get("start"), d.get("end"))
    if interface == "json":
        from happysimulator.observability.json_api import JsonSession

        session = JsonSession(sim)
        spec = {k: v for k, v in q.items() if v not in (None, [], {}, ())}
        spec = {k: (list(v) if isinstance(v, tuple) else v) for k, v in spec.items()}
        resp = _json_roundtrip(session, {"op": "query", "query": spec, "budget_bytes": budget})
        if not resp.get("ok"):
            err = resp.get("error") or {}
            if err.get("kind") in ("bad_request", "unknown_name") and err.get("message"):
                raise Refused(err["message"])
            raise Crashed(f"protocol error {err!r}")
        res = resp["result"]
        rows = list(res["rows"])
        trunc = resp.get("truncated")
        seen = 0
        while trunc:
            seen += 1
            if seen > 2000:
                raise Crashed(f"fetch loop does not end (budget {budget}): {trunc!r}")
            fr = _json_roundtrip(session, {"op": "fetch", "handle": trunc["handle"],
                                           "offset": trunc["next_offset"],
                                           "budget_bytes": budget})
            if not fr.get("ok"):
                raise Crashed(f"fetch failed: {fr.get('error')!r}")
            if not fr["items"] and fr.get("truncated") and (
                    fr["truncated"]["next_offset"] == trunc["next_offset"]):
                raise Crashed(f"fetch makes no progress at budget {budget}: "
                              f"offset {trunc['next_offset']} again, 0 items")
            rows += fr["items"]
            trunc = fr.get("truncated")
        return Answer(rows, res["exact"], res["error_bound"], res["weighting"],
                      res.get("start"), res.get("end"))
    raise ValueError(interface)


def _json_roundtrip(session: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Through JSON text both ways, as a remote client sees it."""
    text = session.handle_json(msgspec.json.encode(request))
    return msgspec.json.decode(text)


# ---- comparing ----------------------------------------------------------------------------
def _close(x: float, lo: float, hi: float, rel: float, scale_t: float = 0.0,
           duration: float = 1.0) -> bool:
    """x within [lo, hi] up to rel (relative) plus the float resolution of times around
    scale_t over a duration (time-weighted values and rates divide by durations that are
    differences of large times)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return False
    mag = max(abs(lo), abs(hi), 1e-300)
    ulp_term = 0.0
    if scale_t and duration > 0:
        ulp_term = 64 * math.ulp(scale_t) / duration
    tol = mag * (rel + ulp_term) + 1e-12
    return lo - tol <= x <= hi + tol


def _same_t(a: Any, b: Any) -> bool:
    """Range edges equal up to 4 ulp (an open range's edge is a data time, computed
    from integer nanoseconds in one place and in float seconds in another)."""
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 4 * math.ulp(max(abs(a), abs(b), 1.0))


def _group_key(row: dict[str, Any], keys: list[str]) -> tuple:
    return tuple(row.get(k) for k in keys)


class Checker:
    def __init__(self, case: Case, ref: RefRun) -> None:
        self.case, self.ref = case, ref
        self.mismatches: list[Mismatch] = []
        #: facts about the moment being checked (e.g. the store holds same-instant rows)
        self.context: dict[str, Any] = {}

    def add(self, check: str, detail: str, **kw: Any) -> None:
        kw.pop("group", None)
        extra = dict(kw.get("extra") or {})
        model = self.case.model
        extra.update(self.context)
        extra.setdefault("cancels", bool(model.cancels))
        extra.setdefault("start_time", model.start_time)
        extra.setdefault("schedule", [a[0] for a in self.case.schedule])
        q = kw.get("query") or {}
        extra["user_gauge"] = q.get("kind") == "metrics" and any(
            on and _match(name, q.get("name") or "") and _match(src, q.get("entity") or "*")
            for on, src, name in ((model.router, "Router", "load"),
                                  (model.probe, "Prober", "level")))
        kw["extra"] = extra
        if "group" in extra:
            detail = f"[group {extra['group']}] {detail}"
        self.mismatches.append(Mismatch(check, detail, config=self.case.config,
                                        interface=self.case.interface, **kw))

    def check_query(self, sim: Any, q: dict[str, Any], upto: int | None, now: float,
                    when: str) -> None:
        case = self.case
        self._now = now
        ref = self.ref.reference(upto, now, case.config)
        kind = q.get("kind")
        series_kind = None
        if kind == "metrics":
            kinds = {k for (s, n), k in self.ref.catalog.items()
                     if _match(n, q["name"]) and _match(s, q.get("entity") or "*")}
            series_kind = "+".join(sorted(kinds)) if kinds else None
        ctx: dict[str, Any] = {"query": q, "when": when, "series_kind": series_kind}
        rq = q
        if q.get("last_s") is not None:
            # "the last s seconds": [now - s, now] with the values in effect at now
            rq = {k: v for k, v in q.items() if k != "last_s"}
            rq["start"], rq["end"] = now - q["last_s"], math.nextafter(now, math.inf)
        try:
            expected = ref.answer(rq)
            refusal = None
        except RefRefusal as e:
            expected, refusal = None, str(e)
        try:
            got = ask(sim, q, case.interface, case.budget)
        except Refused as e:
            if refusal is not None:
                return
            if self._refusal_allowed(q, str(e)):
                return
            self.add("refused", f"refused {e} where the reference answers", **ctx)
            return
        except Crashed as e:
            self.add("crash", str(e), **ctx)
            return
        if refusal is not None:
            self.add("answered", f"answered where the reference refuses ({refusal}): "
                     f"rows={got.rows[:3]!r} exact={got.exact}", **ctx)
            return
        assert expected is not None
        aggs = list(q.get("aggregates") or [])
        if not aggs:
            self._check_raw(got, expected, q, ctx, now)
            return
        for r in got.rows:
            if r.get("start") is not None and r.get("end") is not None and r["start"] > r["end"]:
                self.add("range", f"row with start {r['start']} > end {r['end']}", **ctx)
                return
        if q.get("end") is not None and q["end"] > now and self.ref.now >= now:
            # a range past now answers up to now and says so: no row (that began by now)
            # states an end after the instant just past now
            limit = math.nextafter(now, math.inf)
            for r in got.rows:
                a, b = r.get("start"), r.get("end")
                if a is not None and b is not None and a <= now and b > limit and not _same_t(
                        b, limit):
                    self.add("says", f"row [{a}, {b}) reaches past now={now} and does not say "
                             "it answers only up to now", **ctx)
                    break
        if got.weighting == "mixed":
            # groups of different kinds: each row says its own weighting (rows matched by
            # group, not by position: a bounded store may answer a group in fewer, wider
            # rows than the reference's windows)
            gkeys = ["source" if k == "entity" else k for k in (q.get("group_by") or [])]
            by_group = {_group_key(e, gkeys): e.get("_weighting") for e in expected.rows}
            for g in got.rows:
                want = by_group.get(_group_key(g, gkeys))
                if g.get("weighting") not in (None, want):
                    self.add("weighting", f"row says weighting {g.get('weighting')!r}, the "
                             f"reference's group uses {want!r}", **ctx)
                    break
        elif got.weighting is not None and got.weighting != expected.weighting:
            self.add("weighting", f"says weighting {got.weighting!r}, answers per the "
                     f"reference use {expected.weighting!r}", **ctx)
        keys = ["source" if k == "entity" else k for k in (q.get("group_by") or [])]
        exp_rows = expected.rows
        got_rows = got.rows
        if (not got_rows and len(exp_rows) == 1 and q.get("end") is None
                and exp_rows[0].get("start") == exp_rows[0].get("end")):
            return  # since(t) after the data and now: no row is as good as an empty one
        approximate = case.config in ("streaming", "tiny")
        if len(got_rows) != len(exp_rows) or any(
                not (_same_t(g.get("start"), e.get("start")) and _same_t(g.get("end"),
                                                                         e.get("end")))
                for g, e in zip(got_rows, exp_rows, strict=False)):
            # a streaming store may answer a stated (snapped) range: recompute over it
            if approximate and got_rows and all(
                    r.get("start") is not None and r.get("end") is not None for r in got_rows):
                exp_rows = []
                for r in got_rows:
                    sub = dict(q, start=r["start"], end=r["end"], window=None, group_by=[],
                               limit=None)
                    if keys:
                        for k in keys:
                            if k in ("source", "name"):
                                sub["entity" if k == "source" else "name"] = r.get(k)
                            else:
                                sub["tags"] = {**(sub.get("tags") or {}), k: r.get(k)}
                    try:
                        e_rows = ref.answer(sub).rows
                    except RefRefusal as e:
                        self.add("answered", f"stated range row refused by reference: {e}",
                                 **ctx)
                        return
                    exp_rows.append({**(e_rows[0] if e_rows else {}), **{
                        k: r.get(k) for k in keys}, "start": r["start"], "end": r["end"]})
            elif (approximate and not got_rows and keys and got.start is not None
                  and got.end is not None and not _refused_or_rows(ref, dict(
                      q, start=got.start, end=got.end))):
                # groups over the stated (narrower) range of a bounded store: none has
                # data there, so no row -- as the reference over that range says
                return
            elif not (len(got_rows) == len(exp_rows) and self._clipped_ok(got_rows, exp_rows,
                                                                          now)):
                last = exp_rows[-1] if exp_rows else {}
                if (len(exp_rows) == len(got_rows) + 1 and last.get("start") is not None
                        and 0 < last["end"] - last["start"] <= 4 * math.ulp(abs(last["end"]) + 1)):
                    ctx = dict(ctx, extra={"sliver": True})
                self.add("rows", f"{len(got_rows)} rows "
                         f"{[(r.get('start'), r.get('end')) for r in got_rows][:4]} where the "
                         f"reference has {len(exp_rows)} "
                         f"{[(r.get('start'), r.get('end')) for r in exp_rows][:4]}", **ctx)
                return
        for g, e in zip(got_rows, exp_rows, strict=True):
            ctx["group"] = _group_key(g, keys)
            if _group_key(g, keys) != _group_key(e, keys):
                self.add("rows", f"group {_group_key(g, keys)} where the reference has "
                         f"{_group_key(e, keys)}", **ctx)
                return
            for agg in aggs:
                self._compare(agg, g.get(agg), e.get(agg), got, g, ctx, approximate, ref, q)

    def _clipped_ok(self, got_rows: list, exp_rows: list, now: float) -> bool:
        """Rows whose stated end is `now` where the question reached past it (an answer
        that says it stops at now) are the reference's rows."""
        for g, e in zip(got_rows, exp_rows, strict=True):
            if not _same_t(g.get("start"), e.get("start")):
                return False
            if not _same_t(g.get("end"), e.get("end")) and not (
                    e.get("end") is not None and e["end"] > now and g.get("end") is not None
                    and now <= g["end"] <= e["end"]):
                return False
        return True

    def _compare(self, agg: str, x: Any, want: Any, got: Answer, row: dict, ctx: dict,
                 approximate: bool, ref: Reference, q: dict) -> None:
        kw = dict(ctx, aggregate=agg, weighting=got.weighting)
        group = kw.pop("group", None)
        kw["extra"] = {"group": group} if group else {}
        if row.get("end") is not None and ref.now is not None and row["end"] > ref.now:
            kw["extra"]["past_now"] = True
        if want is None:
            if x is not None:
                self.add("value", f"{agg}={x!r} where the reference has no data "
                         f"(row {row.get('start')}..{row.get('end')})", **kw)
            return
        if x is None:
            self.add("value", f"{agg}=None (no data) where the reference has {want!r} "
                     f"(row {row.get('start')}..{row.get('end')})", **kw)
            return
        lo, hi = want
        if agg == "count":
            if x != lo:
                self.add("value", f"count={x} where the reference counts {lo} "
                         f"(row {row.get('start')}..{row.get('end')}, exact={got.exact})", **kw)
            return
        a, b = row.get("start"), row.get("end")
        scale = max(abs(a or 0.0), abs(b or 0.0))
        dur = (min(b, ref.now) - a) if (a is not None and b is not None
                                         and ref.now is not None) else 1.0
        quantile = parse_quantile(agg) is not None
        if quantile and not got.exact:
            bound = got.error_bound
            if bound is None:
                self.add("bound", f"{agg} approximate with no error_bound", **kw)
                return
            rlo, rhi = lo, hi
            if (got.weighting or "sample") == "sample" or ctx.get("series_kind") != "gauge":
                rlo, rhi = _rank_interval(ref, q, row, agg) or (lo, hi)
            if not _close(float(x), min(lo, rlo), max(hi, rhi), bound + 1e-9, scale, dur):
                self.add("value", f"{agg}={x!r} outside error bound {bound} of the reference "
                         f"{(rlo, rhi)} over the stated [{a}, {b})", **kw)
            return
        if not _close(float(x), lo, hi, 1e-9, scale, max(dur, 1e-9)):
            self.add("value", f"{agg}={x!r} where the reference has {lo!r}"
                     + (f"..{hi!r}" if hi != lo else "")
                     + f" (row [{a}, {b}), exact={got.exact}, now={ref.now})", **kw)

    def _refusal_allowed(self, q: dict[str, Any], message: str) -> bool:
        """Refusals the semantics permit: tags from a store that keeps none; raw samples
        a bounded store no longer keeps."""
        streaming = self.case.config in ("streaming", "tiny")
        tagged = bool(q.get("tags")) or bool(
            set(q.get("group_by") or []) - {"entity", "source", "name"})
        if streaming and tagged and "tag" in message:
            return True
        if streaming and not q.get("aggregates") and "not kept" in message:
            return True
        if q.get("end") is None and q.get("start") is not None and q["start"] > self._now:
            return True  # since(t) with t after now: no range yet
        if streaming and q.get("kind") in ("events", "spans") and "evicted" in message:
            return True  # a range a bounded store no longer holds (its stated refusal)
        if (streaming and q.get("weighting") == "sample" and "weighting" in message
                and any(parse_quantile(a) is not None for a in q.get("aggregates") or [])):
            return True  # per-sample quantiles of a gauge over time-weighted rollups
        if "too small for one item of this answer" in message:
            return True  # a row larger than the whole budget: no cut can carry it
        if q.get("kind") == "events" and "unknown event type" in message:
            # event types are not declared before they happen: a type not seen yet
            # cannot be told from a typo
            return True
        return False

    def _check_raw(self, got: Answer, expected: Any, q: dict, ctx: dict, now: float) -> None:
        if q.get("kind") != "metrics":
            want = len(expected.rows)
            if self.case.config in ("streaming", "tiny"):
                if len(got.rows) > want:
                    self.add("rows", f"{len(got.rows)} raw rows, more than the {want} "
                             "that happened", **ctx)
                return
            if len(got.rows) != want:
                self.add("rows", f"{len(got.rows)} raw rows where the reference has {want}",
                         **ctx)
            return
        exp = [(r["time"], r["source"], r["name"], r["value"]) for r in expected.rows]
        have = [(r["time"], r["source"], r["name"], r["value"]) for r in got.rows]
        if self.case.config in ("streaming", "tiny") and got.start is not None:
            exp = [e for e in exp if e[0] >= got.start]
        if sorted(have) != sorted(exp):
            extra = sorted(set(have) - set(exp))[:3]
            missing = sorted(set(exp) - set(have))[:3]
            self.add("raw", f"{len(have)} raw rows vs {len(exp)}: extra {extra}, "
                     f"missing {missing}", **ctx)


def _refused_or_rows(ref: Reference, q: dict) -> bool:
    """Whether the reference refuses `q` or answers it with rows."""
    try:
        return bool(ref.answer(q).rows)
    except RefRefusal:
        return True


def _rank_interval(ref: Reference, q: dict, row: dict, agg: str) -> tuple[float, float] | None:
    """The items around a sample quantile's rank over the row's range (what a sketch's
    relative bound refers to)."""
    from tests.oracle.reference import _rank_items

    sub = dict(q, start=row.get("start"), end=row.get("end"), window=None, group_by=[],
               limit=None, aggregates=[])
    for k in q.get("group_by") or []:
        k2 = "source" if k == "entity" else k
        if k2 == "source":
            sub["entity"] = row.get("source")
        elif k2 == "name":
            sub["name"] = row.get("name")
        else:
            sub["tags"] = {**(sub.get("tags") or {}), k2: row.get(k2)}
    try:
        rows = ref.answer(sub).rows
    except RefRefusal:
        return None
    key = "value"
    vals = [r[key] for r in rows if isinstance(r.get(key), int | float)]
    if not vals:
        return None
    q_ = parse_quantile(agg)
    assert q_ is not None
    return _rank_items(vals, q_)


def _match(name: str, pattern: str) -> bool:
    from fnmatch import fnmatchcase

    return fnmatchcase(name, pattern)


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
    guard = 0
    while ok and not control.is_complete:
        guard += 1
        if guard > 500:
            checker.add("run", "the scheduled run does not finish after 500 resumes")
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
