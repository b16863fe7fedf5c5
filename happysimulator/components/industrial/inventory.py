"""``InventoryBuffer``: stock with an (s, Q) reorder policy.

Each demand event takes ``context["quantity"]`` (default 1; a whole number >= 1,
anything else is a ``ValueError``) from stock: filled demand goes
to ``downstream`` as ``"Fulfilled"``; demand larger than the stock is a stockout
(nothing taken; sent to ``stockout_target`` as ``"Stockout"``). Whenever the stock is at
or below ``reorder_point`` with no order outstanding, an order of ``order_quantity``
arrives ``lead_time`` seconds later.

Observed: ``level`` (gauge: units in stock; time-weighted mean = average inventory),
``stockouts`` and ``orders`` (counters), ``demand`` (counter, units asked for).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

from happysimulator.components.industrial._common import at_start, check_count, check_seconds
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, gauge

_REPLENISH = "_InventoryReplenish"


@dataclass(frozen=True)
class InventoryStats:
    """Stock and counts (happysim 0.2.5 shape)."""

    current_stock: int = 0
    stockouts: int = 0
    reorders: int = 0
    items_consumed: int = 0
    items_replenished: int = 0

    @property
    def fill_rate(self) -> float:
        """Units served from stock / (units served + stockout events)."""
        total = self.items_consumed + self.stockouts
        return 1.0 if total == 0 else self.items_consumed / total


def _check_policy(initial_stock: int, reorder_point: int, order_quantity: int,
                  no_orders_ok: bool = False) -> None:
    check_count("initial_stock", initial_stock, 0)
    check_count("reorder_point", reorder_point, 0)
    if no_orders_ok:
        check_count("order_quantity", order_quantity, 0, " (0: never order)")
    else:
        check_count("order_quantity", order_quantity, 1)


def demand_quantity(owner: Entity, event: Event) -> int:
    """The units a demand event asks for: ``context["quantity"]`` (default 1), a whole
    number >= 1. Anything else (a negative demand would *add* stock, a fraction would
    leave a fractional stock) is a ``ValueError`` naming the valid range."""
    amount = event.context.get("quantity", 1)
    if (isinstance(amount, bool) or not isinstance(amount, numbers.Integral)
            or amount < 1):
        raise ValueError(
            f"{type(owner).__name__} {owner.name!r}: a demand's context['quantity'] must be "
            f"a whole number of units >= 1 (default 1), got {amount!r} "
            f"(event {event.event_type!r})")
    return int(amount)


class InventoryBuffer(ObservedEntity):
    """Stock consumed by demand events and replenished by (s, Q) orders."""

    observed_series = (
        gauge("level", "units", "units in stock"),
        counter("stockouts", "demands", "demands that found too little stock"),
        counter("orders", "orders", "replenishment orders placed"),
        counter("demand", "units", "units asked for"),
    )
    downstream_attributes = ("downstream", "supplier", "stockout_target")

    def __init__(self, name: str, initial_stock: int = 100, reorder_point: int = 20,
                 order_quantity: int = 50, lead_time: float = 5.0,
                 supplier: Entity | None = None, downstream: Entity | None = None,
                 stockout_target: Entity | None = None) -> None:
        _check_policy(initial_stock, reorder_point, order_quantity)
        check_seconds("lead_time", lead_time)
        super().__init__(name)
        self._stock = initial_stock
        self.reorder_point = reorder_point
        self.order_quantity = order_quantity
        self.lead_time = lead_time
        self.supplier = supplier
        self.downstream = downstream
        self.stockout_target = stockout_target
        self._stockouts = 0
        self._reorders = 0
        self._items_consumed = 0
        self._items_replenished = 0
        self._order_pending = False

    def downstream_entities(self) -> list[Entity]:
        return [e for e in (self.downstream, self.supplier, self.stockout_target)
                if e is not None]

    def set_clock(self, sim: Any) -> None:
        super().set_clock(sim)
        at_start(sim, lambda: self.set_gauge("level", self._stock))

    @property
    def stock(self) -> int:
        return self._stock

    @property
    def stats(self) -> InventoryStats:
        return InventoryStats(current_stock=self._stock, stockouts=self._stockouts,
                              reorders=self._reorders, items_consumed=self._items_consumed,
                              items_replenished=self._items_replenished)

    def handle_event(self, event: Event) -> list[Event]:
        if event.event_type == _REPLENISH and event.target is self:
            qty = event.context.get("quantity", self.order_quantity)
            self._stock += qty
            self._items_replenished += qty
            self._order_pending = False
            self.set_gauge("level", self._stock)
            # (an order that did not lift the stock above s is followed by another)
            return self._maybe_reorder()
        amount = demand_quantity(self, event)
        out: list[Event] = []
        self.increment("demand", amount)
        if self._stock >= amount:
            self._stock -= amount
            self._items_consumed += amount
            self.set_gauge("level", self._stock)
            if self.downstream is not None:
                out.append(self.forward(event, self.downstream, "Fulfilled"))
        else:
            self._stockouts += 1
            self.increment("stockouts")
            if self.stockout_target is not None:
                out.append(self.forward(event, self.stockout_target, "Stockout"))
        out.extend(self._maybe_reorder())
        return out

    def _maybe_reorder(self) -> list[Event]:
        if self._stock > self.reorder_point or self._order_pending:
            return []
        self._order_pending = True
        self._reorders += 1
        self.increment("orders")
        return [Event(self.now + self.lead_time, _REPLENISH, self,
                      context={"quantity": self.order_quantity})]


__all__ = ["InventoryBuffer", "InventoryStats", "demand_quantity"]
