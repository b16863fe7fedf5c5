"""``ConnectionPool``: reusable connections to a target, created on demand up to a
maximum, closed after an idle timeout (keeping ``min_connections`` warm).

Inside a generator handler::

    conn = yield from pool.acquire()      # waits (up to connection_timeout) when exhausted
    ...                                   # use it
    return pool.release(conn)             # events: the idle-timeout check

A waiter is woken the instant a connection is released to it (no polling). Observed:
``acquisitions``, ``timeouts``, ``created``, ``closed`` counters, ``wait_time`` sample,
``active``, ``idle``, ``waiting`` gauges.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from happysimulator.core.entity import Entity, bind_simulation
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, gauge, sample
from happysimulator.core.sim_future import SimFuture
from happysimulator.core.temporal import Duration, Instant
from happysimulator.distributions.latency_distribution import ConstantLatency, LatencyDistribution
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion

IDLE_CHECK = "_pool_idle_timeout"
WARMUP = "_pool_warmup"


@dataclass
class Connection:
    """One pooled connection."""

    id: int
    created_at: Instant
    last_used_at: Instant
    is_active: bool = False


@dataclass(frozen=True)
class ConnectionPoolStats:
    """Snapshot of a pool's counts."""

    connections_created: int = 0
    connections_closed: int = 0
    acquisitions: int = 0
    releases: int = 0
    timeouts: int = 0
    total_wait_time: float = 0.0


class ConnectionPool(ObservedEntity):
    """A pool of at most ``max_connections`` connections to ``target``; opening one takes
    a ``connection_latency`` sample (default 10 ms); an acquisition that finds the pool
    exhausted waits at most ``connection_timeout`` seconds (then `TimeoutError`)."""

    observed_series = (
        counter("acquisitions", "requests", "acquire() calls"),
        counter("timeouts", "requests", "acquisitions that waited connection_timeout in vain"),
        counter("created", "connections", "connections opened"),
        counter("closed", "connections", "connections closed (idle or close_all)"),
        sample("wait_time", "s", "time an acquisition waited for a busy pool"),
        gauge("active", "connections", "connections in use"),
        gauge("idle", "connections", "open connections not in use"),
        gauge("waiting", "requests", "acquisitions waiting for a connection"),
    )
    downstream_attributes = ("target",)

    def __init__(self, name: str, target: Entity, min_connections: int = 0,
                 max_connections: int = 10, connection_timeout: float = 5.0,
                 idle_timeout: float = 60.0,
                 connection_latency: LatencyDistribution | None = None,
                 on_acquire: Callable[[Connection], None] | None = None,
                 on_release: Callable[[Connection], None] | None = None,
                 on_timeout: Callable[[], None] | None = None) -> None:
        super().__init__(name)
        if min_connections < 0:
            raise ValueError(f"min_connections must be >= 0, got {min_connections}")
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections}")
        if max_connections < min_connections:
            raise ValueError(f"max_connections ({max_connections}) must be >= "
                             f"min_connections ({min_connections})")
        if not connection_timeout > 0:
            raise ValueError(f"connection_timeout must be > 0, got {connection_timeout}")
        if not idle_timeout > 0:
            raise ValueError(f"idle_timeout must be > 0, got {idle_timeout}")
        self._target = target
        self._min_connections = min_connections
        self._max_connections = max_connections
        self._connection_timeout = connection_timeout
        self._idle_timeout = idle_timeout
        self._connection_latency = connection_latency or ConstantLatency(0.01)
        self._on_acquire = on_acquire
        self._on_release = on_release
        self._on_timeout = on_timeout
        self._idle: deque[Connection] = deque()
        self._active: dict[int, Connection] = {}
        self._waiters: deque[SimFuture] = deque()
        self._next_id = 0
        self._total = 0
        self._opening = 0  # connections being opened (count against the maximum)
        self._created = 0
        self._closed = 0
        self._acquisitions = 0
        self._releases = 0
        self._timeouts = 0
        self._total_wait = 0.0

    # ---- configuration and state ---------------------------------------------------------
    @property
    def target(self) -> Entity:
        return self._target

    @property
    def min_connections(self) -> int:
        return self._min_connections

    @property
    def max_connections(self) -> int:
        return self._max_connections

    @property
    def connection_timeout(self) -> float:
        return self._connection_timeout

    @property
    def idle_timeout(self) -> float:
        return self._idle_timeout

    @property
    def active_connections(self) -> int:
        return len(self._active)

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    @property
    def total_connections(self) -> int:
        """Open connections (active and idle)."""
        return self._total

    @property
    def pending_requests(self) -> int:
        """Acquisitions waiting for a connection."""
        return len(self._waiters)

    @property
    def stats(self) -> ConnectionPoolStats:
        return ConnectionPoolStats(self._created, self._closed, self._acquisitions,
                                   self._releases, self._timeouts, self._total_wait)

    @property
    def average_wait_time(self) -> float:
        """Mean wait per acquisition (those served at once count as 0)."""
        return self._total_wait / self._acquisitions if self._acquisitions else 0.0

    def downstream_entities(self) -> list[Entity]:
        return [self._target]

    # ---- acquire / release ---------------------------------------------------------------
    def acquire(self) -> Generator[Any, Any, Connection]:
        """Take a connection (``conn = yield from pool.acquire()``): an idle one, else a
        new one (after its opening latency), else the next one released, waiting at most
        ``connection_timeout`` seconds (then `TimeoutError`)."""
        sim = self._sim or bind_simulation(self)
        start_ns = sim.now_ns
        self._acquisitions += 1
        self.increment("acquisitions")
        if self._idle:
            conn = self._idle.popleft()
            self._activate_connection(conn)
            return conn
        if self._total + self._opening < self._max_connections:
            conn = yield from self._open()
            self._activate_connection(conn)
            return conn
        waiter = SimFuture(f"{self.name}.acquire")
        self._waiters.append(waiter)
        self.set_gauge("waiting", len(self._waiters))
        timer = Event.once(
            Instant(start_ns) + Duration.from_seconds(self._connection_timeout),
            f"{self.name}.acquire_timeout", lambda _e: waiter.resolve(None), daemon=True)
        sim.schedule(timer)
        conn = yield waiter  # (the timer, if it fires later, finds the waiter settled)
        if conn is None:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                self.set_gauge("waiting", len(self._waiters))
            self._timeouts += 1
            self.increment("timeouts")
            if self._on_timeout is not None:
                self._on_timeout()
            raise TimeoutError(f"no connection from {self.name} within "
                               f"{self._connection_timeout}s")
        waited = (sim.now_ns - start_ns) / _NS
        self._total_wait += waited
        self.observe("wait_time", waited)
        return conn

    def release(self, connection: Connection) -> list[Event]:
        """Give ``connection`` back: to the longest waiter, else to the idle set (the
        returned event closes it after ``idle_timeout`` unused)."""
        if self._active.pop(connection.id, None) is None:
            return []  # not ours, or released twice
        connection.is_active = False
        connection.last_used_at = self.now
        self._releases += 1
        if self._on_release is not None:
            self._on_release(connection)
        while self._waiters:
            waiter = self._waiters.popleft()
            if waiter.is_resolved:  # timed out meanwhile
                continue
            self._activate_connection(connection)
            self.set_gauge("waiting", len(self._waiters))
            waiter.resolve(connection)
            return []
        self._idle.append(connection)
        self._gauges()
        return [self._idle_check(connection)]

    def warmup(self) -> Event:
        """An event that opens ``min_connections`` connections when it runs."""
        sim = self._sim
        return Event(Instant.Epoch if sim is None else Instant(sim.now_ns), WARMUP, self,
                     context={})

    def close_all(self) -> None:
        """Close every connection; waiting acquisitions fail with `TimeoutError`."""
        for conn in [*self._idle, *self._active.values()]:
            self._close_connection(conn)
        self._idle.clear()
        self._active.clear()
        waiters, self._waiters = list(self._waiters), deque()
        for w in waiters:
            w.resolve(None)
        self._gauges()

    # ---- events --------------------------------------------------------------------------
    def handle_event(self, event: Event) -> Any:
        if event.event_type == IDLE_CHECK:
            return self._on_idle_check(event)
        if event.event_type == WARMUP:
            return self._warm()
        return None

    def _warm(self) -> Generator[Any, Any, list[Event]]:
        out = []
        while self._total + self._opening < self._min_connections:
            conn = yield from self._open()
            self._idle.append(conn)
            out.append(self._idle_check(conn))
        self._gauges()
        return out

    def _on_idle_check(self, event: Event) -> list[Event] | None:
        meta = event.context["metadata"]
        for i, conn in enumerate(self._idle):
            if conn.id != meta["connection_id"]:
                continue
            if conn.last_used_at != meta["expected_last_used"]:
                return None  # used since: a later check owns it
            if self._total > self._min_connections:
                del self._idle[i]
                self._close_connection(conn)
                self._gauges()
                return None
            return [self._idle_check(conn)]
        return None

    # ---- internals -----------------------------------------------------------------------
    def _idle_check(self, conn: Connection) -> Event:
        return Event(self.now + Duration.from_seconds(self._idle_timeout), IDLE_CHECK, self,
                     context={"metadata": {"connection_id": conn.id,
                                           "expected_last_used": conn.last_used_at}})

    def _open(self) -> Generator[Any, Any, Connection]:
        self._opening += 1
        try:
            yield self._connection_latency.get_latency(self.now).to_seconds()
        finally:
            self._opening -= 1
        self._next_id += 1
        now = self.now
        conn = Connection(self._next_id, now, now)
        self._total += 1
        self._created += 1
        self.increment("created")
        return conn

    def _activate_connection(self, conn: Connection) -> None:
        conn.is_active = True
        conn.last_used_at = self.now
        self._active[conn.id] = conn
        self._gauges()
        if self._on_acquire is not None:
            self._on_acquire(conn)

    def _close_connection(self, conn: Connection) -> None:
        self._total -= 1
        self._closed += 1
        self.increment("closed")

    def _gauges(self) -> None:
        if self._recording() is not None:
            self.set_gauge("active", len(self._active))
            self.set_gauge("idle", len(self._idle))


__all__ = ["Connection", "ConnectionPool", "ConnectionPoolStats"]
