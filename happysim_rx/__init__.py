"""happysim_rx: reactive observation runtime (independent of any DES engine).

Observation records, the ObservationBus (lean Rx subjects per topic), the
simulated-time Rx scheduler, stores (materialized views), Query / QueryEngine /
QueryResult, live views and exporters. Talks to a clock through ``SimClock``.

>>> from happysim_rx import ManualClock, ObservationBus, MetricStore, QueryEngine
>>> bus = ObservationBus(ManualClock()); store = bus.attach_store(MetricStore())
>>> depth = bus.metric("Server", "queue_depth", "gauge")
>>> depth.emit(0.0, 0); depth.emit(1.0, 10)
>>> r = QueryEngine(bus).metrics("queue_depth").between(0, 4).aggregate("mean").execute()
>>> r.scalar, r.weighting
(7.5, 'time')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from operators._lazy import lazy_exports

# Names resolve on first use (PEP 562): `import happysim_rx` and a default simulation do
# not pay for what they do not touch (reactivex, numpy, the query engine, exporters).
_EXPORTS = {
    "ObservationBus": "bus", "Topic": "bus", "TopicInfo": "bus",
    "ManualClock": "clock", "SimClock": "clock", "TimerHandle": "clock",
    "Exporter": "export",
    "SERIES_KINDS": "observation", "Observation": "observation",
    "ObservationKind": "observation", "Span": "observation",
    "Query": "query", "QueryEngine": "query", "QueryError": "query", "QueryResult": "query",
    "SimObservable": "scheduler", "SimulatedTimeScheduler": "scheduler",
    "WallClockError": "scheduler", "forbid_wall_clock": "scheduler",
    "EventStore": "stores", "MetricStore": "stores", "StreamingMetricStore": "stores",
    "TraceStore": "stores",
    "LeanSubject": "subject",
}

if TYPE_CHECKING:
    from happysim_rx.bus import ObservationBus, Topic, TopicInfo
    from happysim_rx.clock import ManualClock, SimClock, TimerHandle
    from happysim_rx.export import Exporter
    from happysim_rx.observation import SERIES_KINDS, Observation, ObservationKind, Span
    from happysim_rx.query import Query, QueryEngine, QueryError, QueryResult
    from happysim_rx.scheduler import (
        SimObservable,
        SimulatedTimeScheduler,
        WallClockError,
        forbid_wall_clock,
    )
    from happysim_rx.stores import EventStore, MetricStore, StreamingMetricStore, TraceStore
    from happysim_rx.subject import LeanSubject

__all__ = [
    "SERIES_KINDS",
    "EventStore",
    "Exporter",
    "LeanSubject",
    "ManualClock",
    "MetricStore",
    "Observation",
    "ObservationBus",
    "ObservationKind",
    "Query",
    "QueryEngine",
    "QueryError",
    "QueryResult",
    "SimClock",
    "SimObservable",
    "SimulatedTimeScheduler",
    "Span",
    "StreamingMetricStore",
    "TimerHandle",
    "Topic",
    "TopicInfo",
    "TraceStore",
    "WallClockError",
    "forbid_wall_clock",
]


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
