"""``PooledClient``: a `Client` whose attempts each hold a connection from a
`ConnectionPool` (acquired before sending, released on the answer or the timeout).

An attempt that cannot get a connection within the pool's ``connection_timeout`` fails
the request with reason ``"connection_timeout"`` (not retried). Observed like `Client`,
plus ``connection_wait_timeouts``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from happysimulator.components.client.client import RetryingClient, _Attempt
from happysimulator.components.client.connection_pool import ConnectionPool
from happysimulator.components.client.retry import RetryPolicy
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import counter


@dataclass(frozen=True)
class PooledClientStats:
    """Snapshot of a pooled client's counts."""

    requests_sent: int = 0
    responses_received: int = 0
    timeouts: int = 0
    retries: int = 0
    failures: int = 0
    connection_wait_timeouts: int = 0


class PooledClient(RetryingClient):
    """Sends each attempt to ``connection_pool.target`` over a pooled connection."""

    observed_series = (
        counter("connection_wait_timeouts", "requests",
                "attempts that found no connection within the pool's timeout"),
    )
    downstream_attributes = ("connection_pool",)
    _timeout_type = "_pooled_client_timeout"

    def __init__(self, name: str, connection_pool: ConnectionPool,
                 timeout: float | None = None, retry_policy: RetryPolicy | None = None,
                 on_success: Callable[[Event, Event], None] | None = None,
                 on_failure: Callable[[Event, str], None] | None = None) -> None:
        super().__init__(name, timeout, retry_policy, on_success, on_failure)
        self._pool = connection_pool
        self._connection_wait_timeouts = 0

    @property
    def connection_pool(self) -> ConnectionPool:
        return self._pool

    @property
    def stats(self) -> PooledClientStats:
        return PooledClientStats(self._requests_sent, self._responses_received,
                                 self._timeouts, self._retries, self._failures,
                                 self._connection_wait_timeouts)

    def downstream_entities(self) -> list[Entity]:
        return [self._pool]

    def set_clock(self, sim: Any) -> None:
        super().set_clock(sim)
        self._pool.set_clock(sim)

    def _begin(self, a: _Attempt) -> Generator[Any, Any, list[Event] | None]:
        try:
            conn = yield from self._pool.acquire()
        except TimeoutError:
            self._connection_wait_timeouts += 1
            self.increment("connection_wait_timeouts")
            self._fail(a, "connection_timeout")
            return None
        a.extra = conn
        return self._dispatch(a, self._pool.target, {"connection_id": conn.id})

    def _released(self, a: _Attempt) -> list[Event] | None:
        conn, a.extra = a.extra, None
        if conn is None:
            return None
        return self._pool.release(conn) or None


__all__ = ["PooledClient", "PooledClientStats"]
