"""Both inventories refuse a demand that is not a whole number of units >= 1 (a negative
one would add stock), and still take a valid one (numpy ints included)."""

from __future__ import annotations

import numpy as np
import pytest

from happysimulator import Event, Instant, Simulation
from happysimulator.components.industrial import InventoryBuffer, PerishableInventory


def _inventories():
    return [InventoryBuffer("I", initial_stock=5, reorder_point=0),
            PerishableInventory("P", initial_stock=5, reorder_point=0)]


def _demand(inv, quantity) -> None:
    sim = Simulation(entities=[inv], seed=1, end_time=2.0)  # (before any reorder arrives)
    context = {} if quantity is None else {"quantity": quantity}
    sim.schedule(Event(Instant.from_seconds(1.0), "Demand", inv, context=context))
    sim.run()


@pytest.mark.parametrize("quantity", [0, -1, 2.5, 1.0, "2", True])
@pytest.mark.parametrize("which", [0, 1])
def test_bad_quantity_is_refused_and_stock_untouched(which, quantity) -> None:
    inv = _inventories()[which]
    with pytest.raises(ValueError, match=r"quantity.*whole number of units >= 1"):
        _demand(inv, quantity)
    assert inv.stock == 5


@pytest.mark.parametrize("quantity, left", [(None, 4), (3, 2), (np.int64(5), 0)])
@pytest.mark.parametrize("which", [0, 1])
def test_valid_quantity_is_taken(which, quantity, left) -> None:
    inv = _inventories()[which]
    _demand(inv, quantity)
    assert inv.stock == left
