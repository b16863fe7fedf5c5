"""Materialized views over the observation bus (they serve queries)."""

from happysim_rx.stores.events import EventStore
from happysim_rx.stores.metric import MetricSeries, MetricStore, RangeAnswer
from happysim_rx.stores.streaming import StreamingMetricStore, StreamingSeries
from happysim_rx.stores.trace import TraceStore

__all__ = [
    "EventStore",
    "MetricSeries",
    "MetricStore",
    "RangeAnswer",
    "StreamingMetricStore",
    "StreamingSeries",
    "TraceStore",
]
