"""Materialized views over the observation bus (they serve queries)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        return _submodule(name)
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def _submodule(name: str) -> Any:
    """``package.submodule`` without importing it first, as when the package imported
    all its modules eagerly."""
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise  # the submodule exists but needs something missing: say what
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
