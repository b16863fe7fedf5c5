"""Several industrial components check a duration with ``x < 0``, which a NaN passes:
the NaN is accepted at construction and fails (or silently does nothing) later, far from
its cause. ``ConveyorBelt(transit_time=nan)`` raises "cannot convert float NaN to
integer" at the first item; ``InventoryBuffer(lead_time=nan)`` raises "time in seconds
must not be NaN" at the first reorder; ``BalkingQueue(balk_threshold=nan)`` never balks;
``AppointmentScheduler(appointments=[-1.0])`` fails at ``sim.run()`` with "cannot
schedule ... in the past". (Their siblings -- ``BreakdownScheduler``, ``Shift``,
``PerishableInventory(shelf_life_s=nan)``, ``InspectionStation(pass_rate=nan)`` --
refuse NaN at construction with ``not x >= 0``.)

Repro (session 13, rev5): each constructor below with NaN. Observed: no error.
Expected: ``ValueError`` at construction naming the parameter. Area:
happysimulator/components/industrial/{conveyor,batch_processor,pooled_cycle,inspection,
inventory,perishable_inventory,balking,appointment,gate_controller}.py (__init__).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from happysimulator import Sink
from happysimulator.components.industrial import (
    AppointmentScheduler,
    BalkingQueue,
    BatchProcessor,
    ConveyorBelt,
    GateController,
    InspectionStation,
    InventoryBuffer,
    PerishableInventory,
    PooledCycleResource,
)
from happysimulator.components.queue_policy import FIFOQueue

NAN = float("nan")
_S = Sink("S")
_BUILD: dict[str, tuple[str, Callable[[], Any]]] = {
    "conveyor transit_time": ("transit_time", lambda: ConveyorBelt(
        "C", downstream=_S, transit_time=NAN)),
    "batch process_time": ("process_time", lambda: BatchProcessor(
        "B", downstream=_S, process_time=NAN)),
    "batch timeout_s": ("timeout_s", lambda: BatchProcessor(
        "B", downstream=_S, timeout_s=NAN)),
    "pool cycle_time": ("cycle_time", lambda: PooledCycleResource(
        "P", pool_size=1, cycle_time=NAN, downstream=_S)),
    "inspection_time": ("inspection_time", lambda: InspectionStation(
        "Q", pass_target=_S, fail_target=_S, inspection_time=NAN)),
    "inventory lead_time": ("lead_time", lambda: InventoryBuffer("I", lead_time=NAN)),
    "perishable lead_time": ("lead_time", lambda: PerishableInventory("P", lead_time=NAN)),
    "balk_threshold": ("balk_threshold", lambda: BalkingQueue(
        FIFOQueue(), balk_threshold=NAN)),
    "appointment nan": ("appointment", lambda: AppointmentScheduler(
        "A", target=_S, appointments=[NAN])),
    "appointment negative": ("appointment", lambda: AppointmentScheduler(
        "A", target=_S, appointments=[-1.0])),
    "gate schedule nan": ("schedule", lambda: GateController(
        "G", downstream=_S, schedule=[(NAN, 1.0)])),
}


@pytest.mark.parametrize("what", sorted(_BUILD))
def test_a_nan_parameter_is_refused_at_construction(what: str) -> None:
    param, build = _BUILD[what]
    with pytest.raises(ValueError, match=param):
        build()
