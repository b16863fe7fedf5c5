"""Holding an answer against the reference: `Checker` asks each query, compares every
row (float tolerance `_close`, stated bounds, rank intervals of sketches) and records
each disagreement as a `Mismatch`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.oracle.asking import Answer, Crashed, Refused, ask
from tests.oracle.reference import Reference, RefRefusal, parse_quantile

if TYPE_CHECKING:
    from tests.oracle.harness import Case, RefRun


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
