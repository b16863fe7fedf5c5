"""Auto-instrumentation of the standard components (series names are a public contract).

| entity                  | series                                   | kind    |
|-------------------------|------------------------------------------|---------|
| Server / QueuedResource | queue_depth, in_flight                   | gauge   |
| Server / QueuedResource | wait_time, service_time                  | sample  |
| Server / QueuedResource | arrivals, completed, dropped             | counter |
| Sink / LatencyTracker   | latency (from created_at)                | sample  |
| Source                  | generated                                | counter |
| Server / QueuedResource | utilization (in_flight / concurrency)    | gauge   |

Traces: one span per standard component a request visits (an entity of your own
records its spans with ``ObservedEntity.record_span``; a station's span carries
``wait`` and ``service``, seconds: queueing from arrival to start, then service to
the end); ``trace_id`` is the request's context id
and ``parent_id`` the request's previous span (spans are linked by request id, in causal
order, never guessed from timestamps), or, for a station the request reached inside a
component's open span (a balancer's, a client's attempt), that span, read from the
request's context on arrival (`hop_parents`). The source's span is the zero-length root;
a sink's span is zero-length at arrival.

The facts and their flush: `happysimulator.observability.fact_recorder`; a queued
resource's series: `happysimulator.observability.queue_instrument`.
"""

from __future__ import annotations

from math import inf
from typing import TYPE_CHECKING, Any

import numpy as np

from happysimulator.core.component_instrumentation import GEN
from happysimulator.observability.fact_recorder import (
    _EMPTY,
    _NEVER,
    _NS,
    Recorder,
    _band,
    _counter,
    _floats,
    _frozen,
    _Instrumentation,
    _ints,
    _ones,
    _samples,
)
from happysimulator.observability.odd_ids import trace_id_array
from happysimulator.observability.queue_instrument import (
    QueueInstrumentation,
    WatchedPolicy,
    _derivable_concurrency,
    _gauge_points,
    _level,
)
from happysimulator.observability.spans import LEAF, ROOT, EntitySpans
from operators.simtime import seconds_array as _sec

if TYPE_CHECKING:
    from happysimulator.observability.integration import ObservabilityRuntime

# (every name this module had before it was split: importers of the old layout)
__all__ = [
    "QueueInstrumentation", "Recorder", "SinkInstrumentation", "SourceInstrumentation",
    "WatchedPolicy", "claim_name", "instrumentation_for", "_EMPTY", "_NEVER", "_NS",
    "_Instrumentation", "_band", "_counter", "_derivable_concurrency", "_floats",
    "_gauge_points", "_ints", "_level", "_samples",
]


class SinkInstrumentation(_Instrumentation):
    """`latency` samples and a zero-length span per request reaching a sink."""

    __slots__ = ("_received", "_latency", "_ids", "_points")
    #: the attribute keys of its spans (a span query may filter on them from the start)
    span_attributes = ("latency",)

    def __init__(self, recorder: Recorder, entity: Any) -> None:
        super().__init__(recorder, entity, [("latency", "sample")])
        self._received = self._fact("received")
        self._latency = self._fact("latency")
        self._ids = self._fact("traced_ids", recorder.tracer is not None, span=True)

    def flush(self, spans: list[EntitySpans]) -> None:
        if not self._received:
            return
        t, latency = _frozen(_floats(self._received)), _frozen(_floats(self._latency))
        if self._ids:
            spans.append(EntitySpans(self.entity.name, LEAF, trace_id_array(self._ids), t, t,
                                      latency=latency))
        if self.topics:
            self.topics[0].emit_many(t, latency, subscribers=False)

    def wire(self, listened: tuple[bool, ...] | None) -> Any:
        if listened is None or not listened[0]:
            self.latency_band = None
            return None
        # samples are published through a band: with only threshold listeners, a sample
        # on the same side of every threshold as the last published one is skipped
        topic = self.topics[0]
        self._points = topic.crossing_points
        # (someone needs every sample: the band stays empty, each goes to `publish`)
        self.latency_moved = self._latency_moved if self._points is not None else (
            topic.publish)
        self.latency_band = [inf, -inf]  # (empty: the next sample is published)
        return None

    def _latency_moved(self, now_s: float, latency_s: float) -> None:
        points = self._points
        if points is not None:
            self.latency_band = _band(points, latency_s)
        self.topics[0].publish(now_s, latency_s)


class SourceInstrumentation(_Instrumentation):
    """`generated` counter and the zero-length root span of every request."""

    __slots__ = ("_generated", "_ids")

    def __init__(self, recorder: Recorder, entity: Any) -> None:
        super().__init__(recorder, entity, [("generated", "counter")])
        self._generated = self._fact("generated")
        self._ids = self._fact("traced_ids", recorder.tracer is not None, span=True)
        if recorder.tracer is not None:
            # (the source keeps each request's id in `Event._id`, see `Source`)
            recorder.runtime.sim._ids_in_events = True

    def flush(self, spans: list[EntitySpans]) -> None:
        if not self._generated:
            return
        t = _ints(self._generated)
        t_s = _frozen(_sec(t))
        if self._ids:
            ids = trace_id_array(self._ids)
            if ids.dtype != object and int(ids.min()) >= 0:
                ts = t_s
            else:
                # (-1: the source's provider made no request)
                keep = ids >= 0 if ids.dtype != object else np.fromiter(
                    (not (x.__class__ is int and x < 0) for x in ids), bool, ids.size)
                ids, ts = ids[keep], t_s[keep]
            spans.append(EntitySpans(self.entity.name, ROOT, ids, ts, ts))
        if self.topics:
            self.topics[0].emit_many(t_s, _ones(t.size), subscribers=False)

    def wire(self, listened: tuple[bool, ...] | None) -> Any:
        return None if listened is None else self._publish_generated

    def _publish_generated(self, kind: int, now: int, obj: Any) -> None:
        if kind == GEN:
            self.topics[0].publish(now / _NS, 1)


def claim_name(runtime: ObservabilityRuntime, entity: Any) -> None:
    """Series are keyed by entity name: two entities publishing under one name would
    merge into one series, silently. Refuse that (ValueError naming both)."""
    owners = runtime.__dict__.setdefault("_name_owners", {})
    owner = owners.setdefault(entity.name, entity)
    if owner is not entity:
        raise ValueError(
            f"two entities are named {entity.name!r} ({type(owner).__name__} and "
            f"{type(entity).__name__}): their observations would merge into one series; "
            "give each entity a unique name (e.g. Source.poisson(..., name='Source-2'))")


def instrumentation_for(runtime: ObservabilityRuntime, entity: Any) -> _Instrumentation | None:
    """The standard instrumentation for `entity`, or None if it is not a standard component."""
    from happysimulator.components.common import Sink
    from happysimulator.components.queued_resource import QueuedResource
    from happysimulator.load.source import Source

    if isinstance(entity, QueuedResource | Sink | Source):
        claim_name(runtime, entity)
    recorder = runtime.recorder
    if isinstance(entity, QueuedResource):
        return QueueInstrumentation(recorder, entity)
    if isinstance(entity, Sink):
        return SinkInstrumentation(recorder, entity)
    if isinstance(entity, Source):
        return SourceInstrumentation(recorder, entity)
    return None
