"""`QueryEngine`: answers `Query` specs from the stores attached to a bus: the catalog,
ranges and windows, spans and events here; metrics in `engine_metrics`."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

import numpy as np

from happysim_rx.engine_metrics import MetricAnswers
from happysim_rx.engine_windows import (  # (`_edges`, `_snapped_windows`: changes.py's)
    _clip_end,
    _edges,  # noqa: F401
    _snapped_windows,  # noqa: F401
    _split_at_now,
    _window_start,
)
from happysim_rx.observation import ObservationKind
from happysim_rx.query import Query, QueryError, _Spec, _suggest
from happysim_rx.result import QueryResult, _clean
from happysim_rx.stores.compute import exact_aggregates
from operators.aggregators import valid_names_text
from operators.simtime import just_after, seconds, ticks, window_index

if TYPE_CHECKING:  # (imported by `catalog()`: the html module is a notebook nicety)
    from happysim_rx.html import Catalog

__all__ = ["QueryEngine"]

#: what a span row has besides its attributes (a group_by key that is one of them is
#: never an attribute key)
_SPAN_FIELDS = frozenset({"entity", "source", "trace_id", "span_id", "parent_id", "start",
                          "end", "duration"})


class QueryEngine(MetricAnswers):
    """Answers queries from the stores attached to a bus (or given directly).

    ``QueryEngine(bus)`` or ``QueryEngine(metric_store=..., trace_store=...,
    event_store=..., clock=...)``.
    """

    def __init__(
        self,
        bus: Any = None,
        *,
        metric_store: Any = None,
        trace_store: Any = None,
        event_store: Any = None,
        clock: Any = None,
    ) -> None:
        self.bus = bus
        self.clock = clock if clock is not None else getattr(bus, "clock", None)
        self._metric_store = metric_store
        self._trace_store = trace_store
        self._event_store = event_store
        #: names of the entities the simulation knows (set by the engine integration):
        #: an entity that has recorded nothing yet answers empty, not "unknown"
        self.known_entities: Callable[[], Iterable[str]] | None = None
        #: (source, series name) -> tag keys its producer declares (see `declared_tags`)
        self.declared_tags: dict[tuple[str, str], tuple[str, ...]] = {}
        #: entity -> the attribute keys its spans carry, as its component declares them
        self.declared_span_attributes: dict[str, tuple[str, ...]] = {}

    # stores are looked up lazily: they may be attached to the bus after the engine.
    def _store(self, kind: ObservationKind, given: Any) -> Any:
        if self.bus is not None:
            self.bus.flush()  # batching emitters deliver before anyone reads a store
        if given is not None:
            return given
        if self.bus is not None:
            for s in self.bus.stores:
                if kind in s.kinds:
                    return s
        return None

    @property
    def metric_store(self) -> Any:
        return self._store(ObservationKind.METRIC, self._metric_store)

    @property
    def trace_store(self) -> Any:
        return self._store(ObservationKind.SPAN, self._trace_store)

    @property
    def event_store(self) -> Any:
        return self._store(ObservationKind.EVENT, self._event_store)

    # -- builders -----------------------------------------------------------------------
    def query(self) -> Query:
        return Query(self)

    def metrics(self, name: str) -> Query:
        return Query(self).metrics(name)

    def spans(self) -> Query:
        return Query(self).spans()

    def events(self, event_type: str = "*") -> Query:
        return Query(self).events(event_type)

    def now(self) -> float | None:
        return None if self.clock is None else float(self.clock.now())

    # -- catalog ------------------------------------------------------------------------
    def _metric_catalog(self) -> list[tuple[str, str, str | None]]:
        # a caller asking many questions at one event boundary (nothing new can be
        # recorded meanwhile) may hold the catalog for them: see `held_catalog`
        held = self.__dict__.get("_held_catalog")
        if held is not None:
            return held
        seen: dict[tuple[str, str], str | None] = {}
        if self.bus is not None:
            for info in self.bus.catalog():
                if info.kind is ObservationKind.METRIC:
                    seen[(info.source, info.name)] = info.series_kind
        store = self.metric_store
        if store is not None:
            for src, nm, sk in store.catalog():
                if seen.get((src, nm)) is None:
                    seen[(src, nm)] = sk
        return [(s, n, k) for (s, n), k in seen.items()]

    def held_catalog(self) -> Any:
        """A context in which the metric catalog is computed once, for callers asking
        many questions between two events (e.g. ``changes``: three per series)."""
        from contextlib import contextmanager

        @contextmanager
        def hold() -> Any:
            if self.__dict__.get("_held_catalog") is not None:
                yield
                return
            self._held_catalog = self._metric_catalog()
            try:
                yield
            finally:
                self._held_catalog = None

        return hold()

    def catalog(self) -> Catalog:
        """What can be asked: metric series (with kinds), span entities, event types."""
        from happysim_rx.html import Catalog

        metrics = [
            {"name": n, "source": s, "series_kind": k, "tags": self._series_tags(s, n, by_key)}
            for by_key in [self._tagged_series()]
            for s, n, k in sorted(self._metric_catalog(), key=lambda x: (x[1], x[0]))
        ]
        ts, es = self.trace_store, self.event_store
        events = []
        if es is not None:
            events = [{"kind": k, "source": s, "name": n} for k, s, n in es.catalog()]
        elif self.bus is not None:
            events = [
                i.to_dict()
                for i in self.bus.catalog()
                if i.kind in (ObservationKind.EVENT, ObservationKind.STATE)
            ]
        return Catalog({
            "metrics": metrics,
            "span_entities": ts.entities() if ts is not None else [],
            "span_attributes": self._span_attribute_catalog(ts),
            "events": events,
            "aggregates": valid_names_text(),
            "stores": {
                "metrics": None if self.metric_store is None else type(self.metric_store).__name__,
                "spans": None if ts is None else type(ts).__name__,
                "events": None if es is None else type(es).__name__,
            },
        })

    def _span_attribute_catalog(self, ts: Any) -> dict[str, list[str]]:
        """entity -> the attribute keys its spans declare or carried (entities with
        none left out)."""
        out: dict[str, set[str]] = {}
        if ts is not None and hasattr(ts, "attribute_keys_by_entity"):
            out = ts.attribute_keys_by_entity()
        for e, keys in self.declared_span_attributes.items():  # (names, not globs)
            out.setdefault(e, set()).update(keys)
        return {e: sorted(out[e]) for e in sorted(out) if out[e]}

    def _tagged_series(self) -> dict[tuple[str, str], Any] | None:
        """(source, name) -> stored series, one pass (None: a store keeping no tags)."""
        store = self.metric_store
        if store is None or not store.keeps_tags:
            return None
        return {(s.source, s.name): s for s in store.select()}

    def _series_tags(self, source: str, name: str,
                     by_key: dict[tuple[str, str], Any] | None) -> list[str]:
        """The tag keys a filter or group on this series accepts: those its component
        declares plus those its samples carry (none where the store keeps no tags)."""
        if by_key is None:
            return []
        found = by_key.get((source, name))
        keys = set(map(str, found.tag_keys())) if found is not None else set()
        keys.update(self.declared_tags.get((source, name), ()))
        return sorted(keys)

    # -- execution ----------------------------------------------------------------------
    def execute(self, query: Query | dict[str, Any] | str) -> QueryResult:
        """Run a Query, its ``to_dict()`` or its ``to_json()``."""
        if isinstance(query, str | bytes):
            query = Query.from_json(query)
        elif isinstance(query, dict):
            query = Query.from_dict(query)
        spec = query.spec
        if spec.kind == "metrics":
            result = self._metrics(query)
            # what the plot draws (a gauge as steps): the kind of the series, when one
            kinds = {k for src, n, k in self._metric_catalog()
                     if fnmatchcase(n, spec.name or "*") and fnmatchcase(src, spec.entity)}
            result.series_kind = kinds.pop() if len(kinds) == 1 else None
            return result
        if spec.kind == "spans":
            return self._spans(query)
        if spec.kind == "events":
            return self._events(query)
        raise QueryError("say what to query first: .metrics(name), .spans() or .events()")

    def _range(self, spec: _Spec, bounds: tuple[float, float] | None) -> tuple[float, float] | None:
        """Resolve the open ends of the range from data bounds and the clock."""
        start, end = spec.start, spec.end
        if start is None:
            if bounds is None:
                return None
            start = bounds[0]
            if spec.window is not None:
                start = _window_start(start, spec.window)
        if end is None:
            hi = -math.inf if bounds is None else just_after(bounds[1])
            now = self.now()
            end = max(hi, now if now is not None else -math.inf)
            if not math.isfinite(end):
                end = start
        return start, end

    @staticmethod
    def _windows(spec: _Spec, start: float, end: float) -> list[tuple[float, float]]:
        if spec.window is None:
            return [(start, end)]
        if spec.end is None and start == end:
            # since(t) with nothing after t yet (t at or after the data and now): no
            # window has begun, so no row -- not a zero-width window [t, t)
            return []
        if not (math.isfinite(start) and math.isfinite(end)):
            raise QueryError(
                f"window() needs a finite range, got [{start}, {end}); give between(t1, t2)")
        # Boundaries on integer nanosecond ticks, like the operators' windows and the
        # engine's clock: seconds(k * w_ns) is the correctly rounded float of the
        # boundary, so a sample at 0.3 s lands in [0.3, 0.4), never in
        # [0.2, 0.30000000000000004), at any magnitude of time.
        w_ns = ticks(spec.window)
        if w_ns <= 0:
            raise QueryError(f"window size must be at least 1 ns, got {spec.window!r}")
        # the windows from the one holding start to the first whose start is at or after
        # end, compared as floats: a range that ends just after now (`just_after`) with
        # now on a boundary still has its last window [now, end) — what happened at now
        # is in a row
        k0 = window_index(start, w_ns)
        k1 = window_index(end, w_ns)
        if seconds(k1 * w_ns) < end:
            k1 += 1
        n = k1 - k0
        if spec.limit is not None:
            n = min(n, spec.limit)
        if n > 1_000_000:
            raise QueryError(
                f"{n} windows of {spec.window} s: choose a larger window or a shorter range")
        out = []
        for k in range(k0, k0 + n):
            a, b = max(seconds(k * w_ns), start), min(seconds((k + 1) * w_ns), end)
            if b > a or (a == b == start == end):
                out.append((a, b))
        return out

    # -- spans ----------------------------------------------------------------------------
    def _known_entities(self) -> set[str]:
        """Entities the simulation knows (they may have recorded nothing yet)."""
        names: set[str] = set()
        if self.bus is not None:
            names.update(i.source for i in self.bus.catalog())
        if self.known_entities is not None:
            names.update(self.known_entities())
        return names

    def _spans(self, query: Query) -> QueryResult:
        spec = query.spec
        ts = self.trace_store
        if ts is None:
            raise QueryError("no trace store is recording spans (enable spans in the config)")
        entities = ts.entities()
        if spec.entity != "*" and not any(fnmatchcase(e, spec.entity) for e in entities):
            # an entity the simulation knows has no span *yet*: an empty answer, as its
            # metrics give; only a name nobody knows is an error
            known = self._known_entities()
            if not any(fnmatchcase(e, spec.entity) for e in known):
                raise QueryError(
                    _suggest(spec.entity, set(entities) | known, "entity").replace(
                        "known entitys", "entities"
                    )
                )
        keys = set(spec.tags) | (set(spec.group_by) - _SPAN_FIELDS)
        if keys:  # (before the range: the answer to a typo never depends on the data)
            self._check_attribute_keys(spec, ts, keys)
        start, end = self._recorded_range(spec, getattr(ts, "complete_from", None), "spans")
        if spec.limit is not None and not spec.aggregates and hasattr(ts, "between_first"):
            # rows only: build spans only until `limit` match (the range's end still
            # follows the latest span of the range, as below)
            tags = spec.tags

            def keep(s: Any) -> bool:
                return all((s.attributes or {}).get(k) == v for k, v in tags.items())

            spans, latest = ts.between_first(start, end, spec.entity, spec.limit,
                                             keep if tags else None)
            end = self._end_at_now(spec, end, [] if latest is None else [latest])
            return self._record_result(
                query, [s.to_dict() for s in spans], "start", "duration", "entity", start, end
            )
        if (spec.aggregates and not spec.tags and set(spec.group_by) <= {"entity", "source"}
                and hasattr(ts, "columns_between")):
            # aggregates of durations: from the store's columns, no span built
            t, durations, codes, names = ts.columns_between(start, end, spec.entity)
            end = self._end_at_now(spec, end, [float(t.max())] if t.size else [])
            keys = ["source" for _ in spec.group_by]
            span_groups: dict[tuple, np.ndarray | None] = {(): None}
            if keys:
                span_groups = {(names[c],) * len(keys): np.flatnonzero(codes == c)
                          for c in np.unique(codes).tolist()}
            return self._aggregate_columns(query, t, durations, keys, span_groups, start, end)
        spans = ts.between(start, end, spec.entity)
        end = self._end_at_now(spec, end, [s.start for s in spans])
        if spec.tags:
            spans = [
                s
                for s in spans
                if all((s.attributes or {}).get(k) == v for k, v in spec.tags.items())
            ]
        return self._record_result(
            query, [s.to_dict() for s in spans], "start", "duration", "entity", start, end
        )

    def span_attribute_keys(self, entity: str = "*") -> list[str]:
        """The attribute keys a span query on `entity` (a glob) may filter or group on:
        those its components declare (known before the run) plus those any of its
        recorded spans carried (a user's own ``record_span(..., lane=...)``)."""
        ts = self.trace_store
        keys = set() if ts is None or not hasattr(ts, "attribute_keys") else set(
            ts.attribute_keys(entity))
        keys.update(k for e, declared in self.declared_span_attributes.items()
                    if fnmatchcase(e, entity) for k in declared)
        return sorted(keys)

    def _check_attribute_keys(self, spec: _Spec, ts: Any, keys: set[str]) -> None:
        """Refuse attribute keys the selected entities' spans can never carry (the
        metrics' tag-key rule): a valid key filters or groups, possibly to nothing; any
        other is refused, with or without data, so a typo never reads ``count: 0``."""
        valid = self.span_attribute_keys(spec.entity)
        unknown = sorted(keys - set(valid))
        if unknown:
            raise QueryError(
                f"no span of {spec.entity!r} declares or carries attribute key(s) "
                f"{unknown}; valid attribute keys: {valid or 'none'} (the catalog lists "
                "them under span_attributes)", valid)

    def _end_at_now(self, spec: _Spec, end: float, times: list[float]) -> float:
        """A spans/events range reaching past now ends just after now (stated so), when
        the clock follows the records (none is later than now); ``since(t)`` with t after
        now is the empty range at t (nothing yet)."""
        now = self.now()
        if now is None or (times and max(times) > now):
            return end  # no clock, or one that does not follow these records
        if spec.start is not None and spec.start > now:
            if spec.end is None:  # since(t) after now: an empty range there, nothing yet
                return spec.start
            return end  # entirely after now: nothing yet, over the range asked
        if spec.end is None:
            return end
        return _clip_end(end, now)

    def _recorded_range(self, spec: _Spec, complete_from: Any, what: str) -> tuple[float, float]:
        """[start, end) of a spans/events query: a start before what a bounded store
        still keeps moved up to it (the answer states that narrower range), or refused
        when nothing of it is kept."""
        start = -math.inf if spec.start is None else spec.start
        end = math.inf if spec.end is None else spec.end
        now = self.now()
        cf = -math.inf if complete_from is None else complete_from(now)
        if start < cf:
            # (complete only after now: the bound cut the current instant, so nothing up
            # to now is complete)
            if end <= cf or (now is not None and cf > now):
                raise QueryError(
                    f"{what} before t={cf:.9g} s were evicted by the bounded store "
                    f"(it keeps only the most recent): ask for a range from {cf:.9g} s on, "
                    "or raise its capacity (ObservabilityConfig event_capacity / "
                    "trace_capacity, or full())")
            start = cf  # rows and aggregates state the range they are complete for
        return start, end

    def _events(self, query: Query) -> QueryResult:
        spec = query.spec
        es = self.event_store
        if es is None:
            raise QueryError("no event store is recording events (enable events in the config)")
        pattern = spec.name or "*"
        processed = getattr(es, "processed_events", True)
        # (the catalog builds every event's row: asked only when a name must be checked)
        cat = es.catalog() if not processed or pattern != "*" or spec.entity != "*" else []
        names = {n for _, _, n in cat}
        if not processed and (
                pattern == "*" or not any(fnmatchcase(n, pattern) for n in names)):
            # processed events are not kept here: only what entities emit themselves
            # (`emit_event`, a detector's reports) and state changes can answer, by name
            raise QueryError(
                "processed events are not recorded by this simulation's configuration "
                "(events=False, as in ObservabilityConfig.default()): record them with "
                "ObservabilityConfig.full() or config.replace(events=True); "
                f"emitted events and state changes recorded: {sorted(names) or 'none'} "
                "(ask events('<name>') for those)")
        if spec.name not in (None, "*") and not any(fnmatchcase(n, spec.name) for n in names):
            raise QueryError(_suggest(spec.name or "", names, "event type"))
        sources = {s for _, s, _ in cat}
        if spec.entity != "*" and not any(fnmatchcase(s, spec.entity) for s in sources):
            known = self._known_entities()
            if not any(fnmatchcase(e, spec.entity) for e in known):
                raise QueryError(
                    _suggest(spec.entity, sources | known, "entity").replace(
                        "known entitys", "entities"
                    )
                )
        start, end = self._recorded_range(spec, getattr(es, "complete_from", None), "events")
        if not spec.aggregates and not spec.tags and hasattr(es, "between_first"):
            # rows only: built only for what is returned (the range's end still follows
            # the latest event of the range)
            rows, latest = es.between_first(start, end, name=spec.name or "*",
                                            source=spec.entity, limit=spec.limit)
            end = self._end_at_now(spec, end, [] if latest is None else [latest])
            return self._record_result(query, rows, "time", "value", "source", start, end)
        if (spec.aggregates and not spec.tags and hasattr(es, "columns_between")
                and set(spec.group_by) <= {"entity", "source", "name", "kind"}):
            # aggregates: from the store's columns, no row built
            t, values, codes, keys_of = es.columns_between(start, end, name=spec.name or "*",
                                                           source=spec.entity)
            end = self._end_at_now(spec, end, [float(t.max())] if t.size else [])
            keys = ["source" if k == "entity" else k for k in spec.group_by]
            groups: dict[tuple, np.ndarray | None] = {(): None}
            if keys:
                field = {"kind": 0, "source": 1, "name": 2}
                by_key: dict[tuple, list[int]] = {}
                for c in np.unique(codes).tolist():
                    by_key.setdefault(tuple(keys_of[c][field[k]] for k in keys), []).append(c)
                groups = {gk: np.flatnonzero(np.isin(codes, cs)) for gk, cs in by_key.items()}
            return self._aggregate_columns(query, t, values, keys, groups, start, end)
        rows = es.between(start, end, name=spec.name or "*", source=spec.entity)
        end = self._end_at_now(spec, end, [r["time"] for r in rows])
        if spec.tags:
            rows = [
                r for r in rows if all((r["tags"] or {}).get(k) == v for k, v in spec.tags.items())
            ]
        return self._record_result(query, rows, "time", "value", "source", start, end)

    def _record_result(
        self,
        query: Query,
        rows: list[dict[str, Any]],
        tkey: str,
        vkey: str,
        gkey: str,
        start: float,
        end: float,
    ) -> QueryResult:
        """Raw rows, or aggregates (of ``vkey`` at ``tkey``) per group and window."""
        spec = query.spec
        aggs = list(spec.aggregates)
        qd = query.to_dict()
        if not aggs:
            if spec.window is not None:
                raise QueryError("window() needs an aggregate, e.g. .aggregate('count')")
            if spec.limit is not None:
                rows = rows[: spec.limit]
            return QueryResult(
                qd,
                rows,
                aggregates=[],
                weighting="sample",
                exact=True,
                start=_clean(start),
                end=_clean(end),
            )
        keys = ["source" if k == "entity" else k for k in spec.group_by]
        t = np.array([r[tkey] for r in rows], dtype=float)
        v = np.array([_num(r.get(vkey)) for r in rows], dtype=float)
        buckets: dict[tuple, list[int]] = {}
        for n, r in enumerate(rows):
            gk = tuple(
                r.get(gkey)
                if k in ("source", "entity")
                else (r.get(k) if k in r else (r.get("attributes") or r.get("tags") or {}).get(k))
                for k in keys
            )
            buckets.setdefault(gk, []).append(n)
        groups = {gk: np.array(ix, dtype=np.intp) for gk, ix in buckets.items()}
        if not keys:
            groups = {(): None}
        return self._aggregate_columns(query, t, v, keys, groups, start, end)

    def _aggregate_columns(
        self,
        query: Query,
        t: np.ndarray,
        v: np.ndarray,
        keys: list[str],
        groups: dict[tuple, np.ndarray | None],
        start: float,
        end: float,
    ) -> QueryResult:
        """Aggregates of values ``v`` at times ``t`` per group (``groups``: the group's
        key values -> its rows, None for all) and window: records as columns, so a
        store that holds them as columns answers without building a record per row."""
        spec = query.spec
        aggs = list(spec.aggregates)
        if not math.isfinite(start) or not math.isfinite(end):
            if not math.isfinite(start):
                start = float(t.min()) if t.size else 0.0
                if spec.window is not None:
                    start = _window_start(start, spec.window)
            if not math.isfinite(end):
                now = self.now()
                end = just_after(float(t.max())) if t.size else start
                if now is not None:
                    end = max(end, now)  # (nothing recorded: none in [start, now))
        # as for metrics: when the clock follows these records (none is later than now),
        # windows reaching past now stop just after it and windows entirely after now
        # answer "nothing yet" (count 0, every other aggregate None, rate included)
        clock = self.now()
        follows = clock is not None and not (t.size and float(t.max()) > clock)
        windows, future = _split_at_now(self._windows(spec, start, end),
                                        clock if follows else None)
        nothing_yet = {g: (0 if g == "count" else None) for g in aggs}
        numeric = [s for s in aggs if s not in ("count", "rate")]
        counts = [s for s in aggs if s in ("count", "rate")]
        out = []
        for gk, rows in sorted(groups.items(), key=lambda kv: repr(kv[0])):
            gt, gv = (t, v) if rows is None else (t[rows], v[rows])
            order = np.argsort(gt, kind="stable")
            gt, gv = gt[order], gv[order]
            gdict = dict(zip(keys, gk, strict=True))
            for a, b in windows:
                i0, i1 = np.searchsorted(gt, [a, b])
                vals = gv[i0:i1]
                # count and rate count every record; the other aggregates read the
                # records with a number (an event without a value is still an event)
                res = exact_aggregates(counts, gt[i0:i1], vals, a, b) if counts else {}
                if numeric:
                    ok = ~np.isnan(vals)
                    res.update(exact_aggregates(numeric, gt[i0:i1][ok], vals[ok], a, b))
                out.append({**gdict, "start": a, "end": b, **{g: res[g] for g in aggs}})
            out.extend({**gdict, "start": a, "end": b, **nothing_yet} for a, b in future)
        if spec.limit is not None:
            out = out[: spec.limit]
        return QueryResult(
            query.to_dict(), out, aggregates=aggs, weighting="sample", exact=True,
            start=start, end=end
        )


def _num(x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return math.nan
    return float(x)
