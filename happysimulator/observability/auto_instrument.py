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

Why batching: the hooks run several times per request on the simulation's hot path. A
hook appends one small tuple to a list (~40 ns) and the stores get the series derived
from the records in bulk (numpy) when someone reads a store: before a query, when a
subscriber arrives, when the run completes, or when the log is full. Rx subscribers of a
series get each observation as it happens (`Topic.publish`); the stores keep being fed
in bulk, so a subscriber (a breakpoint, a detector) costs only its own series' delivery.
"""

from __future__ import annotations

import itertools
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np

from happysim_rx import ObservationKind, Span
from happysimulator.core.component_instrumentation import ComponentInstrumentation

if TYPE_CHECKING:
    from happysimulator.observability.integration import ObservabilityRuntime

_SPAN_KEY = "_span"  # context key holding the id of the request's latest span
_GOLDEN = 2654435761  # Knuth's multiplicative hash: spreads consecutive request ids
_FLUSH_RECORDS = 8192  # a log holding this many records is flushed (bounded memory)
_SPAN = ObservationKind.SPAN

# queue records: (code, time, sample, depth, in_flight); `len(entity._queue)` is the
# waiting count without the `depth` property's call (these hooks are the hot path)
_ARRIVED, _DROPPED, _STARTED, _COMPLETED = 0.0, 1.0, 2.0, 3.0
_QW = 5
# span notes: plain, dropped, reached a sink (with its latency)
_PLAIN, _DROPPED_SPAN, _AT_SINK = 0.0, 1.0, 2.0


def _attributes(note: float, x: float) -> dict[str, Any] | None:
    if note == _PLAIN:
        return None
    return {"status": "dropped"} if note == _DROPPED_SPAN else {"latency": x}


def _matrix(rows: list[tuple], width: int) -> np.ndarray:
    """Rows of floats as an (n, width) array (fromiter: ~3x faster than np.array(rows))."""
    flat = np.fromiter(chain.from_iterable(rows), dtype=np.float64, count=len(rows) * width)
    return flat.reshape(-1, width)


def _gauge_points(t: np.ndarray, values: np.ndarray, last: float) -> tuple[np.ndarray, np.ndarray]:
    """The gauge's changes: the value in effect after *all* records at an instant (a
    server handing over to the next request goes in_flight 1 -> 0 -> 1 within one instant:
    that 0 never held for any time and is not a change), kept where it differs from the
    value before."""
    settled = np.empty(t.size, dtype=bool)
    settled[:-1] = t[1:] != t[:-1]
    settled[-1] = True
    tt, vv = t[settled], values[settled]
    mask = _changes(vv, last)
    return tt[mask], vv[mask]


def _changes(values: np.ndarray, last: float) -> np.ndarray:
    """Mask of the values that differ from the one before (the first vs `last`)."""
    prev = np.empty_like(values)
    prev[0] = last
    prev[1:] = values[:-1]
    return values != prev


class Tracer:
    """Creates spans, links each to the previous hop of the same request, and batches
    them like the metric hooks do."""

    def __init__(self, runtime: ObservabilityRuntime, sample_rate: float) -> None:
        self._counter = itertools.count(1)
        self._rate = sample_rate
        self._threshold = int(sample_rate * 2**32)
        self._bus = runtime.bus
        self._names: list[str] = []
        self._topics: list[Any] = []
        self._log: list[tuple] = []
        self.eager = False
        runtime.bus.add_flusher(self.flush)

    def entity(self, name: str) -> int:
        """Register an entity that emits spans; returns its index for `record`."""
        topic = self._bus.topic(_SPAN, name, "span")
        topic.watch(self._on_listeners)
        self._names.append(name)
        self._topics.append(topic)
        self._on_listeners(topic)
        return len(self._names) - 1

    def _on_listeners(self, topic: Any) -> None:
        eager = any(t.has_subscribers for t in self._topics)
        if eager and not self.eager:
            self.flush()
        self.eager = eager

    def sampled(self, trace_id: int) -> bool:
        """Deterministic per request, so a trace is either complete or absent."""
        if self._rate >= 1.0:
            return True
        return (trace_id * _GOLDEN) & 0xFFFFFFFF < self._threshold

    def record(self, event: Any, entity: int, start: float, end: float,
               note: float = _PLAIN, x: float = 0.0) -> None:
        ctx = event._ctx
        if ctx.__class__ is not dict:
            ctx = event.context
        trace_id = ctx["id"]
        if self._rate < 1.0 and not self.sampled(trace_id):
            return
        span_id = next(self._counter)
        parent = ctx.get(_SPAN_KEY)
        ctx[_SPAN_KEY] = span_id
        attrs = None if note == _PLAIN else _attributes(note, x)
        if self.eager:
            self._topics[entity].emit(end, Span(trace_id, span_id, parent, self._names[entity],
                                                start, end, attrs))
            return
        log = self._log
        log.append((trace_id, span_id, parent, self._names[entity], start, end, attrs))
        if len(log) > _FLUSH_RECORDS:
            self.flush()

    def flush(self) -> None:
        log = self._log
        if not log:
            return
        self._log = []
        if self._bus.store_rows(_SPAN, log):
            return
        topics = {t.source: t for t in self._topics}
        for row in log:
            topics[row[3]].emit(row[5], Span(*row))


class _Batching(ComponentInstrumentation):
    """Records always go to the log (the stores get them in bulk); while Rx subscribers
    listen to some of a component's series, those series are also published live."""

    __slots__ = ("_topics", "_live", "_log")

    def _setup(self, runtime: ObservabilityRuntime, topics: list[Any]) -> None:
        self._topics = [t for t in topics if t is not None]
        self._log: list = []
        self._live = False
        for t in self._topics:
            t.watch(self._on_listeners)
        self._on_listeners(None)
        runtime.bus.add_flusher(self.flush)

    def _on_listeners(self, topic: Any) -> None:
        live = any(t.has_subscribers for t in self._topics)
        if live:
            self._start_live()
        self._live = live

    def _start_live(self) -> None:
        """Listeners changed: live gauges restart from the last value the stores hold,
        and only series with listeners are published."""

    def flush(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class QueueInstrumentation(_Batching):
    """Gauges, samples, counters and spans for a `QueuedResource` or `Server`."""

    __slots__ = (
        "_depth", "_in_flight", "_wait", "_service", "_arrivals", "_completed",
        "_dropped", "_tracer", "_open", "_last_depth", "_last_in_flight", "_span_entity",
        "_metrics", "_live_depth", "_live_in_flight", "_pub",
    )

    def __init__(self, runtime: ObservabilityRuntime, entity: Any) -> None:
        name = entity.name
        metric = runtime.bus.metric
        on = self._metrics = runtime.config.metrics
        self._depth = metric(name, "queue_depth", "gauge") if on else None
        self._in_flight = metric(name, "in_flight", "gauge") if on else None
        self._wait = metric(name, "wait_time", "sample") if on else None
        self._service = metric(name, "service_time", "sample") if on else None
        self._arrivals = metric(name, "arrivals", "counter") if on else None
        self._completed = metric(name, "completed", "counter") if on else None
        self._dropped = metric(name, "dropped", "counter") if on else None
        self._tracer = runtime.tracer
        self._span_entity = self._tracer.entity(name) if self._tracer is not None else 0
        self._open: dict[int, float] = {}
        self._last_depth = self._live_depth = entity.depth
        self._last_in_flight = self._live_in_flight = entity.in_flight
        self._pub = (False,) * 7
        self._setup(runtime, [self._depth, self._in_flight, self._wait, self._service,
                              self._arrivals, self._completed, self._dropped])
        if on:
            now = runtime.sim.clock.now()
            self._depth.emit(now, self._last_depth)
            self._in_flight.emit(now, self._last_in_flight)

    # -- hooks (hot path) ---------------------------------------------------------------
    def arrived(self, entity: Any, event: Any, now_s: float) -> None:
        if self._metrics:
            rec = (_ARRIVED, now_s, 0.0, len(entity._queue), entity.in_flight)
            self._log.append(rec)
            if self._live:
                self._publish(rec)
        if self._tracer is not None:
            self._open[id(event)] = now_s

    def dropped(self, entity: Any, event: Any, now_s: float) -> None:
        if self._metrics:
            rec = (_DROPPED, now_s, 0.0, len(entity._queue), entity.in_flight)
            self._log.append(rec)
            if self._live:
                self._publish(rec)
        if self._tracer is not None:
            start = self._open.pop(id(event), now_s)
            self._tracer.record(event, self._span_entity, start, now_s, _DROPPED_SPAN)

    def started(self, entity: Any, event: Any, now_s: float, wait_s: float) -> None:
        if self._metrics:
            rec = (_STARTED, now_s, wait_s, len(entity._queue), entity.in_flight)
            self._log.append(rec)
            if self._live:
                self._publish(rec)

    def completed(self, entity: Any, event: Any, now_s: float, service_s: float) -> None:
        if self._metrics:
            rec = (_COMPLETED, now_s, service_s, len(entity._queue), entity.in_flight)
            log = self._log
            log.append(rec)
            if self._live:
                self._publish(rec)
            if len(log) > _FLUSH_RECORDS:
                self.flush()
        if self._tracer is not None:
            start = self._open.pop(id(event), None)
            if start is None:  # arrived before instrumentation was attached
                start = now_s - service_s
            self._tracer.record(event, self._span_entity, start, now_s)

    # -- live delivery to Rx subscribers (the stores get the same data from flush) ------
    def _start_live(self) -> None:
        self._live_depth = self._last_depth
        self._live_in_flight = self._last_in_flight
        for rec in self._log:  # records not yet flushed moved the gauges already
            self._live_depth, self._live_in_flight = rec[3], rec[4]
        self._pub = tuple(t is not None and t.has_subscribers for t in (
            self._arrivals, self._wait, self._service, self._completed, self._dropped,
            self._depth, self._in_flight))

    def _publish(self, rec: tuple) -> None:
        code, t, sample, depth, in_flight = rec
        p_arr, p_wait, p_svc, p_done, p_drop, p_depth, p_flight = self._pub
        if code == _ARRIVED:
            if p_arr:
                self._arrivals.publish(t, 1)
        elif code == _STARTED:
            if p_wait:
                self._wait.publish(t, sample)
        elif code == _COMPLETED:
            if p_svc:
                self._service.publish(t, sample)
            if p_done:
                self._completed.publish(t, 1)
        elif p_drop:
            self._dropped.publish(t, 1)
        if p_depth and depth != self._live_depth:
            self._live_depth = depth
            self._depth.publish(t, depth)
        # a completion with requests waiting is followed, at the same instant, by the next
        # start: its momentary in_flight dip is not a change (see _gauge_points)
        if p_flight and in_flight != self._live_in_flight and not (
                code == _COMPLETED and depth > 0):
            self._live_in_flight = in_flight
            self._in_flight.publish(t, in_flight)

    def flush(self) -> None:
        log = self._log
        if not log:
            return
        self._log = []
        rec = _matrix(log, _QW)
        code, t = rec[:, 0], rec[:, 1]
        for c, counter in ((_ARRIVED, self._arrivals), (_COMPLETED, self._completed),
                           (_DROPPED, self._dropped)):
            mask = code == c
            if mask.any():
                counter.emit_many(t[mask], np.ones(int(mask.sum())), subscribers=False)
        for c, series in ((_STARTED, self._wait), (_COMPLETED, self._service)):
            mask = code == c
            if mask.any():
                series.emit_many(t[mask], rec[mask, 2], subscribers=False)
        depth, in_flight = rec[:, 3], rec[:, 4]
        for series, values, last in ((self._depth, depth, self._last_depth),
                                     (self._in_flight, in_flight, self._last_in_flight)):
            tt, vv = _gauge_points(t, values, last)
            if tt.size:
                series.emit_many(tt, vv, subscribers=False)
        self._last_depth = int(depth[-1])
        self._last_in_flight = int(in_flight[-1])


class SinkInstrumentation(_Batching):
    """`latency` samples and a zero-length span per request reaching a sink."""

    __slots__ = ("_latency", "_tracer", "_span_entity", "_metrics")

    def __init__(self, runtime: ObservabilityRuntime, entity: Any) -> None:
        on = self._metrics = runtime.config.metrics
        self._latency = runtime.bus.metric(entity.name, "latency", "sample") if on else None
        self._tracer = runtime.tracer
        self._span_entity = self._tracer.entity(entity.name) if self._tracer is not None else 0
        self._setup(runtime, [self._latency])

    def received(self, entity: Any, event: Any, now_s: float, latency_s: float) -> None:
        if self._metrics:
            log = self._log
            log.append((now_s, latency_s))
            if self._live:
                self._latency.publish(now_s, latency_s)
            if len(log) > _FLUSH_RECORDS:
                self.flush()
        if self._tracer is not None:
            self._tracer.record(event, self._span_entity, now_s, now_s, _AT_SINK, latency_s)

    def flush(self) -> None:
        log = self._log
        if log:
            self._log = []
            rec = _matrix(log, 2)
            self._latency.emit_many(rec[:, 0], rec[:, 1], subscribers=False)


class SourceInstrumentation(_Batching):
    """`generated` counter and the zero-length root span of every request."""

    __slots__ = ("_generated", "_tracer", "_span_entity", "_metrics")

    def __init__(self, runtime: ObservabilityRuntime, entity: Any) -> None:
        on = self._metrics = runtime.config.metrics
        self._generated = runtime.bus.metric(entity.name, "generated", "counter") if on else None
        self._tracer = runtime.tracer
        self._span_entity = self._tracer.entity(entity.name) if self._tracer is not None else 0
        self._setup(runtime, [self._generated])

    def generated(self, entity: Any, event: Any, now_s: float) -> None:
        if self._metrics:
            log = self._log
            log.append(now_s)
            if self._live:
                self._generated.publish(now_s, 1)
            if len(log) > _FLUSH_RECORDS:
                self.flush()
        if self._tracer is not None and event is not None:
            self._tracer.record(event, self._span_entity, now_s, now_s)

    def flush(self) -> None:
        log = self._log
        if log:
            self._log = []
            t = np.array(log, dtype=np.float64)
            self._generated.emit_many(t, np.ones(t.size), subscribers=False)


def instrumentation_for(runtime: ObservabilityRuntime, entity: Any) -> ComponentInstrumentation | None:
    """The standard instrumentation for `entity`, or None if it is not a standard component."""
    from happysimulator.components.common import Sink
    from happysimulator.components.queued_resource import QueuedResource
    from happysimulator.load.source import Source

    if isinstance(entity, QueuedResource):
        return QueueInstrumentation(runtime, entity)
    if isinstance(entity, Sink):
        return SinkInstrumentation(runtime, entity)
    if isinstance(entity, Source):
        return SourceInstrumentation(runtime, entity)
    return None
