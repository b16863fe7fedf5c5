"""Observability for `happysimulator`: the whole public API in one namespace.

    from happysimulator.observability import ObservabilityConfig, Breakpoint, MetricCondition
    sim = Simulation(..., observability=ObservabilityConfig.full())
    sim.control.add_breakpoint(Breakpoint(
        metric_condition=MetricCondition("Server", "queue_depth", "gt", 50)))
    sim.run(); sim.query.metrics("queue_depth").aggregate("mean").execute()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from operators._lazy import lazy_exports

# Names resolve on first use (PEP 562): a simulation imports only the parts it runs
# (not the query engine's exporters, the JSON session, the web debugger, ...).
_EXPORTS = {
    "EventStore": "happysim_rx", "MetricStore": "happysim_rx",
    "Observation": "happysim_rx", "ObservationBus": "happysim_rx",
    "ObservationKind": "happysim_rx", "Query": "happysim_rx", "QueryEngine": "happysim_rx",
    "QueryError": "happysim_rx", "QueryResult": "happysim_rx",
    "SimulatedTimeScheduler": "happysim_rx", "Span": "happysim_rx",
    "StreamingMetricStore": "happysim_rx", "TraceStore": "happysim_rx",
    "AnomalyDetector": f"{__name__}.anomaly", "AnomalyReport": f"{__name__}.anomaly",
    "Breakpoint": f"{__name__}.breakpoints", "MetricCondition": f"{__name__}.breakpoints",
    "ObservabilityConfig": f"{__name__}.config",
    "SimulationControl": f"{__name__}.control", "SimulationState": f"{__name__}.control",
    "Exporter": f"{__name__}.export",
    "InstrumentedEntity": f"{__name__}.instrumented",
    "instrument_queued_resource": f"{__name__}.instrumented",
    "ObservabilityRuntime": f"{__name__}.integration",
    "JsonSession": f"{__name__}.json_api",
    "SimulationObserver": f"{__name__}.observer",
    "DebugServer": f"{__name__}.web", "serve": f"{__name__}.web",  # starting needs 'web'
}

if TYPE_CHECKING:
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


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS, relative=False)
