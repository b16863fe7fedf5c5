"""Every component of queue_policies / network / faults / sync / datastore lists its
series in the catalog before the run, the contract series are declared with their kinds,
and the top-level names of these packages import lazily."""

from __future__ import annotations

import subprocess
import sys

from happysimulator import Server, Simulation
from happysimulator.components.datastore import (
    CachedStore,
    CacheWarmer,
    Database,
    KVStore,
    LRUEviction,
    MultiTierCache,
    ReplicatedStore,
    ShardedStore,
    SoftTTLCache,
)
from happysimulator.components.network import Network, NetworkLink
from happysimulator.components.queue_policies import (
    AdaptiveLIFO,
    CoDelQueue,
    DeadlineQueue,
    FairQueue,
    PriorityQueue,
    REDQueue,
    WeightedFairQueue,
)
from happysimulator.components.sync import Barrier, Condition, Mutex, RWLock, Semaphore
from happysimulator.core.observed import ObservedEntity, declared_series
from happysimulator.faults import FaultSchedule
from happysimulator.observability import ObservabilityConfig


def _components() -> list[ObservedEntity]:
    db = KVStore("kv")
    cached = CachedStore("cached", db, 10, LRUEviction())
    l2 = CachedStore("l2", KVStore("kv2"), 10, LRUEviction())
    mutex = Mutex("mutex")
    return [
        db, cached, l2, MultiTierCache("tiers", [cached, l2], db),
        SoftTTLCache("swr", KVStore("kv3"), 1.0, 2.0), ShardedStore("shards", [db]),
        ReplicatedStore("replicas", [KVStore("r0"), KVStore("r1")]),
        CacheWarmer("warmer", cached, ["a"]), Database("db"),
        NetworkLink("link", 0.001), Network("net"),
        mutex, Semaphore("sem", 2), RWLock("rw"), Barrier("bar", 2),
        Condition("cond", mutex), FaultSchedule("faults"),
    ]


_POLICIES = [CoDelQueue(), REDQueue(2, 6), FairQueue(lambda e: 0),
             WeightedFairQueue(lambda e: 0, lambda f: 1), DeadlineQueue(lambda e: 0.0),
             AdaptiveLIFO(3), PriorityQueue()]


def test_catalog_lists_every_series_before_the_run():
    entities = _components()
    servers = [Server(f"srv{k}", queue_policy=p) for k, p in enumerate(_POLICIES)]
    sim = Simulation(entities=[*entities, *servers], observability=ObservabilityConfig.full())
    listed = {(m["source"], m["name"]): m["series_kind"]
              for m in sim.query.catalog()["metrics"]}
    owners = [(e.name, type(e)) for e in entities]
    owners += [(f"{s.name}/queue", type(s.policy)) for s in servers]
    for name, cls in owners:
        specs = declared_series(cls)
        assert specs, cls.__name__
        for spec in specs.values():
            assert listed.get((name, spec.name)) == spec.kind, (name, spec.name)


def test_contract_series_are_declared():
    contract = {
        NetworkLink: {"delivered": "counter", "lost": "counter", "delay": "sample"},
        CachedStore: {"hits": "counter", "misses": "counter", "evictions": "counter"},
        KVStore: {"hits": "counter", "misses": "counter", "evictions": "counter",
                  "size": "gauge"},
        FaultSchedule: {"active_faults": "gauge"},
        Mutex: {"waiters": "gauge", "wait_time": "sample"},
    }
    for cls, series in contract.items():
        specs = declared_series(cls)
        for name, kind in series.items():
            assert specs[name].kind == kind, (cls.__name__, name)
    for policy in _POLICIES:
        assert declared_series(type(policy))["dropped"].tags == ("reason",)


def test_top_level_names_resolve_lazily():
    code = (
        "import sys, happysimulator as h\n"
        "assert 'happysimulator.components.network' not in sys.modules\n"
        "assert 'happysimulator.faults' not in sys.modules\n"
        "from happysimulator import Network, FaultSchedule, PriorityQueue, datacenter_network\n"
        "from happysimulator.components.network import Network as N\n"
        "assert Network is N\n"
        "from happysimulator._toolkit_names import DISTRIBUTED_B\n"
        "[getattr(h, n) for n in DISTRIBUTED_B]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
