"""Top-level names of the component toolkit, imported on first use.

``import happysimulator`` stays fast: ``happysimulator.Network`` imports
``happysimulator.components.network`` only when it is first asked for. Each toolkit
package lists its public names here (name -> module that defines it).
"""

from __future__ import annotations

# -- client, resilience, rate_limiter, load_balancer, routers, core extras
DISTRIBUTED_A: dict[str, str] = {
    "AdaptivePolicy": "happysimulator.components.rate_limiter.policy",
    "FixedWindowPolicy": "happysimulator.components.rate_limiter.policy",
    "LeakyBucketPolicy": "happysimulator.components.rate_limiter.policy",
    "RateAdjustmentReason": "happysimulator.components.rate_limiter.policy",
    "RateLimiterPolicy": "happysimulator.components.rate_limiter.policy",
    "RateSnapshot": "happysimulator.components.rate_limiter.policy",
    "SlidingWindowPolicy": "happysimulator.components.rate_limiter.policy",
    "TokenBucketPolicy": "happysimulator.components.rate_limiter.policy",
    "Inductor": "happysimulator.components.rate_limiter.inductor",
    "InductorStats": "happysimulator.components.rate_limiter.inductor",
    "RateLimitedEntity": "happysimulator.components.rate_limiter.rate_limited_entity",
    "RateLimitedEntityStats": "happysimulator.components.rate_limiter.rate_limited_entity",
    "RandomRouter": "happysimulator.components.random_router",
    "ServerStats": "happysimulator.components.server.server",
    # names of the core that 0.2.5 exported at the top level and this engine keeps in
    # submodules
    "BreakpointContext": "happysimulator.core.control.state",
    "Clock": "happysimulator.core.clock",
    "ClockModel": "happysimulator.core.node_clock",
    "NullEntity": "happysimulator.core.callback_entity",
    "Simulatable": "happysimulator.core.protocols",
    "simulatable": "happysimulator.core.decorators",
    "SimulationControl": "happysimulator.observability.control",
    "EntitySummary": "happysimulator.instrumentation.summary",
    "QueueStats": "happysimulator.instrumentation.summary",
    "ThroughputTracker": "happysimulator.instrumentation.collectors",
    "__version__": "happysimulator._version",
}

# -- queue_policies, network, faults, sync, datastore
_NET = "happysimulator.components.network"
DISTRIBUTED_B: dict[str, str] = {
    "PriorityQueue": "happysimulator.components.queue_policies",
    "FaultSchedule": "happysimulator.faults",
    "LinkStats": _NET,
    "Network": _NET,
    "NetworkLink": _NET,
    "Partition": _NET,
    "cross_region_network": _NET,
    "datacenter_network": _NET,
    "internet_network": _NET,
    "local_network": _NET,
    "lossy_network": _NET,
    "mobile_3g_network": _NET,
    "mobile_4g_network": _NET,
    "satellite_network": _NET,
    "slow_network": _NET,
    # the partition declarations (the threaded ParallelSimulation is not provided)
    "PartitionLink": "happysimulator.parallel",
    "SimulationPartition": "happysimulator.parallel",
}

# -- industrial, Resource
INDUSTRIAL: dict[str, str] = {
    "Resource": "happysimulator.components.resource",
    "ResourceStats": "happysimulator.components.resource",
    "AppointmentScheduler": "happysimulator.components.industrial",
    "BalkingQueue": "happysimulator.components.industrial",
    "BatchProcessor": "happysimulator.components.industrial",
    "BreakdownScheduler": "happysimulator.components.industrial",
    "ConditionalRouter": "happysimulator.components.industrial",
    "ConveyorBelt": "happysimulator.components.industrial",
    "GateController": "happysimulator.components.industrial",
    "InspectionStation": "happysimulator.components.industrial",
    "InventoryBuffer": "happysimulator.components.industrial",
    "PerishableInventory": "happysimulator.components.industrial",
    "PooledCycleResource": "happysimulator.components.industrial",
    "PreemptibleGrant": "happysimulator.components.industrial",
    "PreemptibleResource": "happysimulator.components.industrial",
    "RenegingQueuedResource": "happysimulator.components.industrial",
    "Shift": "happysimulator.components.industrial",
    "ShiftedServer": "happysimulator.components.industrial",
    "ShiftSchedule": "happysimulator.components.industrial",
    "SplitMerge": "happysimulator.components.industrial",
}

LAZY_NAMES: dict[str, str] = {**DISTRIBUTED_A, **DISTRIBUTED_B, **INDUSTRIAL}
