"""Materialized views over the observation bus (they serve queries)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from operators._lazy import lazy_exports

# Resolved on first use (PEP 562): a default simulation imports the exact stores only,
# never the streaming store and its sketches.
_EXPORTS = {
    "EventStore": "events",
    "MetricSeries": "metric",
    "MetricStore": "metric",
    "RangeAnswer": "metric",
    "StreamingMetricStore": "streaming",
    "StreamingSeries": "streaming",
    "TraceStore": "trace",
}

if TYPE_CHECKING:
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


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
