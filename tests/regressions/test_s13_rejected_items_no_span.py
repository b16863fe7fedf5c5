"""An item refused by a full `ConveyorBelt`, `GateController` or `PooledCycleResource`
leaves no span: the ``rejected`` counter counts it, but its trace ends upstream with no
record of where it was lost. A `Server` (or a `QueuedResource`, or a reneging/balking
line under one) records a refused request as a span marked ``status: dropped``, so
"where did request 7 end?" has an answer there and none here.

Repro (session 13, rev5): 6 items at t = 0, 0.1, ..., 0.5 into
``ConveyorBelt(transit_time=2, capacity=2)`` / ``GateController(initially_open=False,
queue_capacity=2)`` / ``PooledCycleResource(pool_size=1, cycle_time=2,
queue_capacity=1)``, ``ObservabilityConfig.full()``. Observed: ``rejected`` 4 and 0
spans with status dropped (belt: 2 ok spans; gate: none; pool: 2 ok). Expected: 4
spans marked dropped, ending at the refusal, as a Server's drops. Area:
happysimulator/components/industrial/{conveyor,gate_controller,pooled_cycle}.py (the
rejection paths record no span).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from happysimulator import Event, Instant, Simulation, Sink
from happysimulator.components.industrial import (
    ConveyorBelt,
    GateController,
    PooledCycleResource,
)
from happysimulator.observability import ObservabilityConfig

_MAKE: dict[str, Callable[[Sink], Any]] = {
    "conveyor": lambda s: ConveyorBelt("X", downstream=s, transit_time=2.0, capacity=2),
    "gate": lambda s: GateController("X", downstream=s, initially_open=False, queue_capacity=2),
    "pool": lambda s: PooledCycleResource("X", pool_size=1, cycle_time=2.0, downstream=s,
                                          queue_capacity=1),
}


@pytest.mark.parametrize("what", sorted(_MAKE))
def test_a_rejected_item_has_a_dropped_span(what: str) -> None:
    sink = Sink("S")
    comp = _MAKE[what](sink)
    sim = Simulation(entities=[comp, sink], seed=1, end_time=50.0,
                     observability=ObservabilityConfig.full())
    for k in range(6):
        sim.schedule(Event(Instant.from_seconds(0.1 * k), "Item", comp))
    sim.run()
    rejected = sim.query.metrics("rejected").from_entity("X").aggregate("sum").execute().scalar
    assert rejected == 4
    spans = sim.query.spans().from_entity("X").execute().rows
    dropped = [s for s in spans if (s["attributes"] or {}).get("status") == "dropped"]
    assert len(dropped) == rejected, spans
