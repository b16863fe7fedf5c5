"""Top-level names of the component toolkit, imported on first use.

``import happysimulator`` stays fast: ``happysimulator.Network`` imports
``happysimulator.components.network`` only when it is first asked for. Each toolkit
package lists its public names here (name -> module that defines it).
"""

from __future__ import annotations

# -- client, resilience, rate_limiter, load_balancer, routers, core extras
DISTRIBUTED_A: dict[str, str] = {}

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
}

# -- industrial, Resource
INDUSTRIAL: dict[str, str] = {}

LAZY_NAMES: dict[str, str] = {**DISTRIBUTED_A, **DISTRIBUTED_B, **INDUSTRIAL}
