"""Servers and their concurrency models."""

from happysimulator.components.server.concurrency import (
    ConcurrencyModel,
    DynamicConcurrency,
    FixedConcurrency,
    WeightedConcurrency,
)
from happysimulator.components.server.server import (
    SERVICE_DONE,
    Server,
    ServerStats,
    ServiceDone,
)

__all__ = [
    "SERVICE_DONE",
    "ConcurrencyModel",
    "DynamicConcurrency",
    "FixedConcurrency",
    "Server",
    "ServerStats",
    "ServiceDone",
    "WeightedConcurrency",
]
