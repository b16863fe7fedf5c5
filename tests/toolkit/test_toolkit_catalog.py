"""Every toolkit component's series are in the catalog before the run starts, and the
toolkit's top-level names import lazily."""

from __future__ import annotations

import subprocess
import sys

from happysimulator import ConstantLatency, Server, Simulation
from happysimulator.components.client import Client, ConnectionPool, PooledClient
from happysimulator.components.load_balancer import HealthChecker, LoadBalancer
from happysimulator.components.random_router import RandomRouter
from happysimulator.components.rate_limiter import (
    DistributedRateLimiter,
    Inductor,
    NullRateLimiter,
    RateLimitedEntity,
    TokenBucketPolicy,
)
from happysimulator.components.resilience import (
    Bulkhead,
    CircuitBreaker,
    Fallback,
    Hedge,
    TimeoutWrapper,
)
from happysimulator.core.observed import ObservedEntity, declared_series
from happysimulator.observability import ObservabilityConfig


def _every_component() -> list[ObservedEntity]:
    s = [Server(f"S{i}", concurrency=1, service_time=ConstantLatency(0.01)) for i in range(3)]
    lb = LoadBalancer("LB", backends=s)
    pool = ConnectionPool("Pool", s[0])
    return [
        *s, lb, pool,
        HealthChecker("HC", lb, interval=1.0, timeout=0.5),
        Client("Client", lb), PooledClient("PClient", pool),
        CircuitBreaker("CB", s[1]), Bulkhead("BH", s[1], max_concurrent=2),
        TimeoutWrapper("TW", s[1], timeout=1.0), Fallback("FB", s[1], s[2]),
        Hedge("Hedge", s[2], hedge_delay=0.1),
        RateLimitedEntity("RL", s[2], TokenBucketPolicy()),
        Inductor("Ind", s[2], time_constant=1.0), NullRateLimiter("Null", s[2]),
        DistributedRateLimiter("DRL", s[2], s[0], global_limit=10),
        RandomRouter("Router", targets=s),
    ]


def test_catalog_lists_every_components_series_before_the_run():
    entities = _every_component()
    sim = Simulation(entities=entities, observability=ObservabilityConfig.full())
    listed = {(m["source"], m["name"]): m["series_kind"]
              for m in sim.query.catalog()["metrics"]}
    components = [e for e in entities if isinstance(e, ObservedEntity)]
    assert len(components) == len(entities) - 3
    for entity in components:
        specs = declared_series(type(entity))
        assert specs, type(entity).__name__
        for spec in specs.values():
            assert listed.get((entity.name, spec.name)) == spec.kind, (entity.name, spec.name)


def test_contract_series_are_declared():
    contract = {
        Client: {"requests": "counter", "retries": "counter", "timeouts": "counter",
                 "failures": "counter", "latency": "sample"},
        CircuitBreaker: {"state": "gauge", "rejected": "counter"},
        RateLimitedEntity: {"admitted": "counter", "rejected": "counter", "tokens": "gauge"},
        Inductor: {"admitted": "counter", "rejected": "counter"},
        DistributedRateLimiter: {"admitted": "counter", "rejected": "counter"},
        LoadBalancer: {"routed": "counter"},
    }
    for cls, series in contract.items():
        specs = declared_series(cls)
        for name, kind in series.items():
            assert specs[name].kind == kind, (cls.__name__, name)
    assert declared_series(LoadBalancer)["routed"].tags == ("backend",)


def test_top_level_names_resolve_without_loading_the_toolkit_at_import():
    code = (
        "import sys, happysimulator as h\n"
        "assert 'happysimulator.components.rate_limiter' not in sys.modules\n"
        "from happysimulator import TokenBucketPolicy, RandomRouter, ThroughputTracker, "
        "Clock, NullEntity, SimulationControl, RateLimitedEntity, Inductor\n"
        "from happysimulator.components.rate_limiter import TokenBucketPolicy as T\n"
        "assert TokenBucketPolicy is T\n"
        "from happysimulator._toolkit_names import DISTRIBUTED_A\n"
        "[getattr(h, n) for n in DISTRIBUTED_A]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
