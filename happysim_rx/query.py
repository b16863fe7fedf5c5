"""Query / QueryEngine / QueryResult: one question API over the stores.

A ``Query`` is an immutable, serializable spec built fluently; ``execute()`` runs it on
the engine it came from. Times accept floats (seconds) or anything with
``.to_seconds()`` (``Instant``/``Duration``). Ranges are half-open ``[start, end)``.

>>> from happysim_rx.clock import ManualClock
>>> from happysim_rx.bus import ObservationBus
>>> from happysim_rx.stores import MetricStore
>>> bus = ObservationBus(ManualClock()); _ = bus.attach_store(MetricStore())
>>> lat = bus.metric("Sink", "latency", "sample")
>>> for i in range(100): lat.emit(i * 0.1, float(i))
>>> engine = QueryEngine(bus)
>>> engine.metrics("latency").from_entity("Sink").between(0, 5).aggregate("max").execute().scalar
49.0
>>> try: engine.metrics("latncy").execute()
... except QueryError as e: print(e)
unknown metric 'latncy' (did you mean 'latency'?); known metrics: latency
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any

import msgspec
import numpy as np

from happysim_rx.observation import ObservationKind, Span
from happysim_rx.stores.compute import exact_aggregates, result_weighting
from operators.aggregators import make_aggregator, valid_names_text

__all__ = ["Query", "QueryEngine", "QueryResult", "QueryError", "to_seconds"]

_KINDS = ("metrics", "spans", "events")


class QueryError(ValueError):
    """A query that cannot be answered; the message names the valid choices."""


def to_seconds(x: Any, what: str = "time") -> float:
    """Float seconds from a number or anything with ``.to_seconds()``."""
    if hasattr(x, "to_seconds"):
        x = x.to_seconds()
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise QueryError(f"{what} must be seconds (float), Instant or Duration, got {x!r}")
    x = float(x)
    if math.isnan(x):
        raise QueryError(f"{what} must not be NaN")
    return x


def _suggest(name: str, known: Iterable[str], what: str) -> str:
    known = sorted(set(known))
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    listing = ", ".join(known[:30]) + (" ..." if len(known) > 30 else "") if known else "none"
    return f"unknown {what} {name!r}{hint}; known {what}s: {listing}"


def _has_glob(s: str) -> bool:
    return any(c in s for c in "*?[")


@dataclass(frozen=True)
class _Spec:
    kind: str | None = None
    name: str | None = None
    entity: str = "*"
    tags: dict[str, Any] = field(default_factory=dict)
    start: float | None = None
    end: float | None = None
    window: float | None = None
    group_by: tuple[str, ...] = ()
    aggregates: tuple[str, ...] = ()
    limit: int | None = None
    weighting: str | None = None


class Query:
    """Fluent, immutable query spec. Each method returns a new Query.

    >>> q = Query().metrics("latency").from_entity("Sink").between(0, 10).aggregate("p99")
    >>> Query.from_json(q.to_json()).to_dict() == q.to_dict()
    True
    """

    def __init__(self, engine: QueryEngine | None = None, spec: _Spec | None = None) -> None:
        self._engine = engine
        self._spec = spec or _Spec()

    def _with(self, **kw: Any) -> Query:
        return Query(self._engine, replace(self._spec, **kw))

    # -- what ---------------------------------------------------------------------------
    def metrics(self, name: str) -> Query:
        """A metric series by name (globs allowed: ``"*_time"``)."""
        if not isinstance(name, str) or not name:
            raise QueryError(f"metric name must be a non-empty string, got {name!r}")
        return self._with(kind="metrics", name=name)

    def spans(self) -> Query:
        """Request spans (one per entity visited)."""
        return self._with(kind="spans", name=None)

    def events(self, event_type: str = "*") -> Query:
        """Processed events / state changes, optionally of one type (glob)."""
        return self._with(kind="events", name=event_type)

    # -- filters ------------------------------------------------------------------------
    def from_entity(self, entity: str) -> Query:
        """Only observations from this entity (name or glob)."""
        if not isinstance(entity, str) or not entity:
            raise QueryError(f"entity must be a non-empty string, got {entity!r}")
        return self._with(entity=entity)

    def where(self, **tags: Any) -> Query:
        """Only samples whose tags (span attributes) have these values."""
        return self._with(tags={**self._spec.tags, **tags})

    def between(self, start: Any, end: Any) -> Query:
        """Half-open range ``[start, end)``; floats, Instants or Durations."""
        s, e = to_seconds(start, "start"), to_seconds(end, "end")
        if s > e:
            raise QueryError(f"between(start, end) needs start <= end, got start={s} > end={e}")
        return self._with(start=s, end=e)

    def since(self, start: Any) -> Query:
        return self._with(start=to_seconds(start, "start"))

    def window(self, size: Any) -> Query:
        """Tumbling windows of ``size`` seconds aligned to multiples of size from 0."""
        w = to_seconds(size, "window size")
        if not w > 0 or math.isinf(w):
            raise QueryError(f"window size must be a positive finite number of seconds, got {w}")
        return self._with(window=w)

    def group_by(self, *keys: str) -> Query:
        """Split results by ``"entity"`` (alias ``"source"``), ``"name"`` or a tag key."""
        norm = tuple("source" if k == "entity" else k for k in keys)
        return self._with(group_by=self._spec.group_by + norm)

    def aggregate(self, *specs: str) -> Query:
        """``aggregate("p99")`` or ``aggregate("mean", "p99")``; see AGGREGATE_NAMES."""
        if not specs:
            raise QueryError(f"aggregate() needs at least one of: {valid_names_text()}")
        norm = []
        for s in specs:
            try:
                make_aggregator(s)
            except ValueError as e:
                raise QueryError(str(e)) from None
            norm.append(
                {"avg": "mean", "median": "p50", "std": "stddev", "var": "variance"}.get(
                    s.strip().lower(), s.strip().lower()
                )
            )
        return self._with(aggregates=tuple(norm))

    def weighting(self, how: str) -> Query:
        """Override the default (``"time"`` for gauges, ``"sample"`` otherwise)."""
        if how not in ("time", "sample"):
            raise QueryError(f"weighting must be 'time' or 'sample', got {how!r}")
        return self._with(weighting=how)

    def limit(self, n: int) -> Query:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise QueryError(f"limit must be a non-negative int, got {n!r}")
        return self._with(limit=n)

    # -- run ----------------------------------------------------------------------------
    def bind(self, engine: QueryEngine) -> Query:
        return Query(engine, self._spec)

    def execute(self) -> QueryResult:
        if self._engine is None:
            raise QueryError("this Query is not bound to an engine: use engine.execute(query)")
        return self._engine.execute(self)

    def observe(self, every: Any = None) -> Any:
        """Live view: an Observable of QueryResults, one per closed window (or every
        ``every`` seconds of simulated time), driven by the clock's timers."""
        if self._engine is None:
            raise QueryError("observe() needs a Query bound to an engine with a bus")
        from happysim_rx.live import observe_query

        return observe_query(self._engine, self, every)

    # -- serialization ------------------------------------------------------------------
    @property
    def spec(self) -> _Spec:
        return self._spec

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self._spec)
        d["group_by"] = list(d["group_by"])
        d["aggregates"] = list(d["aggregates"])
        return d

    def to_json(self) -> str:
        return msgspec.json.encode(self.to_dict()).decode()

    @classmethod
    def from_dict(cls, d: dict[str, Any], engine: QueryEngine | None = None) -> Query:
        unknown = set(d) - set(_Spec.__dataclass_fields__)
        if unknown:
            raise QueryError(
                f"unknown query fields {sorted(unknown)}; valid: {sorted(_Spec.__dataclass_fields__)}"
            )
        d = dict(d)
        d["group_by"] = tuple(d.get("group_by") or ())
        d["tags"] = dict(d.get("tags") or {})
        aggs = tuple(d.pop("aggregates", None) or ())
        q = Query(engine, _Spec(**d))
        if d.get("kind") not in (None, *_KINDS):
            raise QueryError(f"query kind must be one of {_KINDS}, got {d.get('kind')!r}")
        if q._spec.start is not None and q._spec.end is not None:
            q = q.between(q._spec.start, q._spec.end)
        if q._spec.window is not None:
            q = q.window(q._spec.window)
        return q.aggregate(*aggs) if aggs else q

    @classmethod
    def from_json(cls, s: str | bytes, engine: QueryEngine | None = None) -> Query:
        return cls.from_dict(msgspec.json.decode(s), engine)

    def __repr__(self) -> str:
        return f"Query({self.to_json()})"


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


class QueryResult:
    """Rows plus honesty fields: ``weighting``, ``exact``, ``error_bound``.

    * no aggregate: ``rows`` are raw observations; ``series`` is [(time, value)].
    * aggregate, no window: one row per group; ``scalar`` is the single value.
    * window: one row per (group, window); ``series`` is [(window_start, value)].
    """

    def __init__(
        self,
        query: dict[str, Any],
        rows: list[dict[str, Any]],
        *,
        aggregates: list[str],
        weighting: str,
        exact: bool,
        error_bound: float | None = None,
        time_resolution: float | None = None,
        start: float | None = None,
        end: float | None = None,
    ) -> None:
        self.query = query
        self.rows = rows
        self.aggregates = aggregates
        self.weighting = weighting
        self.exact = exact
        self.error_bound = error_bound
        self.time_resolution = time_resolution
        self.start, self.end = start, end

    @property
    def group_by(self) -> list[str]:
        return list(self.query.get("group_by") or [])

    @property
    def scalar(self) -> float | None:
        """The value of the first aggregate of an ungrouped, unwindowed result (None: no
        data); `value(name)` picks another one."""
        if not self.aggregates:
            raise QueryError("scalar needs an aggregate: add .aggregate('mean') (or use .rows)")
        if self.query.get("window") is not None or self.group_by:
            raise QueryError(
                f"scalar is ambiguous for a windowed/grouped result ({len(self.rows)} rows); "
                "use .series, .rows or .groups()"
            )
        if not self.rows:
            return None
        return self.rows[0].get(self.aggregates[0])

    def value(self, aggregate: str) -> float | None:
        """Scalar of one of several aggregates."""
        if aggregate not in self.aggregates:
            raise QueryError(f"{aggregate!r} was not computed; computed: {self.aggregates}")
        return self.rows[0].get(aggregate) if self.rows else None

    @property
    def series(self) -> list[tuple[float, Any]]:
        """[(time, value)]: window starts and the first aggregate, or raw samples."""
        if self.group_by:
            raise QueryError("series of a grouped result is ambiguous: use .groups()")
        if not self.aggregates:
            key = "duration" if self.query.get("kind") == "spans" else "value"
            tkey = "start" if self.query.get("kind") == "spans" else "time"
            return [(r[tkey], r.get(key)) for r in self.rows]
        agg = self.aggregates[0]
        return [(r["start"], r.get(agg)) for r in self.rows]

    def groups(self) -> dict[Any, list[dict[str, Any]]]:
        """Rows keyed by the group-by values (a tuple when several keys)."""
        out: dict[Any, list[dict[str, Any]]] = {}
        for r in self.rows:
            key = tuple(r.get(k) for k in self.group_by)
            out.setdefault(key[0] if len(key) == 1 else key, []).append(r)
        return out

    def __len__(self) -> int:
        return len(self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "start": _clean(self.start),
            "end": _clean(self.end),
            "aggregates": self.aggregates,
            "weighting": self.weighting,
            "exact": self.exact,
            "error_bound": self.error_bound,
            "time_resolution": self.time_resolution,
            "rows": self.to_records(),
        }

    def to_json(self) -> str:
        return msgspec.json.encode(self.to_dict(), enc_hook=_enc_hook).decode()

    def to_records(self) -> list[dict[str, Any]]:
        return [{k: _clean(v) for k, v in r.items()} for r in self.rows]

    def to_pandas(self) -> Any:
        try:
            import pandas as pd
        except ImportError as e:  # pragma: no cover - optional dependency
            raise ImportError("to_pandas() needs pandas: pip install pandas") from e
        return pd.DataFrame.from_records(self.to_records())

    def __repr__(self) -> str:
        head = (
            f"scalar={self.rows[0].get(self.aggregates[0])!r}"
            if (self.aggregates and len(self.rows) == 1)
            else f"rows={len(self.rows)}"
        )
        return (
            f"<QueryResult {head} weighting={self.weighting} exact={self.exact}"
            f" error_bound={self.error_bound}>"
        )


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, Span):
        return obj.to_dict()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, ObservationKind):
        return obj.value
    return repr(obj)


class QueryEngine:
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

    def catalog(self) -> dict[str, Any]:
        """What can be asked: metric series (with kinds), span entities, event types."""
        metrics = [
            {"name": n, "source": s, "series_kind": k}
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
        return {
            "metrics": metrics,
            "span_entities": ts.entities() if ts is not None else [],
            "events": events,
            "aggregates": valid_names_text(),
            "stores": {
                "metrics": None if self.metric_store is None else type(self.metric_store).__name__,
                "spans": None if ts is None else type(ts).__name__,
                "events": None if es is None else type(es).__name__,
            },
        }

    # -- execution ----------------------------------------------------------------------
    def execute(self, query: Query | dict[str, Any] | str) -> QueryResult:
        """Run a Query, its ``to_dict()`` or its ``to_json()``."""
        if isinstance(query, str | bytes):
            query = Query.from_json(query)
        elif isinstance(query, dict):
            query = Query.from_dict(query)
        spec = query.spec
        if spec.kind == "metrics":
            return self._metrics(query)
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
                start = math.floor(start / spec.window) * spec.window
        if end is None:
            hi = -math.inf if bounds is None else math.nextafter(bounds[1], math.inf)
            now = self.now()
            end = max(hi, now if now is not None else -math.inf)
            if not math.isfinite(end):
                end = start
        return start, end

    @staticmethod
    def _windows(spec: _Spec, start: float, end: float) -> list[tuple[float, float]]:
        if spec.window is None:
            return [(start, end)]
        if not (math.isfinite(start) and math.isfinite(end)):
            raise QueryError(
                f"window() needs a finite range, got [{start}, {end}); give between(t1, t2)")
        # Boundaries on integer nanosecond ticks, like the operators' windows and the
        # engine's clock: k * w_ns / 1e9 is the correctly rounded float of the boundary,
        # so a sample at 0.3 s lands in [0.3, 0.4), never in [0.2, 0.30000000000000004).
        w_ns = round(spec.window * 1e9)
        if w_ns <= 0:
            raise QueryError(f"window size must be at least 1 ns, got {spec.window!r}")
        k0 = round(start * 1e9) // w_ns
        k1 = -(-round(end * 1e9) // w_ns)
        n = k1 - k0
        if spec.limit is not None:
            n = min(n, spec.limit)
        if n > 1_000_000:
            raise QueryError(
                f"{n} windows of {spec.window} s: choose a larger window or a shorter range")
        out = []
        for k in range(k0, k0 + n):
            a, b = max(k * w_ns / 1e9, start), min((k + 1) * w_ns / 1e9, end)
            if b > a or (a == b == start == end):
                out.append((a, b))
        return out

    def _resolve_metric_series(self, spec: _Spec) -> list[Any]:
        store = self.metric_store
        if store is None:
            raise QueryError(
                "no metric store is recording (observability disabled or metrics=False); "
                "enable one, e.g. Simulation(observability=ObservabilityConfig.default())"
            )
        cat = self._metric_catalog()
        names = {n for _, n, _ in cat}
        assert spec.name is not None
        matched_names = {n for n in names if fnmatchcase(n, spec.name)}
        if not matched_names:
            raise QueryError(_suggest(spec.name, names, "metric"))
        sources = {s for s, n, _ in cat if n in matched_names}
        if not any(fnmatchcase(s, spec.entity) for s in sources):
            raise QueryError(
                _suggest(spec.entity, sources, "entity").replace(
                    "known entitys", f"entities with {spec.name!r}"
                )
            )
        if store is None:
            raise QueryError(
                "no metric store is recording (observability disabled or metrics=False); "
                "enable a metric store to query metrics"
            )
        series = [s for s in store.select(spec.name, spec.entity)]
        return series

    def _metrics(self, query: Query) -> QueryResult:
        spec = query.spec
        store = self.metric_store
        series = self._resolve_metric_series(spec)
        kinds = {s.series_kind for s in series}
        weighting = spec.weighting or ("time" if kinds == {"gauge"} else "sample")
        counter = kinds == {"counter"}
        bounds = store.time_bounds(series) if series else None
        rng = self._range(spec, bounds)
        aggs = list(spec.aggregates)
        qd = query.to_dict()
        if rng is None:  # declared, never recorded: the same row shape as an empty range
            rows = []
            if aggs and spec.window is None and not spec.group_by:
                rows = [{"metric": spec.name, "start": spec.start, "end": spec.end,
                         **{g: (0.0 if g == "count" else None) for g in aggs}}]
            return QueryResult(
                qd, rows, aggregates=aggs, weighting=result_weighting(aggs, weighting),
                exact=True
            )
        start, end = rng
        if not aggs:
            if spec.window is not None:
                raise QueryError("window() needs an aggregate, e.g. .aggregate('mean')")
            raw = store.raw(series, start, end, spec.tags or None)
            if spec.limit is not None:
                raw = raw[: spec.limit]
            rows = [
                {"time": t, "source": s, "name": nm, "value": v, **({"tags": tg} if tg else {})}
                for t, s, nm, v, tg in raw
            ]
            return QueryResult(
                qd,
                rows,
                aggregates=[],
                weighting="sample",
                exact=bool(getattr(store, "exact", True)),
                start=start,
                end=end,
            )
        if spec.tags:
            seen = {k for s in series for tg in (getattr(s, "_tags", None) or {}).values()
                    for k in tg}
            unknown = sorted(set(spec.tags) - seen)
            if unknown:
                raise QueryError(
                    f"no sample of {spec.name!r} has tag(s) {unknown}; "
                    f"tags seen: {sorted(seen) or 'none'}")
        groups = self._metric_groups(spec, series, start, end)
        rows: list[dict[str, Any]] = []
        exact, bound, res = True, None, None
        # A gauge holds its last value only up to now: time after the clock (a paused run,
        # or past the end of a finished one) has no value yet, so it is not made up.
        now = self.now() if weighting == "time" else None
        if now is not None and bounds is not None and now < bounds[1]:
            now = None  # a clock that is not following this data (an offline feed)
        for gkey, gseries, gwhere in groups:
            for a, b in self._windows(spec, start, end):
                row: dict[str, Any] = {"metric": spec.name, **gkey, "start": a, "end": b}
                if now is not None and b > now:
                    if a >= now:
                        row.update({g: (0.0 if g == "count" else None) for g in aggs})
                        rows.append(row)
                        continue
                    b = now
                try:
                    ans = store.aggregate(
                        gseries,
                        aggs,
                        a,
                        b,
                        weighting=weighting,
                        where=gwhere or None,
                        counter=counter,
                    )
                except ValueError as e:
                    raise QueryError(str(e)) from None
                exact = exact and ans.exact
                if ans.error_bound is not None:
                    bound = max(bound or 0.0, ans.error_bound)
                if ans.time_resolution is not None:
                    res = max(res or 0.0, ans.time_resolution)
                row.update(ans.values)
                rows.append(row)
        if spec.limit is not None:
            rows = rows[: spec.limit]
        return QueryResult(
            qd,
            rows,
            aggregates=aggs,
            weighting=result_weighting(aggs, weighting),
            exact=exact,
            error_bound=bound,
            time_resolution=res,
            start=start,
            end=end,
        )

    def _metric_groups(
        self, spec: _Spec, series: list[Any], start: float, end: float
    ) -> list[tuple[dict[str, Any], list[Any], dict[str, Any]]]:
        """[(group key dict, series, tag filter)] for the group_by keys."""
        groups: list[tuple[dict[str, Any], list[Any], dict[str, Any]]] = [
            ({}, series, dict(spec.tags))
        ]
        for key in spec.group_by:
            nxt = []
            for gk, gs, gw in groups:
                if key in ("source", "name"):
                    vals = sorted({getattr(s, key) for s in gs})
                    for val in vals:
                        nxt.append(
                            ({**gk, key: val}, [s for s in gs if getattr(s, key) == val], gw)
                        )
                else:
                    tag_vals: set[Any] = set()
                    for s in gs:
                        if not hasattr(s, "tag_values"):
                            raise QueryError(
                                f"group_by({key!r}) on tags needs an exact metric store"
                            )
                        t, _ = s.arrays()
                        i0, i1 = np.searchsorted(t, [start, end])
                        tag_vals.update(
                            v for v in s.tag_values(int(i0), int(i1), key) if v is not None
                        )
                    if not tag_vals:
                        raise QueryError(
                            f"group_by({key!r}): no sample has tag {key!r}; "
                            "group by 'entity', 'name' or a tag key that samples carry"
                        )
                    for val in sorted(tag_vals, key=repr):
                        nxt.append(({**gk, key: val}, gs, {**gw, key: val}))
            groups = nxt
        return groups

    # -- spans ----------------------------------------------------------------------------
    def _spans(self, query: Query) -> QueryResult:
        spec = query.spec
        ts = self.trace_store
        if ts is None:
            raise QueryError("no trace store is recording spans (enable spans in the config)")
        entities = ts.entities()
        if spec.entity != "*" and not any(fnmatchcase(e, spec.entity) for e in entities):
            raise QueryError(
                _suggest(spec.entity, entities, "entity").replace(
                    "known entitys", "entities with spans"
                )
            )
        start = -math.inf if spec.start is None else spec.start
        end = math.inf if spec.end is None else spec.end
        spans = ts.between(start, end, spec.entity)
        if spec.tags:
            spans = [
                s
                for s in spans
                if all((s.attributes or {}).get(k) == v for k, v in spec.tags.items())
            ]
        return self._record_result(
            query, [s.to_dict() for s in spans], "start", "duration", "entity", start, end
        )

    def _events(self, query: Query) -> QueryResult:
        spec = query.spec
        es = self.event_store
        if es is None:
            raise QueryError("no event store is recording events (enable events in the config)")
        cat = es.catalog()
        names = {n for _, _, n in cat}
        if spec.name not in (None, "*") and not any(fnmatchcase(n, spec.name) for n in names):
            raise QueryError(_suggest(spec.name or "", names, "event type"))
        sources = {s for _, s, _ in cat}
        if spec.entity != "*" and not any(fnmatchcase(s, spec.entity) for s in sources):
            raise QueryError(
                _suggest(spec.entity, sources, "entity").replace(
                    "known entitys", "entities with events"
                )
            )
        start = -math.inf if spec.start is None else spec.start
        end = math.inf if spec.end is None else spec.end
        rows = es.between(start, end, name=spec.name or "*", source=spec.entity)
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
        if not math.isfinite(start) or not math.isfinite(end):
            times = [r[tkey] for r in rows]
            if not math.isfinite(start):
                start = min(times) if times else 0.0
                if spec.window is not None:
                    start = math.floor(start / spec.window) * spec.window
            if not math.isfinite(end):
                now = self.now()
                end = max(
                    [math.nextafter(max(times), math.inf)] if times else [start], default=start
                )
                if now is not None:
                    end = max(end, now)
        keys = ["source" if k == "entity" else k for k in spec.group_by]
        buckets: dict[tuple, list[dict[str, Any]]] = {}
        for r in rows:
            gk = tuple(
                r.get(gkey)
                if k in ("source", "entity")
                else (r.get(k) if k in r else (r.get("attributes") or r.get("tags") or {}).get(k))
                for k in keys
            )
            buckets.setdefault(gk, []).append(r)
        if not keys:
            buckets = {(): rows}
        out = []
        for gk, grows in sorted(buckets.items(), key=lambda kv: repr(kv[0])):
            t = np.array([r[tkey] for r in grows], dtype=float)
            v = np.array([_num(r.get(vkey)) for r in grows], dtype=float)
            order = np.argsort(t, kind="stable")
            t, v = t[order], v[order]
            for a, b in self._windows(spec, start, end):
                i0, i1 = np.searchsorted(t, [a, b])
                vals = v[i0:i1]
                ok = ~np.isnan(vals)
                numeric = [s for s in aggs if s not in ("count", "rate")]
                res = exact_aggregates(
                    aggs, t[i0:i1][ok] if numeric else t[i0:i1], vals[ok] if numeric else vals, a, b
                )
                row = {**dict(zip(keys, gk, strict=True)), "start": a, "end": b, **res}
                out.append(row)
        if spec.limit is not None:
            out = out[: spec.limit]
        return QueryResult(
            qd, out, aggregates=aggs, weighting="sample", exact=True, start=start, end=end
        )


def _num(x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return math.nan
    return float(x)
