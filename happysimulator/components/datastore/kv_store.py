"""``KVStore``: a key-value store with read/write latencies and optional capacity."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, gauge


@dataclass(frozen=True)
class KVStoreStats:
    """Counts of a `KVStore` (``hits``/``misses``: reads that found / did not find the
    key; ``evictions``: entries dropped to stay within ``capacity``)."""

    reads: int = 0
    writes: int = 0
    deletes: int = 0
    hits: int = 0
    misses: int = 0
    evictions: int = 0


class KVStore(ObservedEntity):
    """A key-value store for processes: ``value = yield from store.get(key)`` takes
    ``read_latency`` seconds, ``yield from store.put(key, value)`` ``write_latency``.
    With ``capacity``, inserting a new key into a full store evicts the oldest key.
    The ``*_sync`` methods act at once (no simulated time: setup, tests).

    Observed: ``reads``, ``writes``, ``deletes``, ``hits``, ``misses``, ``evictions``
    counters and the ``size`` gauge (keys held).
    """

    observed_series = (
        counter("reads", "operations"),
        counter("writes", "operations"),
        counter("deletes", "operations"),
        counter("hits", "reads", "reads that found the key"),
        counter("misses", "reads", "reads that did not find the key"),
        counter("evictions", "keys", "keys evicted to respect the capacity"),
        gauge("size", "keys", "keys held"),
    )

    def __init__(self, name: str, read_latency: float = 0.001, write_latency: float = 0.005,
                 delete_latency: float | None = None, capacity: int | None = None) -> None:
        if read_latency < 0:
            raise ValueError(f"read_latency must be >= 0 seconds, got {read_latency!r}")
        if write_latency < 0:
            raise ValueError(f"write_latency must be >= 0 seconds, got {write_latency!r}")
        if delete_latency is not None and delete_latency < 0:
            raise ValueError(f"delete_latency must be >= 0 seconds, got {delete_latency!r}")
        if capacity is not None and capacity < 1:
            raise ValueError(f"capacity must be >= 1 or None, got {capacity!r}")
        super().__init__(name)
        self._read_latency = read_latency
        self._write_latency = write_latency
        self._delete_latency = write_latency if delete_latency is None else delete_latency
        self._capacity = capacity
        self._data: dict[Any, Any] = {}  # (insertion-ordered: the oldest key first)
        self._reads = self._writes = self._deletes = 0
        self._hits = self._misses = self._evictions = 0

    @property
    def stats(self) -> KVStoreStats:
        return KVStoreStats(self._reads, self._writes, self._deletes, self._hits,
                            self._misses, self._evictions)

    @property
    def read_latency(self) -> float:
        return self._read_latency

    @property
    def write_latency(self) -> float:
        return self._write_latency

    @property
    def delete_latency(self) -> float:
        return self._delete_latency

    @property
    def capacity(self) -> int | None:
        return self._capacity

    @property
    def size(self) -> int:
        return len(self._data)

    # -- processes ------------------------------------------------------------------------
    def get(self, key: Any) -> Generator[float, Any, Any]:
        """Read `key` after ``read_latency``: its value, or None."""
        yield self._read_latency
        return self._read(key)

    def put(self, key: Any, value: Any) -> Generator[float, Any, None]:
        """Write `key` after ``write_latency``."""
        yield self._write_latency
        self._writes += 1
        self.increment("writes")
        self.put_sync(key, value)

    def delete(self, key: Any) -> Generator[float, Any, bool]:
        """Delete `key` after ``delete_latency``: whether it existed."""
        yield self._delete_latency
        self._deletes += 1
        self.increment("deletes")
        return self.delete_sync(key)

    # -- immediate ------------------------------------------------------------------------
    def _read(self, key: Any) -> Any:
        self._reads += 1
        self.increment("reads")
        if key in self._data:
            self._hits += 1
            self.increment("hits")
            return self._data[key]
        self._misses += 1
        self.increment("misses")
        return None

    def get_sync(self, key: Any) -> Any:
        """The value of `key` now (None if absent); not counted as a read."""
        return self._data.get(key)

    def put_sync(self, key: Any, value: Any) -> None:
        """Store `key` now (evicting the oldest keys if the store is full)."""
        data = self._data
        if key not in data:
            cap = self._capacity
            while cap is not None and len(data) >= cap:
                del data[next(iter(data))]
                self._evictions += 1
                self.increment("evictions")
            data[key] = value
            self.set_gauge("size", len(data))
        else:
            data[key] = value

    def delete_sync(self, key: Any) -> bool:
        """Remove `key` now; whether it existed."""
        if key in self._data:
            del self._data[key]
            self.set_gauge("size", len(self._data))
            return True
        return False

    def contains(self, key: Any) -> bool:
        return key in self._data

    def keys(self) -> list[Any]:
        return list(self._data)

    def clear(self) -> None:
        self._data.clear()
        self.set_gauge("size", 0)

    def handle_event(self, event: Event) -> None:
        """(A store is called by processes, not sent events.)"""
        return None


__all__ = ["KVStore", "KVStoreStats"]
