"""Legacy instrumentation: time series, probes, trace recorders, summaries."""

from happysimulator.instrumentation.collectors import ThroughputCollector, collect_stats
from happysimulator.instrumentation.data import BucketedData, Data
from happysimulator.instrumentation.probe import Probe
from happysimulator.instrumentation.recorder import (
    InMemoryTraceRecorder,
    NullTraceRecorder,
    TraceRecorder,
)
from happysimulator.instrumentation.summary import SimulationSummary

__all__ = [
    "BucketedData",
    "Data",
    "InMemoryTraceRecorder",
    "NullTraceRecorder",
    "Probe",
    "SimulationSummary",
    "ThroughputCollector",
    "TraceRecorder",
    "collect_stats",
]
