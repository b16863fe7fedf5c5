"""Data stores: key-value stores, caches (eviction and write policies, multi-tier,
soft TTL, warming), sharded and replicated stores, a database with transactions.
Every store is a process-facing entity (``value = yield from store.get(key)``) that
records what its users ask about (hits, misses, evictions, size, ...)."""

from happysimulator.components.datastore.cache_warming import CacheWarmer, CacheWarmerStats
from happysimulator.components.datastore.cached_store import CachedStore, CachedStoreStats
from happysimulator.components.datastore.database import (
    Connection,
    Database,
    DatabaseStats,
    Transaction,
    TransactionState,
)
from happysimulator.components.datastore.eviction_policies import (
    CacheEvictionPolicy,
    ClockEviction,
    FIFOEviction,
    LFUEviction,
    LRUEviction,
    RandomEviction,
    SampledLRUEviction,
    SLRUEviction,
    TTLEviction,
    TwoQueueEviction,
)
from happysimulator.components.datastore.kv_store import KVStore, KVStoreStats
from happysimulator.components.datastore.multi_tier_cache import (
    MultiTierCache,
    MultiTierCacheStats,
    PromotionPolicy,
)
from happysimulator.components.datastore.replicated_store import (
    ConsistencyLevel,
    ReplicatedStore,
    ReplicatedStoreStats,
)
from happysimulator.components.datastore.sharded_store import (
    ConsistentHashSharding,
    HashSharding,
    RangeSharding,
    ShardedStore,
    ShardedStoreStats,
    ShardingStrategy,
)
from happysimulator.components.datastore.soft_ttl_cache import (
    CacheEntry,
    SoftTTLCache,
    SoftTTLCacheStats,
)
from happysimulator.components.datastore.write_policies import (
    WriteAround,
    WriteBack,
    WritePolicy,
    WriteThrough,
)

__all__ = [
    "CacheEntry",
    "CacheWarmer",
    "CacheWarmerStats",
    "Connection",
    "ConsistencyLevel",
    "Database",
    "DatabaseStats",
    "Transaction",
    "TransactionState",
    "ConsistentHashSharding",
    "HashSharding",
    "MultiTierCache",
    "MultiTierCacheStats",
    "PromotionPolicy",
    "RangeSharding",
    "ReplicatedStore",
    "ReplicatedStoreStats",
    "ShardedStore",
    "ShardedStoreStats",
    "ShardingStrategy",
    "SoftTTLCache",
    "SoftTTLCacheStats",
    "CacheEvictionPolicy",
    "CachedStore",
    "CachedStoreStats",
    "ClockEviction",
    "FIFOEviction",
    "KVStore",
    "KVStoreStats",
    "LFUEviction",
    "LRUEviction",
    "RandomEviction",
    "SLRUEviction",
    "SampledLRUEviction",
    "TTLEviction",
    "TwoQueueEviction",
    "WriteAround",
    "WriteBack",
    "WritePolicy",
    "WriteThrough",
]
