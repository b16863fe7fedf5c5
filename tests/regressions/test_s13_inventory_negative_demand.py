"""An `InventoryBuffer` demand with a negative (or fractional) ``context["quantity"]``
is silently accepted: a demand of -10 units *adds* 10 units to the stock, counts as
"consumed" -10, and the ``demand`` counter's sum goes negative. No error, no stockout.

Repro (session 13, rev5): ``InventoryBuffer("I", initial_stock=5, reorder_point=2)``;
demands at t=1 with quantity -10 and at t=3 with quantity 2.5. Observed: ``stock`` 12.5,
``stats.items_consumed`` -7.5, ``demand`` sum -7.5, ``level`` last 12.5. Expected: a
demand quantity must be a positive number of units (an int >= 1; the peer's docs say
"Consume events decrement stock"): a clear ``ValueError`` naming the request and the
valid range, and the stock untouched. Area: happysimulator/components/industrial/
inventory.py (handle_event: ``amount = event.context.get("quantity", 1)`` unchecked);
perishable_inventory.py has the same read.
"""

from __future__ import annotations

import pytest

from happysimulator import Event, Instant, Simulation
from happysimulator.components.industrial import InventoryBuffer


@pytest.mark.parametrize("quantity", [-10, 2.5])
def test_a_demand_quantity_must_be_a_positive_whole_number(quantity: float) -> None:
    inv = InventoryBuffer("I", initial_stock=5, reorder_point=2)
    sim = Simulation(entities=[inv], seed=1, end_time=10.0)
    sim.schedule(Event(Instant.from_seconds(1.0), "Demand", inv,
                       context={"quantity": quantity}))
    with pytest.raises(ValueError, match="quantity"):
        sim.run()
    assert inv.stock == 5
