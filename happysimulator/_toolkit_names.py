"""Top-level names of the component toolkit, imported on first use.

``import happysimulator`` stays fast: ``happysimulator.Network`` imports
``happysimulator.components.network`` only when it is first asked for. Each toolkit
package lists its public names here (name -> module that defines it).
"""

from __future__ import annotations

# -- client, resilience, rate_limiter, load_balancer, routers, core extras
DISTRIBUTED_A: dict[str, str] = {}

# -- queue_policies, network, faults, sync, datastore
DISTRIBUTED_B: dict[str, str] = {}

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
