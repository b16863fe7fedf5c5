"""``Database``: a connection-pooled database with queries and transactions."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from happysimulator.core._active import ACTIVE
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, gauge, sample
from happysimulator.core.sim_future import SimFuture
from happysimulator.core.temporal import Instant
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion


class TransactionState(Enum):
    ACTIVE = "active"
    COMMITTED = "committed"
    ROLLED_BACK = "rolled_back"


@dataclass(frozen=True)
class DatabaseStats:
    """Counts and latencies (seconds) of a `Database`."""

    queries_executed: int = 0
    transactions_started: int = 0
    transactions_committed: int = 0
    transactions_rolled_back: int = 0
    connections_created: int = 0
    connections_closed: int = 0
    connection_wait_count: int = 0
    connection_wait_time_total: float = 0.0
    query_latencies: list[float] = field(default_factory=list)

    @property
    def avg_query_latency(self) -> float:
        q = self.query_latencies
        return sum(q) / len(q) if q else 0.0

    @property
    def query_latency_p95(self) -> float:
        q = sorted(self.query_latencies)
        return q[min(int(len(q) * 0.95), len(q) - 1)] if q else 0.0


@dataclass
class Connection:
    """One pooled connection."""

    id: int
    created_at: Instant
    in_transaction: bool = False
    transaction_id: int | None = None


class Transaction:
    """A transaction holding one connection until ``commit`` or ``rollback``."""

    def __init__(self, transaction_id: int, database: Database, connection: Connection) -> None:
        self._id = transaction_id
        self._database = database
        self._connection = connection
        self._state = TransactionState.ACTIVE
        self._statements: list[str] = []

    @property
    def id(self) -> int:
        return self._id

    @property
    def state(self) -> TransactionState:
        return self._state

    @property
    def is_active(self) -> bool:
        return self._state is TransactionState.ACTIVE

    def _check(self) -> None:
        if not self.is_active:
            raise RuntimeError(f"transaction {self._id} is {self._state.value}, not active")

    def execute(self, query: str) -> Generator[Any, Any, Any]:
        self._check()
        self._statements.append(query)
        return (yield from self._database._execute_query(query))

    def commit(self) -> Generator[Any, Any, None]:
        self._check()
        yield self._database._commit_latency
        self._state = TransactionState.COMMITTED
        self._database._end_transaction(self)

    def rollback(self) -> Generator[Any, Any, None]:
        self._check()
        yield self._database._rollback_latency
        self._state = TransactionState.ROLLED_BACK
        self._database._end_transaction(self)


class Database(ObservedEntity):
    """A database with up to ``max_connections`` pooled connections: ``yield from
    db.execute(query)`` takes a connection (opening one costs ``connection_latency``;
    when all are busy the caller waits for the next one released, in order), runs the
    query (``query_latency``: seconds, or a function of the query text), and gives the
    connection back. ``tx = yield from db.begin_transaction()`` keeps one until
    ``commit``/``rollback``.

    Observed: ``connections`` (open) / ``in_use`` / ``waiters`` gauges,
    ``query_latency`` and ``connection_wait`` samples, ``queries`` counter,
    ``transactions`` counter tagged ``outcome`` (committed / rolled_back).
    """

    observed_series = (
        gauge("connections", "connections", "connections open"),
        gauge("in_use", "connections", "connections serving a query or transaction"),
        gauge("waiters", "processes", "processes waiting for a connection"),
        sample("query_latency", "s"),
        sample("connection_wait", "s", "time waited for a free connection"),
        counter("queries", "queries"),
        counter("transactions", "transactions", tags=("outcome",)),
    )

    def __init__(self, name: str, max_connections: int = 100,
                 query_latency: float | Callable[[str], float] = 0.005,
                 connection_latency: float = 0.010, commit_latency: float = 0.010,
                 rollback_latency: float = 0.005) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections!r}")
        super().__init__(name)
        self._max_connections = max_connections
        self._query_latency = query_latency
        self._connection_latency = connection_latency
        self._commit_latency = commit_latency
        self._rollback_latency = rollback_latency
        self._connections: dict[int, Connection] = {}
        self._free: deque[int] = deque()
        self._waiters: deque[tuple[SimFuture, int]] = deque()
        self._next_conn = self._next_tx = 0
        self._tables: dict[str, list[dict]] = {}
        self._n = dict.fromkeys(("q", "ts", "tc", "tr", "cc", "cx", "wc"), 0)
        self._wait_total = 0.0
        self._query_latencies: list[float] = []

    @property
    def stats(self) -> DatabaseStats:
        n = self._n
        return DatabaseStats(n["q"], n["ts"], n["tc"], n["tr"], n["cc"], n["cx"], n["wc"],
                             self._wait_total, list(self._query_latencies))

    @property
    def max_connections(self) -> int:
        return self._max_connections

    @property
    def active_connections(self) -> int:
        """Connections open (busy or idle)."""
        return len(self._connections)

    @property
    def available_connections(self) -> int:
        """Open connections that are idle."""
        return len(self._free)

    @property
    def pending_waiters(self) -> int:
        return len(self._waiters)

    def now_ns(self) -> int:
        sim = self._sim or ACTIVE.sim
        return 0 if sim is None else sim.now_ns

    def _busy_changed(self) -> None:
        self.set_gauge("in_use", len(self._connections) - len(self._free))

    def _acquire_connection(self) -> Generator[Any, Any, Connection]:
        if self._free:
            conn = self._connections[self._free.popleft()]
            self._busy_changed()
            yield self._connection_latency
            return conn
        if len(self._connections) < self._max_connections:
            cid = self._next_conn
            self._next_conn += 1
            conn = self._connections[cid] = Connection(
                cid, Instant.from_nanoseconds(self.now_ns()))
            self._n["cc"] += 1
            self.set_gauge("connections", len(self._connections))
            self._busy_changed()
            yield self._connection_latency
            return conn
        self._n["wc"] += 1
        turn = SimFuture(f"{self.name}.connection")
        self._waiters.append((turn, self.now_ns()))
        self.set_gauge("waiters", len(self._waiters))
        conn = yield turn  # `_release_connection` hands a connection over
        if not isinstance(conn, Connection):
            conn = turn.value
        yield self._connection_latency
        return conn

    def _release_connection(self, conn: Connection) -> None:
        if conn.id not in self._connections:
            return
        conn.in_transaction = False
        conn.transaction_id = None
        if self._waiters:
            turn, since = self._waiters.popleft()
            wait = (self.now_ns() - since) / _NS
            self._wait_total += wait
            self.observe("connection_wait", wait)
            self.set_gauge("waiters", len(self._waiters))
            turn.resolve(conn)  # (stays in use: handed over)
            return
        self._free.append(conn.id)
        self._busy_changed()

    def _execute_query(self, query: str) -> Generator[Any, Any, Any]:
        q = self._query_latency
        latency = q(query) if callable(q) else q
        yield latency
        self._n["q"] += 1
        self._query_latencies.append(latency)
        self.increment("queries")
        self.observe("query_latency", latency)
        head = query.strip().upper()
        if head.startswith("SELECT"):
            return []
        if head.startswith(("INSERT", "UPDATE", "DELETE")):
            return {"affected_rows": 1}
        return None

    def execute(self, query: str) -> Generator[Any, Any, Any]:
        """Run one query on a pooled connection; its result."""
        conn = yield from self._acquire_connection()
        try:
            return (yield from self._execute_query(query))
        finally:
            self._release_connection(conn)

    def begin_transaction(self) -> Generator[Any, Any, Transaction]:
        conn = yield from self._acquire_connection()
        tx_id = self._next_tx
        self._next_tx += 1
        conn.in_transaction = True
        conn.transaction_id = tx_id
        self._n["ts"] += 1
        return Transaction(tx_id, self, conn)

    def _end_transaction(self, tx: Transaction) -> None:
        if tx.state is TransactionState.COMMITTED:
            self._n["tc"] += 1
            self.increment("transactions", outcome="committed")
        elif tx.state is TransactionState.ROLLED_BACK:
            self._n["tr"] += 1
            self.increment("transactions", outcome="rolled_back")
        self._release_connection(tx._connection)

    def create_table(self, name: str) -> None:
        self._tables[name] = []

    def get_table_names(self) -> list[str]:
        return list(self._tables)

    def handle_event(self, event: Event) -> None:
        return None


__all__ = ["Connection", "Database", "DatabaseStats", "Transaction", "TransactionState"]
