"""``ReplicatedStore``: every key on N replicas; reads and writes wait for a quorum."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, sample


class ConsistencyLevel(Enum):
    """How many replicas must answer: one, a majority, or all."""

    ONE = "one"
    QUORUM = "quorum"
    ALL = "all"


def _pick(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * q), len(ordered) - 1)]


@dataclass(frozen=True)
class ReplicatedStoreStats:
    """Counts and latencies (seconds) of a `ReplicatedStore`."""

    reads: int = 0
    writes: int = 0
    read_successes: int = 0
    read_failures: int = 0
    write_successes: int = 0
    write_failures: int = 0
    replica_timeouts: int = 0
    read_latencies: list[float] = field(default_factory=list)
    write_latencies: list[float] = field(default_factory=list)

    @property
    def read_latency_p50(self) -> float:
        return _pick(self.read_latencies, 0.5)

    @property
    def read_latency_p99(self) -> float:
        return _pick(self.read_latencies, 0.99)

    @property
    def write_latency_p50(self) -> float:
        return _pick(self.write_latencies, 0.5)

    @property
    def write_latency_p99(self) -> float:
        return _pick(self.write_latencies, 0.99)


def _run(op: Iterator[Any]) -> tuple[float, Any]:
    """Drive a replica's operation (a generator yielding delays) to its end: (its total
    delay in seconds, its result). Replicas work in parallel: each one's delay is its
    own, not added to the others'."""
    delay = 0.0
    try:
        while True:
            step = next(op)
            if isinstance(step, tuple):
                step = step[0]
            if not isinstance(step, int | float):
                raise TypeError(f"replica operation yielded {type(step).__name__}; a "
                                "ReplicatedStore's replicas must yield delays (seconds)")
            delay += float(step)
    except StopIteration as stop:
        return delay, stop.value


class ReplicatedStore(ObservedEntity):
    """A key-value store over ``replicas`` (e.g. `KVStore`s). An operation goes to every
    replica at once and completes when ``read_consistency`` / ``write_consistency``
    replicas answered: after the k-th fastest answer (k = 1, a majority, or all). A
    replica slower than the timeout (``read_timeout`` / ``write_timeout`` seconds) or
    failing does not count; too few answers fail the operation (after the timeout).

    Observed: ``reads`` / ``writes`` counters tagged ``outcome`` (ok / failed),
    ``replica_timeouts``, ``read_latency`` / ``write_latency`` samples.
    """

    observed_series = (
        counter("reads", "operations", tags=("outcome",)),
        counter("writes", "operations", tags=("outcome",)),
        counter("replica_timeouts", "answers", "replica answers missing or too late"),
        sample("read_latency", "s"),
        sample("write_latency", "s"),
    )
    downstream_attributes = ("replicas",)

    def __init__(self, name: str, replicas: list[Any],
                 read_consistency: ConsistencyLevel = ConsistencyLevel.QUORUM,
                 write_consistency: ConsistencyLevel = ConsistencyLevel.QUORUM,
                 read_timeout: float = 1.0, write_timeout: float = 2.0) -> None:
        if not replicas:
            raise ValueError("ReplicatedStore needs at least one replica")
        for level in (read_consistency, write_consistency):
            if not isinstance(level, ConsistencyLevel):
                raise ValueError(f"consistency must be a ConsistencyLevel "
                                 f"{[c.name for c in ConsistencyLevel]}, got {level!r}")
        if not read_timeout > 0 or not write_timeout > 0:
            raise ValueError("read_timeout and write_timeout must be > 0 seconds")
        super().__init__(name)
        self.replicas = list(replicas)
        self._read_consistency = read_consistency
        self._write_consistency = write_consistency
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._n = dict.fromkeys(("r", "w", "rok", "rfail", "wok", "wfail", "to"), 0)
        self._read_latencies: list[float] = []
        self._write_latencies: list[float] = []

    def downstream_entities(self) -> list[Any]:
        return list(self.replicas)

    @property
    def stats(self) -> ReplicatedStoreStats:
        n = self._n
        return ReplicatedStoreStats(n["r"], n["w"], n["rok"], n["rfail"], n["wok"],
                                    n["wfail"], n["to"], list(self._read_latencies),
                                    list(self._write_latencies))

    @property
    def num_replicas(self) -> int:
        return len(self.replicas)

    @property
    def read_consistency(self) -> ConsistencyLevel:
        return self._read_consistency

    @property
    def write_consistency(self) -> ConsistencyLevel:
        return self._write_consistency

    @property
    def quorum_size(self) -> int:
        return len(self.replicas) // 2 + 1

    def _required(self, level: ConsistencyLevel) -> int:
        if level is ConsistencyLevel.ONE:
            return 1
        if level is ConsistencyLevel.QUORUM:
            return self.quorum_size
        return len(self.replicas)

    def _fan_out(self, call: str, args: tuple, timeout: float) -> list[tuple[float, Any]]:
        """Every replica's (delay, result) within `timeout`, fastest first."""
        answers = []
        for replica in self.replicas:
            try:
                delay, result = _run(getattr(replica, call)(*args))
            except (TimeoutError, RuntimeError, OSError):
                delay, result = float("inf"), None
            if delay > timeout:
                self._n["to"] += 1
                self.increment("replica_timeouts")
                continue
            answers.append((delay, result))
        answers.sort(key=lambda a: a[0])
        return answers

    def get(self, key: Any) -> Generator[float, Any, Any]:
        """Read `key` at the read consistency: the first value among the answers
        waited for (None if none has it, or too few replicas answered)."""
        self._n["r"] += 1
        need = self._required(self._read_consistency)
        answers = self._fan_out("get", (key,), self._read_timeout)
        if len(answers) < need:
            yield self._read_timeout
            self._n["rfail"] += 1
            self.increment("reads", outcome="failed")
            return None
        latency = answers[need - 1][0]
        yield latency
        self._n["rok"] += 1
        self._read_latencies.append(latency)
        self.increment("reads", outcome="ok")
        self.observe("read_latency", latency)
        return next((v for _, v in answers[:need] if v is not None), None)

    def put(self, key: Any, value: Any) -> Generator[float, Any, bool]:
        """Write `key` to every replica; True once the write consistency acknowledged."""
        self._n["w"] += 1
        need = self._required(self._write_consistency)
        answers = self._fan_out("put", (key, value), self._write_timeout)
        if len(answers) < need:
            yield self._write_timeout
            self._n["wfail"] += 1
            self.increment("writes", outcome="failed")
            return False
        latency = answers[need - 1][0]
        yield latency
        self._n["wok"] += 1
        self._write_latencies.append(latency)
        self.increment("writes", outcome="ok")
        self.observe("write_latency", latency)
        return True

    def delete(self, key: Any) -> Generator[float, Any, bool]:
        """Delete `key` everywhere; True if acknowledged and it existed somewhere."""
        need = self._required(self._write_consistency)
        answers = self._fan_out("delete", (key,), self._write_timeout)
        if len(answers) < need:
            yield self._write_timeout
            return False
        yield answers[need - 1][0]
        return any(bool(r) for _, r in answers)

    def get_replica_status(self) -> list[dict[str, Any]]:
        out = []
        for k, r in enumerate(self.replicas):
            info: dict[str, Any] = {"index": k, "name": r.name, "size": getattr(r, "size", 0)}
            st = getattr(r, "stats", None)
            if st is not None and hasattr(st, "reads"):
                info["reads"] = st.reads
                info["writes"] = st.writes
            out.append(info)
        return out

    def handle_event(self, event: Event) -> None:
        return None


__all__ = ["ConsistencyLevel", "ReplicatedStore", "ReplicatedStoreStats"]
