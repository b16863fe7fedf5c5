"""The oracle: a deliberately naive reference of the query semantics.

It answers a query (the dict form of `Query.to_dict()`) from raw observations — the
metric samples, spans and events a run emitted, as a subscriber of the bus saw them —
by the definitions in docs/design.md, "The semantics every answer is held to". It is
written to be obviously correct, not fast: Python lists, explicit held segments for
gauges, a sort for every quantile, no numpy in the arithmetic.

>>> ref = Reference(now=4.0)
>>> for t, v in [(0.0, 0.0), (1.0, 1.0), (2.0, 1.0), (3.0, 1.0)]:
...     ref.metric(t, "Probe", "depth", "gauge", v)
>>> ref.answer({"kind": "metrics", "name": "depth", "start": 0.0, "end": 4.0,
...             "aggregates": ["p90", "mean", "count"]}).rows[0]["p90"]
(1.0, 1.0)

Every aggregate value is an *interval of acceptable answers* ``(lo, hi)``: a single point
except where the definition itself is at a boundary (a time-weighted quantile whose rank
falls exactly on a segment edge, up to float summation of durations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from fractions import Fraction
from typing import Any

__all__ = ["Reference", "RefAnswer", "RefRefusal", "parse_quantile", "window_edges"]

#: aggregates that are time-weighted for a gauge (the rest are over its changes)
TIME_WEIGHTED = ("mean", "stddev", "variance")
#: what a pool of series of different kinds can answer
MIXED_OK = ("count", "rate")


class RefRefusal(Exception):
    """The reference says: this question has no answer; a clear error is required."""


@dataclass
class RefAnswer:
    rows: list[dict[str, Any]]
    #: the weighting the answer uses ("time" only if some aggregate is time-weighted)
    weighting: str = "sample"


def parse_quantile(name: str) -> float | None:
    """``p99`` -> 0.99, ``p99.9`` -> 0.999, ``p999`` -> 0.999 (the project's names)."""
    if not name.startswith("p"):
        return None
    body = name[1:]
    if body in ("999", "9999"):
        return {"999": 0.999, "9999": 0.9999}[body]
    try:
        q = float(body)
    except ValueError:
        return None
    return q / 100.0


def seconds(ns: int) -> float:
    """The float nearest ``ns`` nanoseconds: how every instant reaches a reader."""
    return float(Fraction(ns, 10**9))


def ticks(t: float) -> int:
    """The nanosecond nearest float seconds ``t`` (exact rational arithmetic)."""
    return round(Fraction(t) * 10**9)


def _window_of(t: float, w_ns: int) -> int:
    """k of the window [k w, (k+1) w) whose edges, as floats, hold t."""
    k = ticks(t) // w_ns  # (the tick nearest t: its float may be on either side)
    while seconds(k * w_ns) > t:
        k -= 1
    while seconds((k + 1) * w_ns) <= t:
        k += 1
    return k


def window_edges(start: float, end: float, w: float) -> list[tuple[float, float]]:
    """Windows ``[k w, (k+1) w)`` on integer nanosecond ticks, cut to ``[start, end)``: the
    windows from the one holding `start` to the one ending at or after `end` (an empty
    range inside a window is that window's empty row; on a boundary, no row)."""
    w_ns = ticks(w)
    edge = lambda k: seconds(k * w_ns)  # noqa: E731 - the float every reader sees
    k0 = _window_of(start, w_ns)
    k1 = -(-ticks(end) // w_ns)
    while edge(k1) < end:  # (an end a float ulp past a boundary, just after now: a row)
        k1 += 1
    while k1 > k0 and edge(k1 - 1) >= end:
        k1 -= 1
    if k1 - k0 > 1_000_000:
        raise RefRefusal(f"more than a million windows of {w} s")
    out = []
    for k in range(k0, k1):
        a, b = max(seconds(k * w_ns), start), min(seconds((k + 1) * w_ns), end)
        if b > a or (a == b == start == end):
            out.append((a, b))
    return out


@dataclass
class _Series:
    source: str
    name: str
    kind: str  # gauge | sample | counter
    obs: list[tuple[float, float, dict | None]] = field(default_factory=list)

    def changes(self) -> list[tuple[float, float, dict | None]]:
        """A gauge's changes: the value in effect after every set at an instant (a
        same-instant transient is not a change), kept where it differs from the value
        before. Samples and counters: every observation."""
        if self.kind != "gauge":
            return list(self.obs)
        settled: list[tuple[float, float, dict | None]] = []
        for t, v, tg in self.obs:
            if settled and settled[-1][0] == t:
                settled[-1] = (t, v, tg)
            else:
                settled.append((t, v, tg))
        out: list[tuple[float, float, dict | None]] = []
        for t, v, tg in settled:
            if not out or out[-1][1] != v:
                out.append((t, v, tg))
        return out


def _point(x: float | None) -> tuple[float, float] | None:
    return None if x is None else (x, x)


def _linear_quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _rank_items(values: list[float], q: float) -> tuple[float, float]:
    """The two items around rank q*(n-1) (what a sketch's relative bound refers to)."""
    s = sorted(values)
    pos = q * (len(s) - 1)
    return s[math.floor(pos)], s[math.ceil(pos)]


def _weighted_quantile(segs: list[tuple[float, float]], q: float) -> tuple[float, float]:
    """Smallest value whose held time (values <= it) reaches q of the total; at an
    exact boundary (within float summation) both neighbouring values are acceptable."""
    segs = sorted((v, w) for v, w in segs if w > 0)
    total = math.fsum(w for _, w in segs)
    target = q * total
    tol = 1e-9 * total
    cum = 0.0
    lo = hi = None
    for i, (v, w) in enumerate(segs):
        cum += w
        if lo is None and cum >= target - tol:
            lo = v
            if abs(cum - target) <= tol and i + 1 < len(segs):
                hi = segs[i + 1][0]
            else:
                hi = v
            if q == 0:
                hi = lo
            break
    if lo is None:
        lo = hi = segs[-1][0]
    return (min(lo, hi), max(lo, hi))


#: a span row's own fields: group_by keys that are not attribute keys
_SPAN_FIELDS = {"entity", "source", "trace_id", "span_id", "parent_id", "start", "end",
                "duration"}


class Reference:
    """Raw observations in, answers out. ``now`` is the clock when the question is asked
    (None: a clock not following the data, nothing is clipped)."""

    def __init__(self, now: float | None = None, *, entities: tuple[str, ...] = (),
                 catalog: dict[tuple[str, str], str] | None = None,
                 records: tuple[str, ...] = ("metrics", "spans", "events"),
                 keeps_tags: bool = True,
                 declared_tags: dict[tuple[str, str], tuple[str, ...]] | None = None,
                 declared_span_attributes: dict[str, tuple[str, ...]] | None = None
                 ) -> None:
        self.now = now
        self.entities = entities  # every entity of the model (known even before data)
        self.series: dict[tuple[str, str], _Series] = {}
        self.declared: dict[tuple[str, str], str] = dict(catalog or {})
        self.spans: list[Any] = []  # happysim_rx Span records
        self.events: list[tuple[float, str, str, Any, dict | None]] = []
        self.records = records  # the kinds the configuration under test records
        self.keeps_tags = keeps_tags
        #: (source, name) -> the tag keys the model's components declare for the series
        self.declared_tags = dict(declared_tags or {})
        #: entity -> the attribute keys the model's components declare for its spans
        self.declared_span_attributes = dict(declared_span_attributes or {})

    # -- input --------------------------------------------------------------------------
    def metric(self, t: float, source: str, name: str, kind: str | None, value: float,
               tags: dict | None = None) -> None:
        key = (source, name)
        s = self.series.get(key)
        if s is None:
            s = self.series[key] = _Series(source, name, kind or self.declared.get(key)
                                           or "sample")
        s.obs.append((float(t), float(value), tags))

    def span(self, span: Any) -> None:
        self.spans.append(span)

    def event(self, t: float, source: str, name: str, value: Any,
              tags: dict | None = None) -> None:
        self.events.append((float(t), source, name, value, tags))

    # -- answers ------------------------------------------------------------------------
    def answer(self, q: dict[str, Any]) -> RefAnswer:
        kind = q.get("kind")
        if kind == "metrics":
            return self._metrics(q)
        if kind == "spans":
            if "spans" not in self.records:
                raise RefRefusal("spans are not recorded by this configuration")
            entity = q.get("entity") or "*"
            known = set(self.entities) | {s.entity for s in self.spans}
            if not any(fnmatchcase(e, entity) for e in known):
                raise RefRefusal(f"unknown entity {entity!r}")
            mine = [s for s in self.spans if fnmatchcase(s.entity, entity)]
            keys = set(q.get("tags") or {}) | (set(q.get("group_by") or []) - _SPAN_FIELDS)
            if keys:
                # the tag-key rule of metrics: declared by a selected entity, or carried
                # by one of its spans so far; any other key is refused, data or not
                valid = {k for e, ks in self.declared_span_attributes.items()
                         if fnmatchcase(e, entity) for k in ks}
                valid |= {k for s in mine for k in (s.attributes or {})}
                if keys - valid:
                    raise RefRefusal(f"attribute keys {sorted(keys - valid)} not in "
                                     f"{sorted(valid)}")
            rows = [(s.start, s.entity, s.duration, s.attributes or {}, s.entity)
                    for s in mine]
            return self._records(q, rows)
        if kind == "events":
            if "events" not in self.records:
                raise RefRefusal("events are not recorded by this configuration")
            name = q.get("name") or "*"
            entity = q.get("entity") or "*"
            rows = [(t, src, v, tg or {}, nm) for t, src, nm, v, tg in self.events
                    if fnmatchcase(nm, name) and fnmatchcase(src, entity)]
            return self._records(q, rows)
        raise RefRefusal(f"unknown query kind {kind!r}")

    # metrics ---------------------------------------------------------------------------
    def _select(self, q: dict[str, Any]) -> list[_Series]:
        name, entity = q["name"], q.get("entity") or "*"
        known = dict(self.declared)
        for (src, nm), s in self.series.items():
            known.setdefault((src, nm), s.kind)
        names = {n for _, n in known if fnmatchcase(n, name)}
        if not names:
            raise RefRefusal(f"unknown metric {name!r}")
        keys = [(s, n) for s, n in known if n in names and fnmatchcase(s, entity)]
        if not keys:
            raise RefRefusal(f"unknown entity {entity!r} for {name!r}")
        out = []
        for key in sorted(keys):
            s = self.series.get(key)
            out.append(s if s is not None else _Series(key[0], key[1], known[key]))
        return out

    def _range(self, q: dict[str, Any], times: list[float]) -> tuple[float, float] | None:
        start, end, w = q.get("start"), q.get("end"), q.get("window")
        if start is None:
            if not times:
                return None
            start = min(times)
            if w is not None:
                start = seconds(_window_of(start, ticks(w)) * ticks(w))  # its window's edge
        if end is None:
            hi = math.nextafter(max(times), math.inf) if times else -math.inf
            end = max(hi, self.now if self.now is not None else -math.inf)
            if not math.isfinite(end):
                end = start
        if start > end:
            if q.get("end") is None:
                return start, start  # since(t) after the data and now: an empty range
            raise RefRefusal(f"start {start} after end {end}")
        return start, end

    def _metrics(self, q: dict[str, Any]) -> RefAnswer:
        if "metrics" not in self.records:
            raise RefRefusal("metrics are not recorded by this configuration")
        series = self._select(q)
        aggs = list(q.get("aggregates") or [])
        tags = dict(q.get("tags") or {})
        group_by = ["source" if k == "entity" else k for k in (q.get("group_by") or [])]
        tag_keys = set(tags) | (set(group_by) - {"source", "name"})
        if tag_keys and not self.keeps_tags:
            raise RefRefusal("this store keeps no tags")
        if tag_keys:
            # valid keys: declared for a selected series, or carried by one of its samples
            # (any time so far); anything else is a typo, refused with or without data
            valid = {k for s in series for k in self.declared_tags.get((s.source, s.name), ())}
            valid |= {k for s in series for _, _, tg in s.obs for k in (tg or {})}
            if tag_keys - valid:
                raise RefRefusal(f"tag keys {sorted(tag_keys - valid)} not in {sorted(valid)}")
        kinds = {s.kind for s in series}
        weighting = q.get("weighting")
        if weighting == "time" and aggs and kinds - {"gauge"}:
            raise RefRefusal("time weighting applies to gauges only")
        times = [t for s in series for t, _, _ in s.changes()]
        rng = self._range(q, times)
        if rng is None:
            rows = []
            if aggs and q.get("window") is None and not group_by:
                rows = [{"start": q.get("start"), "end": q.get("end"),
                         **{a: ((0, 0) if a == "count" else None) for a in aggs}}]
            return RefAnswer(rows, self._weighting(aggs, weighting, kinds))
        start, end = rng
        if not aggs:
            if q.get("window") is not None:
                raise RefRefusal("window() needs an aggregate")
            rows = []
            for s in series:
                for t, v, tg in s.changes():
                    if start <= t < end and all((tg or {}).get(k) == x for k, x in tags.items()):
                        rows.append({"time": t, "source": s.source, "name": s.name,
                                     "value": v})
            rows.sort(key=lambda r: (r["time"], r["source"], r["name"]))
            if q.get("limit") is not None:
                rows = rows[: q["limit"]]
            return RefAnswer(rows)
        groups: list[tuple[dict[str, Any], list[_Series], dict[str, Any]]] = [({}, series, tags)]
        for key in group_by:
            nxt = []
            for gk, gs, gw in groups:
                if key in ("source", "name"):
                    for val in sorted({getattr(s, key) for s in gs}):
                        nxt.append(({**gk, key: val}, [s for s in gs if getattr(s, key) == val],
                                    gw))
                else:
                    # (a valid key nothing in the range carries: no group at all)
                    vals = {(tg or {}).get(key) for s in gs for t, _, tg in s.changes()
                            if start <= t < end} - {None}
                    for s in gs:  # time-weighted: the segment carried in at the start
                        ch = s.changes()  # keeps the tags of the change that began it
                        before = [tg for t, _, tg in ch if t < start]
                        if (before and self._time_weighted(s, series, group_by, weighting)
                                and not any(t == start for t, _, _ in ch if start < end)):
                            vals |= {(before[-1] or {}).get(key)} - {None}
                    for val in sorted(vals, key=repr):
                        nxt.append(({**gk, key: val}, gs, {**gw, key: val}))
            groups = nxt
        windows = ([(start, end)] if q.get("window") is None
                   else _windows(q, start, end))
        rows = []
        for gk, gs, gw in groups:
            gkinds = {s.kind for s in gs}
            if len(gkinds) > 1 and set(aggs) - set(MIXED_OK):
                raise RefRefusal(f"mixed kinds {sorted(gkinds)} answer only count and rate")
            gweight = weighting or ("time" if gkinds == {"gauge"} else "sample")
            for a, b in windows:
                row = {**gk, "start": a, "end": b}
                row.update(self._aggregate(gs, aggs, a, b, gweight, gw, gkinds))
                row["_weighting"] = self._weighting(aggs, gweight, gkinds)
                rows.append(row)
        if q.get("limit") is not None:
            rows = rows[: q["limit"]]
        return RefAnswer(rows, self._weighting(aggs, weighting, kinds))

    @staticmethod
    def _time_weighted(s: _Series, series: list[_Series], group_by: list[str],
                       weighting: str | None) -> bool:
        """Whether `s` is answered time-weighted: as asked, else by the kinds of the
        final group it lands in (the series with its values of the source/name keys)."""
        if weighting is not None:
            return weighting == "time"
        keys = [k for k in group_by if k in ("source", "name")]
        return all(x.kind == "gauge" for x in series
                   if all(getattr(x, k) == getattr(s, k) for k in keys))

    @staticmethod
    def _weighting(aggs: list[str], weighting: str | None, kinds: set[str]) -> str:
        w = weighting or ("time" if kinds == {"gauge"} else "sample")
        if w == "time" and any(a in TIME_WEIGHTED or parse_quantile(a) is not None
                               for a in aggs):
            return "time"
        return "sample"

    def _duration(self, a: float, b: float) -> float:
        """The seconds ``[a, b)`` covers: time after now has not happened yet."""
        stop = b if self.now is None else min(b, self.now)
        return stop - a

    def _aggregate(self, series: list[_Series], aggs: list[str], a: float, b: float,
                   weighting: str, where: dict[str, Any], kinds: set[str]
                   ) -> dict[str, tuple[float, float] | None]:
        future = self.now is not None and a > self.now
        pts: list[tuple[float, int, float]] = []  # (time, series order, value) in range
        segs: list[tuple[float, float]] = []  # (value, seconds held) time-weighted
        held: list[tuple[float, int, float]] = []  # (time in effect from, order, value)
        for k, s in enumerate(series):
            ch = s.changes()
            inside = [(t, v) for t, v, tg in ch if a <= t < b
                      and all((tg or {}).get(x) == y for x, y in where.items())]
            pts += [(t, k, v) for t, v in inside]
            if weighting == "time" and not future:
                stop = b if self.now is None else min(b, self.now)
                # the gauge's own segments first: the value in effect at a (unless a
                # change happens exactly at a), then every change, each held to the
                # series' next change whatever its tags; a segment keeps the tags of the
                # change that began it (the carried one: of the last change before a)
                every = [(t, v, tg) for t, v, tg in ch if a <= t < b]
                before = [(t, v, tg) for t, v, tg in ch if t < a]
                pieces = every
                if before and not (every and every[0][0] == a):
                    pieces = [(a, before[-1][1], before[-1][2])] + every
                for i, (t, v, tg) in enumerate(pieces):
                    # ...then a tag filter keeps the time held from matching changes
                    if not all((tg or {}).get(x) == y for x, y in where.items()):
                        continue
                    nxt = pieces[i + 1][0] if i + 1 < len(pieces) else stop
                    segs.append((v, max(0.0, min(nxt, stop) - t)))
                    held.append((t, k, v))
        pts.sort(key=lambda p: (p[0], p[1]))
        held.sort(key=lambda p: (p[0], p[1]))
        values = [v for _, _, v in pts]
        counter = kinds == {"counter"}
        out: dict[str, tuple[float, float] | None] = {}
        for agg in aggs:
            if future:
                out[agg] = (0, 0) if agg == "count" else None
                continue
            if agg == "count":
                out[agg] = (len(values), len(values))
            elif agg == "sum":
                out[agg] = _point(math.fsum(values)) if values else None
            elif agg == "rate":
                span = self._duration(a, b)
                # the instants covered: [a, b) up to and including now; when that holds
                # one float time (or none), no time is covered: no rate
                last = b if self.now is None else min(b, math.nextafter(self.now, math.inf))
                if not math.isfinite(span) or not last > math.nextafter(a, math.inf):
                    out[agg] = None
                else:
                    out[agg] = _point((math.fsum(values) if counter else len(values)) / span)
            elif weighting == "time":
                hv = [v for _, _, v in held]
                if not hv:
                    out[agg] = None
                elif agg == "min":
                    out[agg] = _point(min(hv))
                elif agg == "max":
                    out[agg] = _point(max(hv))
                elif agg == "first":
                    out[agg] = _point(held[0][2])
                elif agg == "last":
                    out[agg] = _point(held[-1][2])
                else:
                    total = math.fsum(w for _, w in segs)
                    if total <= 0:  # held for no time: the value in effect is the answer
                        current = held[-1][2]
                        out[agg] = ((0.0, 0.0) if agg in ("stddev", "variance")
                                    else _point(current))
                        continue
                    mean = math.fsum(v * w for v, w in segs) / total
                    var = math.fsum(w * (v - mean) ** 2 for v, w in segs) / total
                    if agg == "mean":
                        out[agg] = _point(mean)
                    elif agg == "variance":
                        out[agg] = _point(var)
                    elif agg == "stddev":
                        out[agg] = _point(math.sqrt(var))
                    else:
                        q = parse_quantile(agg)
                        assert q is not None, agg
                        out[agg] = _weighted_quantile(segs, q)
            elif not values:
                out[agg] = None
            elif agg == "min":
                out[agg] = _point(min(values))
            elif agg == "max":
                out[agg] = _point(max(values))
            elif agg == "first":
                out[agg] = _point(values[0])
            elif agg == "last":
                out[agg] = _point(values[-1])
            elif agg in ("mean", "stddev", "variance"):
                mean = math.fsum(values) / len(values)
                var = math.fsum((v - mean) ** 2 for v in values) / len(values)
                out[agg] = _point({"mean": mean, "variance": var,
                                   "stddev": math.sqrt(var)}[agg])
            else:
                q = parse_quantile(agg)
                assert q is not None, agg
                out[agg] = _point(_linear_quantile(values, q))
        return out

    # spans and events -------------------------------------------------------------------
    def _records(self, q: dict[str, Any], rows: list[tuple[float, str, Any, dict, str]]
                 ) -> RefAnswer:
        """Spans (at their start, valued by duration) or events (valued by a numeric
        payload): per-sample aggregates, half-open ranges, rate over time up to now."""
        tags = dict(q.get("tags") or {})
        rows = [r for r in rows if all(r[3].get(k) == v for k, v in tags.items())]
        aggs = list(q.get("aggregates") or [])
        start = q.get("start")
        end = q.get("end")
        if not aggs:
            lo = -math.inf if start is None else start
            hi = math.inf if end is None else end
            out = [{"time": t, "source": src, "value": v} for t, src, v, _, _ in rows
                   if lo <= t < hi]
            out.sort(key=lambda r: r["time"])
            return RefAnswer(out[: q["limit"]] if q.get("limit") is not None else out)
        times = [r[0] for r in rows]
        if times or start is not None:
            rng = self._range(q, times)
        else:  # nothing recorded yet and no start: [0, now) answers "none so far"
            rng = (0.0, max(0.0, self.now if end is None and self.now is not None
                            else (end if end is not None else 0.0)))
        if rng is None:
            rng = (0.0, 0.0)
        a0, b0 = rng
        rows = [r for r in rows if a0 <= r[0] < b0]  # (groups: those with data in range)
        keys = ["source" if k == "entity" else k for k in (q.get("group_by") or [])]
        buckets: dict[tuple, list] = {}
        for r in rows:
            gk = tuple(r[1] if k == "source" else r[3].get(k) for k in keys)
            buckets.setdefault(gk, []).append(r)
        if not keys:
            buckets = {(): rows}
        windows = ([(a0, b0)] if q.get("window") is None
                   else _windows(q, a0, b0))
        out_rows = []
        for gk, grows in sorted(buckets.items(), key=lambda kv: repr(kv[0])):
            for a, b in windows:
                inside = sorted(((t, v) for t, _, v, _, _ in grows if a <= t < b),
                                key=lambda p: p[0])
                series = _Series("", "", "sample", [(t, _num(v), None) for t, v in inside])
                numeric = _Series("", "", "sample",
                                  [(t, v, None) for t, v, _ in series.obs if not math.isnan(v)])
                row: dict[str, Any] = {**dict(zip(keys, gk, strict=True)), "start": a, "end": b}
                for agg in aggs:
                    src = series if agg in ("count", "rate") else numeric
                    row.update(self._aggregate([src], [agg], a, b, "sample", {}, {"sample"}))
                out_rows.append(row)
        if q.get("limit") is not None:
            out_rows = out_rows[: q["limit"]]
        return RefAnswer(out_rows)


def _windows(q: dict[str, Any], start: float, end: float) -> list[tuple[float, float]]:
    if q.get("end") is None and start == end:
        return []  # since(t) after the data and now: no window has begun
    return window_edges(start, end, q["window"])


def _num(x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return math.nan
    return float(x)
