"""Clients: requests with timeouts and retries, connection pools.

``Client`` sends to a target; ``PooledClient`` sends through a ``ConnectionPool``;
retry policies: ``NoRetry``, ``FixedRetry``, ``ExponentialBackoff``,
``DecorrelatedJitter`` (any object with ``should_retry`` / ``get_delay`` will do).
"""

from happysimulator.components.client.client import Client, ClientStats
from happysimulator.components.client.connection_pool import (
    Connection,
    ConnectionPool,
    ConnectionPoolStats,
)
from happysimulator.components.client.pooled_client import PooledClient, PooledClientStats
from happysimulator.components.client.retry import (
    DecorrelatedJitter,
    ExponentialBackoff,
    FixedRetry,
    NoRetry,
    RetryPolicy,
)

__all__ = [
    "Client",
    "ClientStats",
    "Connection",
    "ConnectionPool",
    "ConnectionPoolStats",
    "DecorrelatedJitter",
    "ExponentialBackoff",
    "FixedRetry",
    "NoRetry",
    "PooledClient",
    "PooledClientStats",
    "RetryPolicy",
]
