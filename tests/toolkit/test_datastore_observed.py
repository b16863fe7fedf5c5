"""Stores and caches: hits / misses / evictions / size in the catalog before the run and
adding up after it; theory: under independent uniform requests over K keys a cache of C
entries hits C/K of the time; write-back never loses a write."""

from __future__ import annotations

import math

import pytest

from happysimulator import Entity, Simulation, Source
from happysimulator.components.datastore import (
    CachedStore,
    KVStore,
    LRUEviction,
    ReplicatedStore,
    SoftTTLCache,
)
from happysimulator.observability import ObservabilityConfig


class Reader(Entity):
    def __init__(self, name, store, keys):
        super().__init__(name)
        self.store = store
        self.keys = keys

    def handle_event(self, event):
        key = self.keys[self.rng.randrange(len(self.keys))]
        yield from self.store.get(key)


def _sum(sim, name, entity):
    return sim.query.metrics(name).from_entity(entity).aggregate("sum").execute().scalar or 0.0


def test_lru_cache_hit_ratio_is_c_over_k_for_uniform_requests():
    keys = [f"k{i}" for i in range(100)]
    db = KVStore("db", read_latency=0.001)
    for k in keys:
        db.put_sync(k, k.upper())
    cache = CachedStore("cache", db, cache_capacity=20, eviction_policy=LRUEviction())
    reader = Reader("reader", cache, keys)
    n = 20000
    source = Source.constant(rate=1000.0, target=reader, limit=n)
    sim = Simulation(sources=[source], entities=[reader, cache, db], seed=3,
                     observability=ObservabilityConfig.full())
    listed = {(m["source"], m["name"]) for m in sim.query.catalog()["metrics"]}
    assert {("cache", "hits"), ("cache", "misses"), ("cache", "evictions"),
            ("db", "size")} <= listed
    sim.run()
    hits, misses = _sum(sim, "hits", "cache"), _sum(sim, "misses", "cache")
    assert (hits, misses) == (cache.stats.hits, cache.stats.misses)
    assert hits + misses == n
    assert _sum(sim, "evictions", "cache") == cache.stats.evictions == misses - 20
    # C/K = 0.2, within 4 binomial standard errors (after the 20 cold misses)
    assert abs(hits / n - 0.2) < 4 * math.sqrt(0.2 * 0.8 / n) + 20 / n
    size = sim.query.metrics("size").from_entity("cache").aggregate("max").execute().scalar
    assert size == 20


def test_write_back_never_loses_a_write():
    db = KVStore("db", write_latency=0.002)
    cache = CachedStore("cache", db, cache_capacity=3, eviction_policy=LRUEviction(),
                        write_through=False)

    class Writer(Entity):
        def handle_event(self, event):
            for i in range(10):
                yield from cache.put(f"k{i}", i)
            yield from cache.flush()

    writer = Writer("writer")
    source = Source.constant(rate=1.0, target=writer, limit=1)
    sim = Simulation(sources=[source], entities=[writer, cache, db],
                     observability=ObservabilityConfig.full())
    sim.run()
    assert {k: db.get_sync(k) for k in db.keys()} == {f"k{i}": i for i in range(10)}
    assert _sum(sim, "writebacks", "cache") == cache.stats.writebacks == 10


def test_soft_ttl_serves_stale_while_one_refresh_runs():
    db = KVStore("db", read_latency=0.05)
    db.put_sync("k", 1)
    cache = SoftTTLCache("swr", db, soft_ttl=1.0, hard_ttl=10.0)
    reader = Reader("reader", cache, ["k"])
    source = Source.constant(rate=100.0, target=reader, limit=300)  # 3 s of reads
    sim = Simulation(sources=[source], entities=[reader, cache, db],
                     observability=ObservabilityConfig.full())
    sim.run()
    q = sim.query.metrics("hits").from_entity("swr")
    stale = q.where(freshness="stale").aggregate("sum").execute().scalar
    assert stale == cache.stats.stale_hits > 0
    # one refresh per soft-TTL expiry (at ~1 s and ~2 s), not one per stale read
    assert cache.stats.background_refreshes == 2
    # the cold-start misses while the first load runs wait for it (coalesced): the
    # store is read once for them and once per refresh
    assert _sum(sim, "misses", "swr") == 1 + _sum(sim, "coalesced", "swr")
    assert db.stats.reads == 1 + 2


def test_quorum_read_waits_for_the_kth_fastest_replica():
    replicas = [KVStore(f"r{i}", read_latency=lat) for i, lat in enumerate((0.01, 0.05, 0.2))]
    for r in replicas:
        r.put_sync("k", "v")
    store = ReplicatedStore("rs", replicas)
    got = []

    class Client(Entity):
        def handle_event(self, event):
            start = self.now.to_seconds()
            value = yield from store.get("k")
            got.append((value, self.now.to_seconds() - start))

    client = Client("client")
    source = Source.constant(rate=1.0, target=client, limit=1)
    sim = Simulation(sources=[source], entities=[client, store, *replicas],
                     observability=ObservabilityConfig.full())
    sim.run()
    assert got == [("v", pytest.approx(0.05))]  # quorum 2 of 3: the second fastest
    lat = sim.query.metrics("read_latency").from_entity("rs").aggregate("max").execute()
    assert lat.scalar == pytest.approx(0.05)


def test_scatter_gather_takes_the_slowest_shard():
    from happysimulator.components.datastore import ShardedStore

    shards = [KVStore(f"s{i}", read_latency=lat) for i, lat in enumerate((0.01, 0.03))]
    store = ShardedStore("sharded", shards)
    keys = [f"k{i}" for i in range(20)]
    for k in keys:
        shards[store.get_shard_for_key(k)].put_sync(k, k)
    took = []

    class Client(Entity):
        def handle_event(self, event):
            start = self.now.to_seconds()
            found = yield from store.scatter_gather(keys)
            took.append((len(found), self.now.to_seconds() - start))

    client = Client("client")
    sim = Simulation(sources=[Source.constant(rate=1.0, target=client, limit=1)],
                     entities=[client, store, *shards],
                     observability=ObservabilityConfig.full())
    sim.run()
    per_shard = [sum(1 for k in keys if store.get_shard_for_key(k) == i) for i in (0, 1)]
    assert took == [(20, pytest.approx(max(per_shard[0] * 0.01, per_shard[1] * 0.03)))]
    by_shard = sim.query.metrics("reads").from_entity("sharded")
    assert by_shard.where(shard=1).aggregate("sum").execute().scalar == per_shard[1]
