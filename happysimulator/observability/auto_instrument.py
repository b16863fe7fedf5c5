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
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from happysim_rx import ObservationKind, Span
from happysimulator.core.component_instrumentation import ComponentInstrumentation

if TYPE_CHECKING:
    from happysimulator.observability.integration import ObservabilityRuntime

_SPAN_KEY = "_span"  # context key holding the id of the request's latest span
_GOLDEN = 2654435761  # Knuth's multiplicative hash: spreads consecutive request ids


class Tracer:
    """Creates spans and links each to the previous hop of the same request."""

    __slots__ = ("_ids", "_rate", "_threshold")

    def __init__(self, sample_rate: float) -> None:
        self._ids = 0
        self._rate = sample_rate
        self._threshold = int(sample_rate * 2**32)

    def sampled(self, trace_id: int) -> bool:
        """Deterministic per request, so a trace is either complete or absent."""
        if self._rate >= 1.0:
            return True
        return (trace_id * _GOLDEN) & 0xFFFFFFFF < self._threshold

    def span(
        self, event: Any, entity: str, start: float, end: float, attributes: dict | None = None
    ) -> Span | None:
        ctx = event.context
        trace_id = ctx["id"]
        if not self.sampled(trace_id):
            return None
        self._ids += 1
        span_id = self._ids
        parent = ctx.get(_SPAN_KEY)
        ctx[_SPAN_KEY] = span_id
        return Span(trace_id, span_id, parent, entity, start, end, attributes)


class QueueInstrumentation(ComponentInstrumentation):
    """Gauges, samples, counters and spans for a `QueuedResource` or `Server`."""

    __slots__ = (
        "_depth", "_in_flight", "_wait", "_service", "_arrivals", "_completed",
        "_dropped", "_spans", "_tracer", "_open", "_last_depth", "_last_in_flight", "_name",
    )

    def __init__(self, runtime: ObservabilityRuntime, entity: Any) -> None:
        name = self._name = entity.name
        metric = runtime.bus.metric
        on = runtime.config.metrics
        self._depth = metric(name, "queue_depth", "gauge") if on else None
        self._in_flight = metric(name, "in_flight", "gauge") if on else None
        self._wait = metric(name, "wait_time", "sample") if on else None
        self._service = metric(name, "service_time", "sample") if on else None
        self._arrivals = metric(name, "arrivals", "counter") if on else None
        self._completed = metric(name, "completed", "counter") if on else None
        self._dropped = metric(name, "dropped", "counter") if on else None
        self._tracer = runtime.tracer
        self._spans = runtime.bus.topic(ObservationKind.SPAN, name, "span") if runtime.tracer else None
        self._open: dict[int, float] = {}
        self._last_depth = entity.depth
        self._last_in_flight = entity.in_flight
        if on:
            now = runtime.sim.clock.now()
            self._depth.emit(now, self._last_depth)
            self._in_flight.emit(now, self._last_in_flight)

    def arrived(self, entity: Any, event: Any, now_s: float) -> None:
        if self._depth is not None:
            self._arrivals.emit(now_s, 1)
            d = entity.depth
            if d != self._last_depth:
                self._last_depth = d
                self._depth.emit(now_s, d)
        if self._tracer is not None:
            self._open[id(event)] = now_s

    def dropped(self, entity: Any, event: Any, now_s: float) -> None:
        if self._depth is not None:
            self._dropped.emit(now_s, 1)
        if self._tracer is not None:
            start = self._open.pop(id(event), now_s)
            span = self._tracer.span(event, self._name, start, now_s, {"status": "dropped"})
            if span is not None:
                self._spans.emit(now_s, span)

    def started(self, entity: Any, event: Any, now_s: float, wait_s: float) -> None:
        if self._depth is not None:
            self._wait.emit(now_s, wait_s)
            d = entity.depth
            if d != self._last_depth:
                self._last_depth = d
                self._depth.emit(now_s, d)
            f = entity.in_flight
            if f != self._last_in_flight:
                self._last_in_flight = f
                self._in_flight.emit(now_s, f)

    def completed(self, entity: Any, event: Any, now_s: float, service_s: float) -> None:
        if self._depth is not None:
            self._service.emit(now_s, service_s)
            self._completed.emit(now_s, 1)
            f = entity.in_flight
            if f != self._last_in_flight:
                self._last_in_flight = f
                self._in_flight.emit(now_s, f)
        if self._tracer is not None:
            start = self._open.pop(id(event), None)
            if start is None:  # arrived before instrumentation was attached
                start = now_s - service_s
            span = self._tracer.span(event, self._name, start, now_s)
            if span is not None:
                self._spans.emit(now_s, span)


class SinkInstrumentation(ComponentInstrumentation):
    """`latency` samples and a zero-length span per request reaching a sink."""

    __slots__ = ("_latency", "_spans", "_tracer", "_name")

    def __init__(self, runtime: ObservabilityRuntime, entity: Any) -> None:
        self._name = entity.name
        on = runtime.config.metrics
        self._latency = runtime.bus.metric(entity.name, "latency", "sample") if on else None
        self._tracer = runtime.tracer
        self._spans = runtime.bus.topic(ObservationKind.SPAN, entity.name, "span") if runtime.tracer else None

    def received(self, entity: Any, event: Any, now_s: float, latency_s: float) -> None:
        if self._latency is not None:
            self._latency.emit(now_s, latency_s)
        if self._tracer is not None:
            span = self._tracer.span(event, self._name, now_s, now_s, {"latency": latency_s})
            if span is not None:
                self._spans.emit(now_s, span)


class SourceInstrumentation(ComponentInstrumentation):
    """`generated` counter and the zero-length root span of every request."""

    __slots__ = ("_generated", "_spans", "_tracer", "_name")

    def __init__(self, runtime: ObservabilityRuntime, entity: Any) -> None:
        self._name = entity.name
        on = runtime.config.metrics
        self._generated = runtime.bus.metric(entity.name, "generated", "counter") if on else None
        self._tracer = runtime.tracer
        self._spans = runtime.bus.topic(ObservationKind.SPAN, entity.name, "span") if runtime.tracer else None

    def generated(self, entity: Any, event: Any, now_s: float) -> None:
        if self._generated is not None:
            self._generated.emit(now_s, 1)
        if self._tracer is not None and event is not None:
            span = self._tracer.span(event, self._name, now_s, now_s)
            if span is not None:
                self._spans.emit(now_s, span)


def instrumentation_for(runtime: ObservabilityRuntime, entity: Any) -> ComponentInstrumentation | None:
    """The standard instrumentation for `entity`, or None if it is not a standard component."""
    from happysimulator.components.common import Sink
    from happysimulator.components.queued_resource import QueuedResource
    from happysimulator.load.source import Source

    if isinstance(entity, QueuedResource):
        return QueueInstrumentation(runtime, entity)
    if isinstance(entity, Sink) or hasattr(entity, "_latency_instrumented"):
        return SinkInstrumentation(runtime, entity)
    if isinstance(entity, Source):
        return SourceInstrumentation(runtime, entity)
    return None
