"""Operations components: banks, call centers, factories, warehouses, hospitals.

Balking and reneging customers, machine breakdowns, shifts, inventories, conveyors,
inspection, batching, gates, routing, pooled units, preemption and fan-out/fan-in. Each
records its own series (``balked``, ``reneged``, ``up``, ``capacity``, ``level``,
``occupancy``, ``passed``/``reworked``/``scrapped``, ``preempted``, ...) with no extra
code. The module paths and names are those of happysim 0.2.5 (``docs/compatibility.md``).
"""

from happysimulator.components.industrial.appointment import (
    AppointmentScheduler,
    AppointmentStats,
)
from happysimulator.components.industrial.balking import BalkingQueue
from happysimulator.components.industrial.batch_processor import (
    BatchProcessor,
    BatchProcessorStats,
)
from happysimulator.components.industrial.breakdown import (
    Breakable,
    BreakdownScheduler,
    BreakdownStats,
)
from happysimulator.components.industrial.conditional_router import (
    ConditionalRouter,
    RouterStats,
)
from happysimulator.components.industrial.conveyor import ConveyorBelt, ConveyorStats
from happysimulator.components.industrial.gate_controller import GateController, GateStats
from happysimulator.components.industrial.inspection import (
    InspectionStation,
    InspectionStats,
)
from happysimulator.components.industrial.inventory import InventoryBuffer, InventoryStats
from happysimulator.components.industrial.perishable_inventory import (
    PerishableInventory,
    PerishableInventoryStats,
)
from happysimulator.components.industrial.pooled_cycle import (
    PooledCycleResource,
    PooledCycleStats,
)
from happysimulator.components.industrial.preemptible_resource import (
    PreemptibleGrant,
    PreemptibleResource,
    PreemptibleResourceStats,
)
from happysimulator.components.industrial.reneging import (
    RenegingQueuedResource,
    RenegingStats,
)
from happysimulator.components.industrial.shift_schedule import (
    Shift,
    ShiftedServer,
    ShiftSchedule,
)
from happysimulator.components.industrial.split_merge import SplitMerge, SplitMergeStats

__all__ = [
    "AppointmentScheduler",
    "AppointmentStats",
    "BalkingQueue",
    "BatchProcessor",
    "BatchProcessorStats",
    "Breakable",
    "BreakdownScheduler",
    "BreakdownStats",
    "ConditionalRouter",
    "ConveyorBelt",
    "ConveyorStats",
    "GateController",
    "GateStats",
    "InspectionStation",
    "InspectionStats",
    "InventoryBuffer",
    "InventoryStats",
    "PerishableInventory",
    "PerishableInventoryStats",
    "PooledCycleResource",
    "PooledCycleStats",
    "PreemptibleGrant",
    "PreemptibleResource",
    "PreemptibleResourceStats",
    "RenegingQueuedResource",
    "RenegingStats",
    "RouterStats",
    "Shift",
    "ShiftSchedule",
    "ShiftedServer",
    "SplitMerge",
    "SplitMergeStats",
]
