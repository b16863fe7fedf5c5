"""``MultiTierCache``: L1, L2, ... caches in front of a backing store."""

from __future__ import annotations

from collections.abc import Generator, Hashable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter


class PromotionPolicy(Enum):
    """When a hit in a lower tier copies the entry into L1."""

    ALWAYS = "always"
    ON_SECOND_ACCESS = "on_second_access"
    NEVER = "never"


@dataclass(frozen=True)
class MultiTierCacheStats:
    """Counts of a `MultiTierCache` (``tier_hits``: per tier index, 0 = L1)."""

    reads: int = 0
    writes: int = 0
    tier_hits: dict[int, int] = field(default_factory=dict)
    backing_store_hits: int = 0
    misses: int = 0
    promotions: int = 0


def _insert(tier: Any, key: Hashable, value: Any) -> Generator[Any, Any, None]:
    fill = getattr(tier, "_fill", None)
    if fill is not None:
        yield from fill(key, value)
    elif hasattr(tier, "_cache_put"):
        tier._cache_put(key, value)


class MultiTierCache(ObservedEntity):
    """Reads try each tier in order (L1 first), then the backing store; a value found
    below L1 is promoted to L1 per ``promotion_policy``; a value from the backing store
    is cached in L1. Writes go to the backing store, invalidate every tier and fill L1.

    Observed: ``hits`` counter tagged ``tier`` (0 = L1; ``"store"`` for the backing
    store), ``misses`` (found nowhere), ``promotions``.
    """

    observed_series = (
        counter("hits", "reads", "reads answered, by tier", tags=("tier",)),
        counter("misses", "reads", "reads found in no tier nor the store"),
        counter("promotions", "keys", "entries copied up to L1"),
    )
    downstream_attributes = ("tiers", "backing_store")

    def __init__(self, name: str, tiers: list[Any], backing_store: Any,
                 promotion_policy: PromotionPolicy | str = PromotionPolicy.ALWAYS) -> None:
        if not tiers:
            raise ValueError("MultiTierCache needs at least one cache tier")
        if isinstance(promotion_policy, str):
            try:
                promotion_policy = PromotionPolicy(promotion_policy)
            except ValueError:
                raise ValueError(f"unknown promotion_policy {promotion_policy!r}; valid: "
                                 f"{[p.value for p in PromotionPolicy]}") from None
        super().__init__(name)
        self.tiers = list(tiers)
        self.backing_store = backing_store
        self._promotion = promotion_policy
        self._accesses: dict[Hashable, int] = {}
        self._reads = self._writes = self._store_hits = self._misses = self._promotions = 0
        self._tier_hits = dict.fromkeys(range(len(self.tiers)), 0)

    def downstream_entities(self) -> list[Any]:
        return [*self.tiers, self.backing_store]

    @property
    def stats(self) -> MultiTierCacheStats:
        return MultiTierCacheStats(self._reads, self._writes, dict(self._tier_hits),
                                   self._store_hits, self._misses, self._promotions)

    @property
    def num_tiers(self) -> int:
        return len(self.tiers)

    @property
    def promotion_policy(self) -> PromotionPolicy:
        return self._promotion

    @property
    def hit_rate(self) -> float:
        """Reads answered by a cache tier / reads."""
        return sum(self._tier_hits.values()) / self._reads if self._reads else 0.0

    def get(self, key: Hashable) -> Generator[Any, Any, Any]:
        self._reads += 1
        self._accesses[key] = self._accesses.get(key, 0) + 1
        for k, tier in enumerate(self.tiers):
            if tier.contains_cached(key):
                value = yield from tier.get(key)
                if value is not None:
                    self._tier_hits[k] += 1
                    self.increment("hits", tier=k)
                    if k > 0 and self._should_promote(key):
                        yield from _insert(self.tiers[0], key, value)
                        self._promotions += 1
                        self.increment("promotions")
                    return value
        value = yield from self.backing_store.get(key)
        if value is None:
            self._misses += 1
            self.increment("misses")
            return None
        self._store_hits += 1
        self.increment("hits", tier="store")
        yield from _insert(self.tiers[0], key, value)
        return value

    def _should_promote(self, key: Hashable) -> bool:
        if self._promotion is PromotionPolicy.ALWAYS:
            return True
        if self._promotion is PromotionPolicy.ON_SECOND_ACCESS:
            return self._accesses.get(key, 0) >= 2
        return False

    def put(self, key: Hashable, value: Any) -> Generator[Any, Any, None]:
        self._writes += 1
        yield from self.backing_store.put(key, value)
        for tier in self.tiers:
            tier.invalidate(key)
        yield from _insert(self.tiers[0], key, value)

    def delete(self, key: Hashable) -> Generator[Any, Any, bool]:
        cached = any(tier.contains_cached(key) for tier in self.tiers)
        for tier in self.tiers:
            tier.invalidate(key)
        stored = yield from self.backing_store.delete(key)
        self._accesses.pop(key, None)
        return cached or bool(stored)

    def invalidate(self, key: Hashable) -> None:
        for tier in self.tiers:
            tier.invalidate(key)

    def invalidate_all(self) -> None:
        for tier in self.tiers:
            tier.invalidate_all()
        self._accesses.clear()

    def get_tier_stats(self) -> dict[int, dict[str, int]]:
        """Per tier: hits, keys cached, capacity."""
        return {k: {"hits": self._tier_hits[k],
                    "cache_size": getattr(t, "cache_size", 0),
                    "capacity": getattr(t, "cache_capacity", 0)}
                for k, t in enumerate(self.tiers)}

    def handle_event(self, event: Event) -> None:
        return None


__all__ = ["MultiTierCache", "MultiTierCacheStats", "PromotionPolicy"]
