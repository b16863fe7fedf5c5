"""Observability for `happysimulator`: the whole public API in one namespace.

    from happysimulator.observability import ObservabilityConfig, Breakpoint, MetricCondition
    sim = Simulation(..., observability=ObservabilityConfig.full())
    sim.control.add_breakpoint(Breakpoint(
        metric_condition=MetricCondition("Server", "queue_depth", "gt", 50)))
    sim.run(); sim.query.metrics("queue_depth").aggregate("mean").execute()
"""

from happysim_rx import (
    EventStore,
    MetricStore,
    Observation,
    ObservationBus,
    ObservationKind,
    Query,
    QueryEngine,
    QueryError,
    QueryResult,
    SimulatedTimeScheduler,
    Span,
    StreamingMetricStore,
    TraceStore,
)
from happysimulator.observability.anomaly import AnomalyDetector, AnomalyReport
from happysimulator.observability.breakpoints import Breakpoint, MetricCondition
from happysimulator.observability.config import ObservabilityConfig
from happysimulator.observability.control import SimulationControl, SimulationState
from happysimulator.observability.export import Exporter
from happysimulator.observability.instrumented import (
    InstrumentedEntity,
    instrument_queued_resource,
)
from happysimulator.observability.integration import ObservabilityRuntime
from happysimulator.observability.json_api import JsonSession
from happysimulator.observability.observer import SimulationObserver
from happysimulator.observability.web import DebugServer, serve  # starting needs 'web'

__all__ = [
    "AnomalyDetector",
    "AnomalyReport",
    "Breakpoint",
    "DebugServer",
    "EventStore",
    "Exporter",
    "InstrumentedEntity",
    "JsonSession",
    "MetricCondition",
    "MetricStore",
    "ObservabilityConfig",
    "ObservabilityRuntime",
    "Observation",
    "ObservationBus",
    "ObservationKind",
    "Query",
    "QueryEngine",
    "QueryError",
    "QueryResult",
    "SimulatedTimeScheduler",
    "SimulationControl",
    "SimulationObserver",
    "SimulationState",
    "Span",
    "StreamingMetricStore",
    "TraceStore",
    "instrument_queued_resource",
    "serve",
]
