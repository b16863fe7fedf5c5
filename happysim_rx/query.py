"""Query / QueryEngine / QueryResult: one question API over the stores.

A ``Query`` is an immutable, serializable spec built fluently; ``execute()`` runs it on
the engine it came from. Times accept floats (seconds) or anything with
``.to_seconds()`` (``Instant``/``Duration``). Ranges are half-open ``[start, end)``.

>>> from happysim_rx.clock import ManualClock
>>> from happysim_rx.bus import ObservationBus
>>> from happysim_rx.query import QueryEngine
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
from typing import TYPE_CHECKING, Any

import msgspec

from operators.aggregators import canonical_aggregate, valid_names_text

if TYPE_CHECKING:  # (at run time: `__getattr__` below)
    from happysim_rx.engine import QueryEngine
    from happysim_rx.result import QueryResult

__all__ = ["Query", "QueryEngine", "QueryResult", "QueryError", "to_seconds"]

_KINDS = ("metrics", "spans", "events")


class QueryError(ValueError):
    """A query that cannot be answered; the message names the valid choices (and
    ``valid`` lists them where they are names: tag or attribute keys)."""

    def __init__(self, message: str, valid: list[str] | None = None) -> None:
        super().__init__(message)
        self.valid = valid


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


def _str_list(d: dict[str, Any], key: str) -> list[Any]:
    """A list field of a query dict; a bare string is refused, not split into letters."""
    val = d.get(key)
    if val is None:
        return []
    if not isinstance(val, list | tuple):
        hint = f" (write [{val!r}])" if isinstance(val, str) else ""
        raise QueryError(f"{key} must be a list of strings, got {val!r}{hint}")
    return list(val)


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
        if not isinstance(event_type, str) or not event_type:
            raise QueryError(f"event type must be a non-empty string, got {event_type!r}")
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
        for k in keys:
            if not isinstance(k, str) or not k:
                raise QueryError(
                    f"group_by keys are non-empty strings ('entity', 'name' or a tag key), "
                    f"got {k!r}")
        norm = tuple("source" if k == "entity" else k for k in keys)
        return self._with(group_by=self._spec.group_by + norm)

    def aggregate(self, *specs: str) -> Query:
        """``aggregate("p99")`` or ``aggregate("mean", "p99")``.

        Names: count, sum, mean, min, max, stddev, variance, rate, first, last and any
        percentile ``p0``..``p100`` with optional decimals (``p99.9``; ``p999`` and
        ``p9999`` are p99.9 and p99.99). Aliases (``avg``, ``median``, ``std``, ...) are
        stored and labelled under their canonical name; ``value()`` accepts either."""
        if not specs:
            raise QueryError(f"aggregate() needs at least one of: {valid_names_text()}")
        norm: list[str] = []
        for s in specs:
            try:
                name = canonical_aggregate(s)
            except ValueError as e:
                raise QueryError(str(e)) from None
            if name not in norm:
                norm.append(name)
        return self._with(aggregates=tuple(norm))

    def weighting(self, how: str) -> Query:
        """Override the default (``"time"`` for gauges, ``"sample"`` otherwise)."""
        if how not in ("time", "sample"):
            raise QueryError(f"weighting must be 'time' or 'sample', got {how!r}")
        return self._with(weighting=how)

    def limit(self, n: int) -> Query:
        """At most ``n`` rows (n >= 0)."""
        if isinstance(n, bool) or not isinstance(n, int):
            raise QueryError(f"limit must be a non-negative int, got {n!r}")
        if n < 0:
            raise QueryError(f"limit must be a non-negative int, got {n}")
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
        """The inverse of ``to_dict()``. Every field goes through its builder method, so
        a dict is checked exactly like the fluent form (wrong types and values raise
        QueryError naming what is valid; nothing is coerced)."""
        if not isinstance(d, dict):
            raise QueryError(f"a query is a dict of fields, got {type(d).__name__}")
        fields = sorted(_Spec.__dataclass_fields__)
        unknown = set(d) - set(fields)
        if unknown:
            raise QueryError(f"unknown query fields {sorted(unknown)}; valid: {fields}")
        kind, name = d.get("kind"), d.get("name")
        q = Query(engine)
        if kind == "metrics":
            q = q.metrics(name)
        elif kind == "spans":
            if name is not None:
                raise QueryError(f"a spans query has no name, got name={name!r}")
            q = q.spans()
        elif kind == "events":
            q = q.events("*" if name is None else name)
        elif kind is None:
            if name is not None:
                raise QueryError(f"name={name!r} needs a kind, one of {_KINDS}")
        else:
            raise QueryError(f"query kind must be one of {_KINDS}, got {kind!r}")
        if d.get("entity") is not None:
            q = q.from_entity(d["entity"])
        tags = d.get("tags")
        if tags:
            if not isinstance(tags, dict) or not all(isinstance(k, str) for k in tags):
                raise QueryError(f"tags must be an object of tag -> value, got {tags!r}")
            q = q.where(**tags)
        start, end = d.get("start"), d.get("end")
        if start is not None and end is not None:
            q = q.between(start, end)
        elif start is not None:
            q = q.since(start)
        elif end is not None:
            q = q._with(end=to_seconds(end, "end"))
        if d.get("window") is not None:
            q = q.window(d["window"])
        group_by, aggs = _str_list(d, "group_by"), _str_list(d, "aggregates")
        if group_by:
            q = q.group_by(*group_by)
        if aggs:
            q = q.aggregate(*aggs)
        if d.get("limit") is not None:
            q = q.limit(d["limit"])
        if d.get("weighting") is not None:
            q = q.weighting(d["weighting"])
        return q

    @classmethod
    def from_json(cls, s: str | bytes, engine: QueryEngine | None = None) -> Query:
        return cls.from_dict(msgspec.json.decode(s), engine)

    def __repr__(self) -> str:
        return f"Query({self.to_json()})"


def __getattr__(name: str) -> Any:
    """The result and the engine live in their own modules (which import this one);
    they stay importable from here, on first use: an import at load time would make a
    cycle when one of those modules is imported first."""
    if name == "QueryEngine":
        from happysim_rx.engine import QueryEngine as value
    elif name == "QueryResult":
        from happysim_rx.result import QueryResult as value
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value
