"""Load balancing: ``LoadBalancer`` with strategies (``RoundRobin``,
``WeightedRoundRobin``, ``Random``, ``LeastConnections``, ``WeightedLeastConnections``,
``LeastResponseTime``, ``IPHash``, ``ConsistentHash``, ``PowerOfTwoChoices``) and active
health checks (``HealthChecker``)."""

from happysimulator.components.load_balancer.health_check import (
    BackendHealthState,
    HealthChecker,
    HealthCheckStats,
)
from happysimulator.components.load_balancer.load_balancer import (
    BackendInfo,
    LoadBalancer,
    LoadBalancerStats,
)
from happysimulator.components.load_balancer.strategies import (
    ConsistentHash,
    IPHash,
    LeastConnections,
    LeastResponseTime,
    LoadBalancingStrategy,
    PowerOfTwoChoices,
    Random,
    RoundRobin,
    WeightedLeastConnections,
    WeightedRoundRobin,
)

__all__ = [
    "BackendHealthState",
    "BackendInfo",
    "ConsistentHash",
    "HealthCheckStats",
    "HealthChecker",
    "IPHash",
    "LeastConnections",
    "LeastResponseTime",
    "LoadBalancer",
    "LoadBalancerStats",
    "LoadBalancingStrategy",
    "PowerOfTwoChoices",
    "Random",
    "RoundRobin",
    "WeightedLeastConnections",
    "WeightedRoundRobin",
]
