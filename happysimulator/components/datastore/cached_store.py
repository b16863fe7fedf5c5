"""``CachedStore``: a bounded cache in front of a backing `KVStore`."""

from __future__ import annotations

from collections.abc import Generator, Hashable
from dataclasses import dataclass
from typing import Any

from happysimulator.components.datastore.eviction_policies import CacheEvictionPolicy
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, gauge

_NS = 1e9


@dataclass(frozen=True)
class CachedStoreStats:
    """Counts of a `CachedStore` (``writebacks``: dirty entries written to the store)."""

    reads: int = 0
    writes: int = 0
    hits: int = 0
    misses: int = 0
    evictions: int = 0
    writebacks: int = 0


class CachedStore(ObservedEntity):
    """Reads hit the cache (``cache_read_latency``) or miss and go to
    ``backing_store`` (then fill the cache); when the cache holds
    ``cache_capacity`` keys, ``eviction_policy`` picks the one to drop. Writes go
    through to the store (``write_through``) or stay dirty in the cache until
    ``flush()`` — or until the key is evicted, when it is written back first (a dirty
    entry is never lost). With a `TTLEviction`, an expired entry is a miss.

    Observed: ``hits``, ``misses``, ``evictions``, ``writebacks`` counters; ``size``
    (keys cached) and ``dirty`` gauges.
    """

    observed_series = (
        counter("hits", "reads", "reads answered by the cache"),
        counter("misses", "reads", "reads that went to the backing store"),
        counter("evictions", "keys", "keys evicted to make room"),
        counter("writebacks", "keys", "dirty keys written to the backing store"),
        gauge("size", "keys", "keys cached"),
        gauge("dirty", "keys", "keys written but not yet in the backing store"),
    )
    downstream_attributes = ("backing_store",)

    def __init__(self, name: str, backing_store: Any, cache_capacity: int,
                 eviction_policy: CacheEvictionPolicy, cache_read_latency: float = 0.0001,
                 write_through: bool = True) -> None:
        if cache_capacity < 1:
            raise ValueError(f"cache_capacity must be >= 1, got {cache_capacity!r}")
        if cache_read_latency < 0:
            raise ValueError(f"cache_read_latency must be >= 0 seconds, got "
                             f"{cache_read_latency!r}")
        super().__init__(name)
        self.backing_store = backing_store
        self._cache_capacity = cache_capacity
        self._eviction_policy = eviction_policy
        self._cache_read_latency = cache_read_latency
        self._write_through = write_through
        # (`_cache` and `_eviction_policy` keep 0.2.5's names: its models reach into them)
        self._cache: dict[Hashable, Any] = {}
        self._dirty: dict[Hashable, None] = {}
        self._reads = self._writes = self._hits = self._misses = 0
        self._evictions = self._writebacks = 0
        bind = getattr(eviction_policy, "bind_clock", None)
        if bind is not None:
            bind(self._now_s)

    def _now_s(self) -> float:
        return self.now.to_seconds()

    def downstream_entities(self) -> list[Any]:
        return [self.backing_store]

    @property
    def stats(self) -> CachedStoreStats:
        return CachedStoreStats(self._reads, self._writes, self._hits, self._misses,
                                self._evictions, self._writebacks)

    @property
    def cache_capacity(self) -> int:
        return self._cache_capacity

    @property
    def cache_size(self) -> int:
        return len(self._cache)

    @property
    def hit_rate(self) -> float:
        return self._hits / self._reads if self._reads else 0.0

    @property
    def miss_rate(self) -> float:
        return self._misses / self._reads if self._reads else 0.0

    # -- processes ------------------------------------------------------------------------
    def get(self, key: Hashable) -> Generator[Any, Any, Any]:
        """Read `key`: from the cache, else from the backing store (then cached)."""
        self._reads += 1
        if key in self._cache and not self._expired(key):
            self._hits += 1
            self.increment("hits")
            self._eviction_policy.on_access(key)
            value = self._cache[key]
            yield self._cache_read_latency
            return value
        self._misses += 1
        self.increment("misses")
        if key in self._cache:  # expired: the stored value is authoritative now
            yield from self._drop(key)
        value = yield from self.backing_store.get(key)
        if value is not None:
            yield from self._fill(key, value)
        return value

    def put(self, key: Hashable, value: Any) -> Generator[Any, Any, None]:
        """Write `key`: cached, and through to the store (or dirty until flushed)."""
        self._writes += 1
        yield from self._fill(key, value)
        if self._write_through:
            yield from self.backing_store.put(key, value)
        else:
            self._dirty[key] = None
            self.set_gauge("dirty", len(self._dirty))
            yield self._cache_read_latency

    def delete(self, key: Hashable) -> Generator[Any, Any, bool]:
        """Delete `key` from cache and store; whether it existed in either."""
        cached = key in self._cache
        if cached:
            self._forget(key)
        stored = yield from self.backing_store.delete(key)
        return cached or bool(stored)

    def flush(self) -> Generator[Any, Any, int]:
        """Write every dirty key to the backing store; returns how many."""
        n = 0
        for key in list(self._dirty):
            if key in self._cache:
                yield from self._write_back(key, self._cache[key])
                n += 1
        return n

    # -- immediate ------------------------------------------------------------------------
    def invalidate(self, key: Hashable) -> None:
        """Drop `key` from the cache (a dirty value is discarded: the caller's choice)."""
        if key in self._cache:
            self._forget(key)

    def invalidate_all(self) -> None:
        self._cache.clear()
        self._dirty.clear()
        self._eviction_policy.clear()
        self.set_gauge("size", 0)
        self.set_gauge("dirty", 0)

    def contains_cached(self, key: Hashable) -> bool:
        return key in self._cache

    def get_cached_keys(self) -> list[Hashable]:
        return list(self._cache)

    def get_dirty_keys(self) -> list[Hashable]:
        return list(self._dirty)

    def _cache_put(self, key: Hashable, value: Any) -> None:
        """Put `key` in the cache now (no simulated time): a dirty victim is written to
        the backing store at once (``put_sync``)."""
        for step in self._fill(key, value):
            del step  # (the write-back's latency is not simulated here)

    # -- mechanics ------------------------------------------------------------------------
    def _expired(self, key: Hashable) -> bool:
        is_expired = getattr(self._eviction_policy, "is_expired", None)
        return is_expired is not None and is_expired(key)

    def _fill(self, key: Hashable, value: Any) -> Generator[Any, Any, None]:
        if key in self._cache:
            self._eviction_policy.on_access(key)
        else:
            while len(self._cache) >= self._cache_capacity:
                victim = self._eviction_policy.evict()
                if victim is None or victim not in self._cache:
                    if victim is None:
                        break
                    continue
                self._evictions += 1
                self.increment("evictions")
                yield from self._drop(victim, evicted=True)
            self._eviction_policy.on_insert(key)
        self._cache[key] = value
        self.set_gauge("size", len(self._cache))

    def _drop(self, key: Hashable, evicted: bool = False) -> Generator[Any, Any, None]:
        """Remove `key`, writing it back first if dirty."""
        value = self._cache.pop(key)
        if not evicted:
            self._eviction_policy.on_remove(key)
        if key in self._dirty:
            yield from self._write_back(key, value)
        self.set_gauge("size", len(self._cache))

    def _write_back(self, key: Hashable, value: Any) -> Generator[Any, Any, None]:
        self._dirty.pop(key, None)
        self._writebacks += 1
        self.increment("writebacks")
        self.set_gauge("dirty", len(self._dirty))
        yield from self.backing_store.put(key, value)

    def _forget(self, key: Hashable) -> None:
        self._cache.pop(key, None)
        self._dirty.pop(key, None)
        self._eviction_policy.on_remove(key)
        self.set_gauge("size", len(self._cache))
        self.set_gauge("dirty", len(self._dirty))

    def handle_event(self, event: Event) -> None:
        """(A store is called by processes, not sent events.)"""
        return None


__all__ = ["CachedStore", "CachedStoreStats"]
