"""The one seam through which a component is observed: declared series, cheap recording
calls, named downstream entities.

A component declares what it records once, as a class-level table, records through
``increment`` / ``set_gauge`` / ``observe`` / ``emit_event`` / ``record_span`` (no-ops when
the simulation records nothing), and names the attributes that hold its downstream
entities, so the catalog lists every series before the run starts and the topology is read,
not hand-listed. Nothing in ``happysimulator.observability`` knows a component by name::

    class Cache(ObservedEntity):
        observed_series = (
            counter("hits", "requests", "lookups answered from the cache"),
            counter("misses", "requests"),
            gauge("size", "entries"),
        )
        downstream_attributes = ("backing_store",)

        def handle_event(self, event):
            if event.context["metadata"].get("key") in self.keys:
                self.increment("hits")
            ...
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from happysim_rx import ObservationKind
from happysim_rx.observation import Span
from happysimulator.core.component_instrumentation import OPEN_SPAN_KEY, trace_id
from happysimulator.core.entity import Entity
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion

_METRIC = ObservationKind.METRIC
_BIG = 1 << 62  # ints within +-_BIG go into a store's columns as they are (no float made)
SERIES_KINDS = ("counter", "gauge", "sample")


@dataclass(frozen=True, slots=True)
class Series:
    """One declared series: ``kind`` is ``counter`` (``rate`` = per second), ``gauge``
    (holds its value; time-weighted) or ``sample`` (aggregated per sample); ``unit`` is
    what one value measures (``"s"``, ``"requests"``); ``tags`` the tag keys it carries."""

    name: str
    kind: str
    unit: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in SERIES_KINDS:
            raise ValueError(
                f"series {self.name!r}: kind must be one of {SERIES_KINDS}, got {self.kind!r}")


def counter(name: str, unit: str = "", description: str = "",
            tags: tuple[str, ...] = ()) -> Series:
    """A counter series (each ``increment`` adds; ``rate`` is per simulated second)."""
    return Series(name, "counter", unit, description, tags)


def gauge(name: str, unit: str = "", description: str = "",
          tags: tuple[str, ...] = ()) -> Series:
    """A gauge series (holds its value until the next ``set_gauge``)."""
    return Series(name, "gauge", unit, description, tags)


def sample(name: str, unit: str = "", description: str = "",
           tags: tuple[str, ...] = ()) -> Series:
    """A sample series (latencies, sizes: aggregated per sample)."""
    return Series(name, "sample", unit, description, tags)


def _finite(name: str, value: Any) -> float:
    """A metric value as float; NaN, infinities, strings and booleans are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        if isinstance(value, str | bytes | bool) or not hasattr(value, "__float__"):
            raise TypeError(
                f"metric {name!r} takes a finite number, got {type(value).__name__} "
                f"{value!r}")
        value = float(value)  # numpy scalars and the like
    if not math.isfinite(value):
        raise ValueError(f"metric {name!r} takes a finite number, got {value!r}")
    return value


def declared_series(cls: type) -> dict[str, Series]:
    """Every series `cls` declares, its bases' included (a subclass may redeclare)."""
    out: dict[str, Series] = {}
    for klass in reversed(cls.__mro__):
        for spec in klass.__dict__.get("observed_series", ()):
            out[spec.name] = spec
    return out


def declared_span_attributes(cls: type) -> tuple[str, ...]:
    """The attribute keys `cls`'s spans carry (``span_attributes``), its bases'
    included, in declaration order."""
    out: dict[str, None] = {}
    for klass in reversed(cls.__mro__):
        out.update(dict.fromkeys(klass.__dict__.get("span_attributes", ())))
    return tuple(out)


def downstream_of(entity: Any) -> list[Entity]:
    """The entities named by ``entity.downstream_attributes`` (an entity, or a list,
    tuple or dict of them), in declaration order, without repeats."""
    out: list[Entity] = []
    seen: set[int] = set()
    for attr in getattr(type(entity), "downstream_attributes", ()):
        value = getattr(entity, attr, None)
        if isinstance(value, dict):
            value = list(value.values())
        items = value if isinstance(value, list | tuple) else [value]
        for item in items:
            if isinstance(item, Entity) and id(item) not in seen:
                seen.add(id(item))
                out.append(item)
    return out


class ObservedEntity(Entity):
    """An `Entity` that records what it measures. Calls are cheap no-ops when the
    simulation records nothing (or the entity is not in one yet)."""

    #: the series this class records (see `counter`, `gauge`, `sample`)
    observed_series: ClassVar[tuple[Series, ...]] = ()
    #: attribute names that hold the entities this one sends requests to
    downstream_attributes: ClassVar[tuple[str, ...]] = ()
    #: the attribute keys this class's spans carry (``record_span(..., backend=...)``):
    #: a span query may filter or group on them before any span has them
    span_attributes: ClassVar[tuple[str, ...]] = ()

    # this entity's `_Recording` (plain attribute reads: touching ``self.__dict__`` would
    # turn the instance's inline values into a dict, slowing every attribute access)
    _obs_rec: _Recording | None = None
    # (its simulation, {(kind, name, series kind): topic}): an entity built once and
    # used in a second simulation records on that one's bus, not the first's
    _obs_topics: tuple[Any, dict[tuple, Any]] | None = None

    def _runtime(self) -> Any:
        sim = self._sim
        runtime = getattr(sim, "observability_runtime", None) if sim is not None else None
        if runtime is None or not runtime.config.enabled:
            return None
        return runtime

    def _recording(self) -> _Recording | None:
        """This entity's topic caches in its current simulation (None: records nothing).
        Looked up once per simulation, so a disabled run pays one attribute read and one
        identity test per call."""
        rec = self._obs_rec
        sim = self._sim
        if rec is not None and rec.sim is sim:
            return rec if rec.on else None
        if sim is None:
            return None
        runtime = self._runtime()
        traces = runtime is not None and runtime.config.traces
        keep = None
        if traces:
            from happysimulator.observability.trace_sampling import trace_sampler

            keep = trace_sampler(runtime.config.trace_sample_rate)
        rec = self._obs_rec = _Recording(sim, runtime is not None, traces, keep)
        return rec if rec.on else None

    def _topic(self, kind: ObservationKind, name: str, series_kind: str | None) -> Any:
        # keyed by the series kind too: observe("x") then set_gauge("x") reaches the bus,
        # which refuses to mix kinds in one series
        cached = self._obs_topics
        if cached is None or cached[0] is not self._sim:
            cached = self._obs_topics = (self._sim, {})
        cache = cached[1]
        topic = cache.get((kind, name, series_kind))
        if topic is None:
            runtime = self._runtime()
            if runtime is None:
                return None
            runtime.claim(self)
            topic = cache[(kind, name, series_kind)] = runtime.bus.topic(
                kind, self.name, name, series_kind)
        return topic

    def _now_s(self) -> float:
        return self._sim.now_ns / _NS

    def observe(self, name: str, value: float, **tags: Any) -> None:
        """Record one sample (latency, size, ...): aggregated per sample. The value must
        be a finite number: NaN, infinity, strings and booleans are refused."""
        # hot (once per request): topics are looked up by name alone, and a plain finite
        # float skips the checks (x - x is 0.0 only then)
        rec = self._obs_rec  # (`_recording()` inline: a disabled run returns here)
        if rec is None or rec.sim is not self._sim:
            rec = self._recording()
            if rec is None:
                return
        elif not rec.on:
            return
        try:
            topic = rec.samples[name]
        except KeyError:  # (the first sample of the name: its topic)
            topic = rec.samples[name] = self._topic(_METRIC, name, "sample")
        if type(value) is not float or value - value != 0.0:
            value = _finite(name, value)
        cols = topic.columns
        if cols is None or tags:
            cols = topic.lent  # (live listeners too: the store's columns, then `publish`,
            if cols is None or tags:  # as `emit` would do it, without a call per store)
                topic.emit(rec.sim.now_ns / _NS, value, tags or None)
                return
            now = rec.sim.now_ns / _NS
            cols[0].append(now)
            cols[1].append(value)
            topic.publish(now, value)
        else:  # only the exact store listens: its columns directly (`Topic.columns`)
            cols[0].append(rec.sim.now_ns / _NS)
            cols[1].append(value)

    emit_metric = observe

    def set_gauge(self, name: str, value: float, **tags: Any) -> None:
        """Set a gauge (holds until the next change; time-weighted in queries). Tags
        label the change (``where(tier="hot")`` selects the changes that carry them)."""
        rec = self._obs_rec  # (`_recording()` inline: a disabled run returns here)
        if rec is None or rec.sim is not self._sim:
            rec = self._recording()
            if rec is None:
                return
        elif not rec.on:
            return
        topic = rec.gauges.get(name)
        if topic is None:
            topic = rec.gauges[name] = self._topic(_METRIC, name, "gauge")
        if type(value) is int:  # (a small int as it is; beyond: OverflowError here, not
            v = value if -_BIG < value < _BIG else value + 0.0  # when the store is read)
        elif type(value) is not float or value - value != 0.0:
            v = value = _finite(name, value)
        else:
            v = value
        cols = topic.columns
        if cols is None or tags:
            cols = topic.lent  # (live listeners too: the store's columns, then `publish`,
            if cols is None or tags:  # as `emit` would do it, without a call per store)
                topic.emit(rec.sim.now_ns / _NS, value, tags or None)
                return
            now = rec.sim.now_ns / _NS
            cols[0].append(now)
            cols[1].append(v)
            topic.publish(now, value)
        else:  # only the exact store listens: its columns directly (`Topic.columns`)
            cols[0].append(rec.sim.now_ns / _NS)
            cols[1].append(v)

    def increment(self, name: str, by: float = 1, **tags: Any) -> None:
        """Count something (a counter series: `rate` gives per-second throughput;
        ``where(outcome="hit")`` counts only the increments with those tags)."""
        rec = self._obs_rec  # (`_recording()` inline: a disabled run returns here)
        if rec is None or rec.sim is not self._sim:
            rec = self._recording()
            if rec is None:
                return
        elif not rec.on:
            return
        topic = rec.counters.get(name)
        if topic is None:
            topic = rec.counters[name] = self._topic(_METRIC, name, "counter")
        if type(by) is int:  # (a small int as it is; beyond: OverflowError here, not
            v = by if -_BIG < by < _BIG else by + 0.0  # when the store is read)
        elif type(by) is not float or by - by != 0.0:
            v = by = _finite(name, by)
        else:
            v = by
        cols = topic.columns
        if cols is None or tags:
            cols = topic.lent  # (live listeners too: the store's columns, then `publish`,
            if cols is None or tags:  # as `emit` would do it, without a call per store)
                topic.emit(rec.sim.now_ns / _NS, by, tags or None)
                return
            now = rec.sim.now_ns / _NS
            cols[0].append(now)
            cols[1].append(v)
            topic.publish(now, by)
        else:  # only the exact store listens: its columns directly (`Topic.columns`)
            cols[0].append(rec.sim.now_ns / _NS)
            cols[1].append(v)

    def emit_event(self, name: str, payload: Any = None) -> None:
        """Record a named occurrence (queryable with ``sim.query.events(name)``)."""
        topic = self._topic(ObservationKind.EVENT, name, None)
        if topic is not None:
            topic.emit(self._now_s(), payload)

    def set_state(self, name: str, value: Any) -> None:
        """Record a state change (``bus.state(name)`` streams them)."""
        topic = self._topic(ObservationKind.STATE, name, None)
        if topic is not None:
            topic.emit(self._now_s(), value)

    def open_span(self, request: Any) -> tuple[int, int | None] | None:
        """Start this entity's span of `request` (an `Event`) now; returns the token to
        give `record_span` (None when traces are not recorded).

        The span gets its own id and, as parent, the component hop that passed the
        request here (the enclosing hop open in the request's context); until it is
        recorded, it is the parent of the hops the request takes next. So a request's
        component spans nest as the request travels (client attempt -> balancer ->
        circuit breaker), whatever order they end in. The standard hops (source, server,
        sink) keep their own chain beside them."""
        rec = self._obs_rec
        if rec is None or rec.sim is not self._sim:
            rec = self._recording()
            if rec is None:
                return None
        if not rec.traces:  # (False too when it records nothing)
            return None
        ids = rec.ids
        if ids is None:  # one counter per simulation, shared by its entities
            runtime = self._runtime()
            ids = runtime.__dict__.get("_component_span_ids")
            if ids is None:
                # (imported here: the trace store needs numpy, which a run that records
                # no spans never imports)
                from happysim_rx.stores.trace import COMPONENT_SPAN_BASE

                ids = runtime.__dict__["_component_span_ids"] = itertools.count(
                    COMPONENT_SPAN_BASE)
            rec.ids = ids
        ctx = request._ctx
        if ctx.__class__ is not dict:
            ctx = request.context
        span_id = next(ids)
        parent = ctx.get(_OPEN_SPAN)
        ctx[_OPEN_SPAN] = span_id
        return span_id, parent

    def record_span(self, request: Any, start: float, /, end: float | None = None, *,
                    span: tuple[int, int | None] | None = None, **attributes: Any) -> None:
        """Record this entity's span of `request` (an `Event`): ``start``/``end`` in
        simulated seconds (``end`` defaults to now). The span joins the request's trace
        (its context id). With ``span`` (the token of `open_span`) it keeps that id and
        parent; without, the trace store links it to the request's previous span."""
        rec = self._obs_rec
        if rec is None or rec.sim is not self._sim:
            rec = self._recording()
            if rec is None:
                return
        if not rec.traces:
            return
        topic = rec.spans
        if topic is None:
            runtime = self._runtime()
            runtime.claim(self)
            topic = rec.spans = runtime.bus.topic(ObservationKind.SPAN, self.name, "span")
        now = rec.sim.now_ns / _NS
        c = request._ctx
        if span is None:
            span_id = parent = None
        else:
            span_id, parent = span
            ctx = c if c.__class__ is dict else request.context
            if ctx.get(_OPEN_SPAN) == span_id:  # closed: what follows is its parent's
                ctx[_OPEN_SPAN] = parent
        tid = c["id"] if c.__class__ is dict else trace_id(request)  # (`trace_id` inline)
        if rec.keep is not None and not rec.keep(tid):  # (a request not traced)
            return
        if start.__class__ is not float:
            start = float(start)
        topic.emit(now, Span(tid, span_id, parent, self.name, start,
                             now if end is None else float(end), attributes or None))


#: context key of the innermost component span open for the request
_OPEN_SPAN = OPEN_SPAN_KEY


class _Recording:
    """An entity's topics in one simulation, by series kind and name."""

    __slots__ = ("sim", "on", "traces", "counters", "gauges", "samples", "spans", "ids",
                 "keep")

    def __init__(self, sim: Any, on: bool, traces: bool, keep: Any = None) -> None:
        self.sim = sim
        self.on = on
        self.traces = traces
        #: ``keep(trace_id)`` with a trace sample rate below 1, else None (`trace_sampling`)
        self.keep = keep
        self.spans: Any = None
        self.ids: Any = None
        self.counters: dict[str, Any] = {}
        self.gauges: dict[str, Any] = {}
        self.samples: dict[str, Any] = {}


__all__ = ["ObservedEntity", "Series", "counter", "declared_series", "downstream_of",
           "gauge", "sample"]
