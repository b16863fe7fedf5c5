"""``SoftTTLCache``: stale-while-revalidate caching with a soft and a hard TTL."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Generator, Hashable
from dataclasses import dataclass
from typing import Any

from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, gauge
from happysimulator.core.sim_future import SimFuture
from happysimulator.core.temporal import Duration, Instant


@dataclass
class CacheEntry:
    """A cached value and when it was stored."""

    value: Any
    cached_at: Instant

    def is_fresh(self, now: Instant, soft_ttl: Duration) -> bool:
        return now - self.cached_at < soft_ttl

    def is_valid(self, now: Instant, hard_ttl: Duration) -> bool:
        return now - self.cached_at < hard_ttl


@dataclass(frozen=True)
class SoftTTLCacheStats:
    """Counts of a `SoftTTLCache`."""

    reads: int = 0
    fresh_hits: int = 0
    stale_hits: int = 0
    hard_misses: int = 0
    background_refreshes: int = 0
    refresh_successes: int = 0
    coalesced_requests: int = 0
    evictions: int = 0

    @property
    def fresh_hit_rate(self) -> float:
        return self.fresh_hits / self.reads if self.reads else 0.0

    @property
    def stale_hit_rate(self) -> float:
        return self.stale_hits / self.reads if self.reads else 0.0

    @property
    def total_hit_rate(self) -> float:
        return (self.fresh_hits + self.stale_hits) / self.reads if self.reads else 0.0

    @property
    def miss_rate(self) -> float:
        return self.hard_misses / self.reads if self.reads else 0.0


def _duration(value: float | Duration, what: str) -> Duration:
    d = value if isinstance(value, Duration) else Duration.from_seconds(value)
    if d.nanoseconds < 0:
        raise ValueError(f"{what} must be >= 0 seconds, got {value!r}")
    return d


_REFRESH = "_sttl_refresh"


class SoftTTLCache(ObservedEntity):
    """An entry younger than ``soft_ttl`` is served (fresh hit); one between the soft
    and the ``hard_ttl`` is served too (stale hit) while one background refresh of the
    key reloads it; an older or absent one is a miss that reads the backing store —
    and misses for a key whose load is under way wait for that load instead of
    sending their own (coalescing). With ``cache_capacity`` the least recently used
    entry is evicted.

    Observed: ``hits`` counter tagged ``freshness`` (fresh / stale), ``misses``,
    ``evictions``, ``refreshes``, ``coalesced`` counters; ``size`` gauge.
    """

    observed_series = (
        counter("hits", "reads", "reads served from the cache", tags=("freshness",)),
        counter("misses", "reads", "reads past the hard TTL or absent"),
        counter("evictions", "keys", "entries evicted to make room"),
        counter("refreshes", "loads", "background refreshes started"),
        counter("coalesced", "reads", "misses that waited for a load under way"),
        gauge("size", "keys", "entries cached"),
    )
    downstream_attributes = ("backing_store",)

    def __init__(self, name: str, backing_store: Any, soft_ttl: float | Duration,
                 hard_ttl: float | Duration, cache_capacity: int | None = None,
                 cache_read_latency: float = 0.0001) -> None:
        super().__init__(name)
        self._soft_ttl = _duration(soft_ttl, "soft_ttl")
        self._hard_ttl = _duration(hard_ttl, "hard_ttl")
        if self._soft_ttl > self._hard_ttl:
            raise ValueError(f"soft_ttl ({soft_ttl!r}) must be <= hard_ttl ({hard_ttl!r})")
        if cache_capacity is not None and cache_capacity < 1:
            raise ValueError(f"cache_capacity must be >= 1 or None, got {cache_capacity!r}")
        if cache_read_latency < 0:
            raise ValueError(f"cache_read_latency must be >= 0 seconds, got "
                             f"{cache_read_latency!r}")
        self.backing_store = backing_store
        self._capacity = cache_capacity
        self._cache_read_latency = cache_read_latency
        self._cache: OrderedDict[Hashable, CacheEntry] = OrderedDict()  # LRU order
        self._loading: dict[Hashable, SimFuture] = {}  # key -> its load under way
        self._n = dict.fromkeys(("reads", "fresh", "stale", "miss", "bg", "bgok", "coal",
                                 "evict"), 0)

    @property
    def stats(self) -> SoftTTLCacheStats:
        n = self._n
        return SoftTTLCacheStats(n["reads"], n["fresh"], n["stale"], n["miss"], n["bg"],
                                 n["bgok"], n["coal"], n["evict"])

    @property
    def soft_ttl(self) -> Duration:
        return self._soft_ttl

    @property
    def hard_ttl(self) -> Duration:
        return self._hard_ttl

    @property
    def cache_capacity(self) -> int | None:
        return self._capacity

    @property
    def cache_size(self) -> int:
        return len(self._cache)

    def get(self, key: Hashable) -> Generator[Any, Any, Any]:
        """Read `key` (see the class docstring)."""
        self._n["reads"] += 1
        now = self.now
        entry = self._cache.get(key)
        if entry is not None and entry.is_valid(now, self._hard_ttl):
            self._cache.move_to_end(key)
            if entry.is_fresh(now, self._soft_ttl):
                self._n["fresh"] += 1
                self.increment("hits", freshness="fresh")
                yield self._cache_read_latency
                return entry.value
            self._n["stale"] += 1
            self.increment("hits", freshness="stale")
            refresh = self._start_refresh(key)
            if refresh is not None:
                yield self._cache_read_latency, refresh
            else:
                yield self._cache_read_latency
            return entry.value
        self._n["miss"] += 1
        self.increment("misses")
        pending = self._loading.get(key)
        if pending is not None:
            self._n["coal"] += 1
            self.increment("coalesced")
            value = yield pending
            if value is None and pending.is_resolved:
                value = pending.value
            return value
        loaded = self._loading[key] = SimFuture(f"{self.name}.load")
        try:
            value = yield from self.backing_store.get(key)
            if value is not None:
                self._store(key, value)
        finally:
            self._loading.pop(key, None)
            loaded.resolve(value if "value" in locals() else None)
        return value

    def put(self, key: Hashable, value: Any) -> Generator[Any, Any, None]:
        """Write `key` to the backing store, then cache it (fresh)."""
        yield from self.backing_store.put(key, value)
        self._store(key, value)

    def invalidate(self, key: Hashable) -> None:
        if self._cache.pop(key, None) is not None:
            self.set_gauge("size", len(self._cache))

    def invalidate_all(self) -> None:
        self._cache.clear()
        self.set_gauge("size", 0)

    def contains_cached(self, key: Hashable) -> bool:
        return key in self._cache

    def is_refreshing(self, key: Hashable) -> bool:
        return key in self._loading

    def get_cached_keys(self) -> list[Hashable]:
        return list(self._cache)

    def _start_refresh(self, key: Hashable) -> list[Event] | None:
        if key in self._loading:
            return None
        self._loading[key] = SimFuture(f"{self.name}.refresh")
        self._n["bg"] += 1
        self.increment("refreshes")
        return [Event(time=self.now, event_type=_REFRESH, target=self,
                      context={"metadata": {"key": key}})]

    def handle_event(self, event: Event) -> Generator[Any, Any, None]:
        if event.event_type == _REFRESH:
            key = event.context["metadata"]["key"]
            value = None
            try:
                value = yield from self.backing_store.get(key)
                if value is not None:
                    self._store(key, value)
                    self._n["bgok"] += 1
            finally:
                pending = self._loading.pop(key, None)
                if pending is not None:
                    pending.resolve(value)
        return None

    def _store(self, key: Hashable, value: Any) -> None:
        cache = self._cache
        if key not in cache and self._capacity is not None:
            while len(cache) >= self._capacity:
                cache.popitem(last=False)
                self._n["evict"] += 1
                self.increment("evictions")
        cache[key] = CacheEntry(value, self.now)
        cache.move_to_end(key)
        self.set_gauge("size", len(cache))


__all__ = ["CacheEntry", "SoftTTLCache", "SoftTTLCacheStats"]
