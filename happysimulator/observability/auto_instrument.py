"""Auto-instrumentation of the standard components (series names are a public contract).

| entity                  | series                                   | kind    |
|-------------------------|------------------------------------------|---------|
| Server / QueuedResource | queue_depth, in_flight                   | gauge   |
| Server / QueuedResource | wait_time, service_time                  | sample  |
| Server / QueuedResource | arrivals, completed, dropped             | counter |
| Sink / LatencyTracker   | latency (from created_at)                | sample  |
| Source                  | generated                                | counter |

Traces: one span per entity a request visits; ``trace_id`` is the request's context id
and ``parent_id`` the span of the previous hop, carried in the request's context (so
spans are linked causally, never guessed from timestamps). The source's span is the
zero-length root; a sink's span is zero-length at arrival.

How (the hot path is the simulation's): components append *facts* — ints and floats to
per-series lists, and for spans one object per hop to the simulation's shared hop log —
see `happysimulator.core.component_instrumentation`. A `Recorder` turns the lists into
series in bulk (numpy) when someone reads a store, when the run completes, and on a
simulated-time schedule it adapts to the record rate (about `_FLUSH_RECORDS` facts per
flush, so memory stays bounded without a capacity check on the hot path). Spans are
materialized (ids, parent links) in hop order only when the trace store is read. Rx
subscribers of a series get each observation as it happens through the component's
``live`` callback; the stores keep being fed in bulk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from happysim_rx import ObservationKind, Span
from happysimulator.core.component_instrumentation import (
    ARRIVED,
    DONE,
    DROP,
    GEN,
    SINK,
    STARTED,
    ComponentInstrumentation,
    Visit,
    discard,
)

if TYPE_CHECKING:
    from happysimulator.observability.integration import ObservabilityRuntime

_SPAN_KEY = "_span"  # context key holding the id of the request's latest span
_GOLDEN = 2654435761  # Knuth's multiplicative hash: spreads consecutive request ids
_FLUSH_RECORDS = 8192  # facts per scheduled flush (bounded memory between reads)
_FIRST_FLUSH_S = 1.0  # simulated seconds to the first scheduled flush (then adapted)
_NS = 1e9
_SPAN = ObservationKind.SPAN
_EMPTY = np.empty(0, dtype=np.int64)


def _ints(values: list[int]) -> np.ndarray:
    """A list of ints as an array, and the list emptied (it keeps being appended to)."""
    out = np.fromiter(values, dtype=np.int64, count=len(values))
    values.clear()
    return out


def _floats(values: list[float]) -> np.ndarray:
    out = np.fromiter(values, dtype=np.float64, count=len(values))
    values.clear()
    return out


def _gauge_points(t: np.ndarray, values: np.ndarray, last: float) -> tuple[np.ndarray, np.ndarray]:
    """The gauge's changes: the value in effect after *all* records at an instant (a
    server handing over to the next request goes in_flight 1 -> 0 -> 1 within one instant:
    that 0 never held for any time and is not a change), kept where it differs from the
    value before."""
    settled = np.empty(t.size, dtype=bool)
    settled[:-1] = t[1:] != t[:-1]
    settled[-1] = True
    tt, vv = t[settled], values[settled]
    prev = np.empty_like(vv)
    prev[0] = last
    prev[1:] = vv[:-1]
    mask = vv != prev
    return tt[mask], vv[mask]


def _level(ups: np.ndarray, downs: np.ndarray, last: int) -> tuple[np.ndarray, np.ndarray]:
    """A count that goes +1 at each of `ups` and -1 at each of `downs` (ns, each sorted),
    starting from `last`: its settled changes as (times in ns, values)."""
    if not ups.size and not downs.size:
        return _EMPTY, _EMPTY
    t = np.concatenate((ups, downs))
    step = np.concatenate((np.ones(ups.size, np.int64), np.full(downs.size, -1, np.int64)))
    order = np.argsort(t, kind="stable")
    return _gauge_points(t[order], last + np.cumsum(step[order]), last)


class Recorder:
    """A simulation's shared hop log, its instrumentations and their flushing."""

    def __init__(self, runtime: ObservabilityRuntime) -> None:
        self.runtime = runtime
        self.bus = runtime.bus
        self.hops: list[Any] = []
        self.instrumentations: list[_Instrumentation] = []
        self.metrics = runtime.config.metrics
        self.tracer = Tracer(self, runtime.config.trace_sample_rate) if (
            runtime.config.traces) else None
        self._span_mark = 0  # hops whose spans were already materialized (live spans)
        self._clock = runtime.sim.clock
        self._interval = _FIRST_FLUSH_S
        self._timer: Any = None
        runtime.bus.add_flusher(self.flush)

    def add(self, instr: _Instrumentation) -> None:
        instr.code = len(self.instrumentations)
        if self.tracer is not None:
            instr.hops = self.hops.append
            instr.traced = True
            self.tracer.register(instr)
        self.instrumentations.append(instr)
        instr.refresh_live()
        if self._timer is None:
            self._timer = self._clock.call_later(self._interval, self._scheduled_flush)

    def refresh_live(self) -> None:
        for instr in self.instrumentations:
            instr.refresh_live()

    def _scheduled_flush(self) -> None:
        """Flush, then schedule the next flush so that about `_FLUSH_RECORDS` facts
        accumulate in between (at least 1/8, at most 8 times the last interval)."""
        n = len(self.hops) + sum(i.size() for i in self.instrumentations)
        self.flush()
        self._interval *= min(8.0, max(0.125, _FLUSH_RECORDS / max(n, 1)))
        self._timer = self._clock.call_later(self._interval, self._scheduled_flush)

    def flush(self) -> None:
        """Derive every series from the facts so far and hand the spans over."""
        if self.metrics:
            for instr in self.instrumentations:
                instr.emit()
        hops = self.hops
        if hops:
            mark, self._span_mark = self._span_mark, 0
            chunk = hops[mark:]
            hops.clear()
            if chunk:
                self.tracer.hand_over(chunk)

    def spans_now(self) -> None:
        """Materialize and publish the spans of the hops so far (live span streams)."""
        hops = self.hops
        mark = self._span_mark
        if mark < len(hops):
            self._span_mark = len(hops)
            self.tracer.publish(hops[mark:])


class _Instrumentation(ComponentInstrumentation):
    __slots__ = ("entity", "recorder", "topics", "metric_live", "lists")

    def __init__(self, recorder: Recorder, entity: Any, series: list[tuple[str, str]]) -> None:
        super().__init__()
        self.entity = entity
        self.recorder = recorder
        self.metric_live = False
        self.lists: list[list] = []
        metric = recorder.bus.metric
        self.topics = [metric(entity.name, name, kind) for name, kind in series] if (
            recorder.metrics) else []
        for t in self.topics:
            t.watch(self._on_listeners)

    def _list(self) -> Any:
        """A new fact list; returns its `append` (a no-op when metrics are off)."""
        if not self.recorder.metrics:
            return discard
        values: list = []
        self.lists.append(values)
        return values.append

    def size(self) -> int:
        return sum(len(v) for v in self.lists)

    def _on_listeners(self, topic: Any) -> None:
        self.refresh_live()

    def refresh_live(self) -> None:
        metric_live = any(t.has_subscribers for t in self.topics)
        if metric_live and not self.metric_live:
            self.start_live()
        self.metric_live = metric_live
        span_live = self.recorder.tracer is not None and self.recorder.tracer.live
        self.live = self.on_live if (metric_live or span_live) else None

    def on_live(self, kind: int, now: int, obj: Any) -> None:
        if self.metric_live:
            self.publish(kind, now, obj)
        if kind >= DONE and self.recorder.tracer is not None and self.recorder.tracer.live:
            self.recorder.spans_now()

    # per component
    def start_live(self) -> None:
        """Live publication starts: gauges continue from the entity's current state."""

    def publish(self, kind: int, now: int, obj: Any) -> None:
        """One fact, published to the series' Rx subscribers (not to the stores)."""

    def emit(self) -> None:
        """Feed the stores the series derived from the facts so far."""


class QueueInstrumentation(_Instrumentation):
    """Gauges, samples, counters and spans for a `QueuedResource` or `Server`."""

    __slots__ = ("_arrived", "_dropped", "_started", "_waited", "_done", "_served",
                 "_last_depth", "_last_in_flight", "_live_depth", "_live_in_flight")

    SERIES = [("queue_depth", "gauge"), ("in_flight", "gauge"), ("wait_time", "sample"),
              ("service_time", "sample"), ("arrivals", "counter"), ("completed", "counter"),
              ("dropped", "counter")]

    def __init__(self, recorder: Recorder, entity: Any) -> None:
        super().__init__(recorder, entity, self.SERIES)
        self.arrived = self._list()
        self.dropped = self._list()
        self.started = self._list()
        self.waited = self._list()
        self.done = self._list()
        self.served = self._list()
        if self.lists:
            (self._arrived, self._dropped, self._started, self._waited, self._done,
             self._served) = self.lists
        self._last_depth = self._live_depth = entity.depth
        self._last_in_flight = self._live_in_flight = entity.in_flight
        if self.topics:
            now = recorder.runtime.sim.clock.now()
            self.topics[0].emit(now, self._last_depth)
            self.topics[1].emit(now, self._last_in_flight)

    def emit(self) -> None:
        if not self._arrived and not self._dropped and not self._done:
            return  # (a start always follows an arrival in the same flush or an earlier one)
        arrived, dropped = _ints(self._arrived), _ints(self._dropped)
        started, waited = _ints(self._started), _ints(self._waited)
        done, served = _ints(self._done), _ints(self._served)
        depth_s, flight_s, wait_s, service_s, arrivals_s, completed_s, dropped_s = self.topics
        every = np.sort(np.concatenate((arrived, dropped)), kind="stable") if (
            dropped.size) else arrived
        for series, t, values in (
            (arrivals_s, every, None), (dropped_s, dropped, None), (wait_s, started, waited),
            (service_s, done, served), (completed_s, done, None),
        ):
            if t.size:
                series.emit_many(t / _NS, np.ones(t.size) if values is None else values / _NS,
                                 subscribers=False)
        entity = self.entity
        for series, ups, downs, last, actual in (
            (depth_s, arrived, started, self._last_depth, len(entity._queue)),
            (flight_s, started, done, self._last_in_flight, entity.in_flight),
        ):
            t, v = _level(ups, downs, last)
            if t.size:
                series.emit_many(t / _NS, v.astype(np.float64), subscribers=False)
                last = int(v[-1])
            if last != actual:  # changed behind the instrumentation's back (a user's pop)
                series.emit_many(np.array([entity._sim._now_ns / _NS]),
                                 np.array([float(actual)]), subscribers=False)
        self._last_depth = len(entity._queue)
        self._last_in_flight = entity.in_flight

    # -- live delivery to Rx subscribers -------------------------------------------------
    def start_live(self) -> None:
        self._live_depth = len(self.entity._queue)
        self._live_in_flight = self.entity.in_flight

    def publish(self, kind: int, now: int, obj: Any) -> None:
        depth_s, flight_s, wait_s, service_s, arrivals_s, completed_s, dropped_s = self.topics
        t = now / _NS
        if kind == ARRIVED:
            if arrivals_s.has_subscribers:
                arrivals_s.publish(t, 1)
        elif kind == STARTED:
            if wait_s.has_subscribers:
                wait_s.publish(t, (now - obj.arr_ns) / _NS)
        elif kind == DONE:
            if service_s.has_subscribers:
                service_s.publish(t, (now - obj.start_ns) / _NS)
            if completed_s.has_subscribers:
                completed_s.publish(t, 1)
        elif kind == DROP:
            if arrivals_s.has_subscribers:
                arrivals_s.publish(t, 1)
            if dropped_s.has_subscribers:
                dropped_s.publish(t, 1)
        entity = self.entity
        depth = len(entity._queue)
        if depth != self._live_depth:
            self._live_depth = depth
            if depth_s.has_subscribers:
                depth_s.publish(t, depth)
        # a completion with requests waiting is followed, at the same instant, by the next
        # start: its momentary in_flight dip is not a change (see _gauge_points)
        in_flight = entity.in_flight
        if in_flight != self._live_in_flight and not (kind == DONE and depth > 0):
            self._live_in_flight = in_flight
            if flight_s.has_subscribers:
                flight_s.publish(t, in_flight)


class SinkInstrumentation(_Instrumentation):
    """`latency` samples and a zero-length span per request reaching a sink."""

    __slots__ = ("_received", "_latency")

    def __init__(self, recorder: Recorder, entity: Any) -> None:
        super().__init__(recorder, entity, [("latency", "sample")])
        self.received = self._list()
        self.latency = self._list()
        if self.lists:
            self._received, self._latency = self.lists

    def emit(self) -> None:
        if self._received:
            self.topics[0].emit_many(_floats(self._received), _floats(self._latency),
                                     subscribers=False)

    def publish(self, kind: int, now: int, obj: Any) -> None:
        if kind == SINK:
            self.topics[0].publish(now / _NS, (now - obj._created_ns()) / _NS)


class SourceInstrumentation(_Instrumentation):
    """`generated` counter and the zero-length root span of every request."""

    __slots__ = ("_generated",)

    def __init__(self, recorder: Recorder, entity: Any) -> None:
        super().__init__(recorder, entity, [("generated", "counter")])
        self.generated = self._list()
        if self.lists:
            self._generated = self.lists[0]

    def emit(self) -> None:
        if self._generated:
            t = _ints(self._generated) / _NS
            self.topics[0].emit_many(t, np.ones(t.size), subscribers=False)

    def publish(self, kind: int, now: int, obj: Any) -> None:
        if kind == GEN:
            self.topics[0].publish(now / _NS, 1)


class Tracer:
    """Turns hops into spans: ids, parent links, sampling.

    Hops are materialized in the order they happened (chunk after chunk), so span ids
    and parents do not depend on when the trace store is read. A hop is a source's
    ``(code, t_ns, context_or_request)`` tuple, a visit (``ServiceDone`` or `Visit`,
    whose end is its time), or a request dropped by a queued resource or received by a
    sink (told apart by the request's target)."""

    def __init__(self, recorder: Recorder, sample_rate: float) -> None:
        self._recorder = recorder
        self._bus = recorder.bus
        self._next_span = 1
        self._rate = sample_rate
        self._threshold = int(sample_rate * 2**32)
        self._names: list[str] = []  # by instrumentation code
        self._targets: dict[int, tuple[int, str]] = {}  # id(target) -> (kind, entity name)
        self._topics: list[Any] = []
        self.live = False

    def register(self, instr: _Instrumentation) -> None:
        entity = instr.entity
        name = entity.name
        self._names.append(name)
        if isinstance(instr, SinkInstrumentation):
            self._targets[id(entity)] = (SINK, name)
        elif isinstance(instr, QueueInstrumentation):
            self._targets[id(entity)] = (DROP, name)
            port = getattr(entity, "done_port", None)
            if port is not None:
                self._targets[id(port)] = (DONE, name)
        topic = self._bus.topic(_SPAN, name, "span")
        topic.watch(self._on_listeners)
        self._topics.append(topic)
        self._on_listeners(topic)

    def _on_listeners(self, topic: Any) -> None:
        live = any(t.has_subscribers for t in self._topics)
        if live != self.live:
            if live:
                self._recorder.flush()  # earlier spans first, in order
            self.live = live
            self._recorder.refresh_live()

    def sampled(self, trace_id: int) -> bool:
        """Deterministic per request, so a trace is either complete or absent."""
        if self._rate >= 1.0:
            return True
        return (trace_id * _GOLDEN) & 0xFFFFFFFF < self._threshold

    def materialize(self, hops: list[Any]) -> list[tuple]:
        """Span rows (Span's fields in order) for hops, in hop order."""
        rows = []
        names = self._names
        targets = self._targets
        sid = self._next_span
        sampling = self._rate < 1.0
        for hop in hops:
            cls = hop.__class__
            attrs = None
            if cls is tuple:  # a source's request
                code, end_ns, obj = hop
                name = names[code]
                start_ns = end_ns
            elif cls is Visit:
                obj, name = hop, hop.owner.name
                start_ns, end_ns = hop.arr_ns, hop.end_ns
            else:
                obj, end_ns = hop, hop._time_ns
                kind, name = targets[id(hop.target)]
                if kind == DONE:
                    start_ns = hop.arr_ns
                else:
                    start_ns = end_ns
                    attrs = {"status": "dropped"} if kind == DROP else {
                        "latency": (end_ns - hop._created_ns()) / _NS}
            c = obj if obj.__class__ is dict else obj._ctx
            if c.__class__ is not dict:
                c = (obj if c is None else c).context
            trace_id = c["id"]
            if sampling and not self.sampled(trace_id):
                continue
            parent = c.get(_SPAN_KEY)
            c[_SPAN_KEY] = sid
            rows.append((trace_id, sid, parent, name, start_ns / _NS, end_ns / _NS, attrs))
            sid += 1
        self._next_span = sid
        return rows

    def hand_over(self, hops: list[Any]) -> None:
        """Give the trace store the hops, materialized when it is read."""
        if not self._bus.store_lazy(_SPAN, hops, self.materialize):
            self._emit(self.materialize(hops))

    def publish(self, hops: list[Any]) -> None:
        """Materialize now: into the stores and to the Rx subscribers of span topics."""
        self._bus.settle(_SPAN)  # spans handed over earlier get their ids first
        rows = self.materialize(hops)
        if not self._bus.store_rows(_SPAN, rows):
            self._emit(rows)
            return
        topics = {t.source: t for t in self._topics}
        for row in rows:
            topics[row[3]].publish(row[5], Span(*row))

    def _emit(self, rows: list[tuple]) -> None:
        topics = {t.source: t for t in self._topics}
        for row in rows:
            topics[row[3]].emit(row[5], Span(*row))


def instrumentation_for(runtime: ObservabilityRuntime, entity: Any) -> _Instrumentation | None:
    """The standard instrumentation for `entity`, or None if it is not a standard component."""
    from happysimulator.components.common import Sink
    from happysimulator.components.queued_resource import QueuedResource
    from happysimulator.load.source import Source

    recorder = runtime.recorder
    if isinstance(entity, QueuedResource):
        return QueueInstrumentation(recorder, entity)
    if isinstance(entity, Sink):
        return SinkInstrumentation(recorder, entity)
    if isinstance(entity, Source):
        return SourceInstrumentation(recorder, entity)
    return None
