"""``PerishableInventory``: stock that expires after a shelf life, with (s, Q) reorders.

Stock is kept as batches in arrival order and consumed oldest first. Every
``spoilage_check_interval_s`` (start with ``sim.schedule(inv.start_event())``) batches at
least ``shelf_life_s`` old are thrown away and reported to ``waste_target``
(``"Spoiled"``, ``context["quantity"]``).

Observed: ``level`` (gauge: units in stock), ``stockouts``, ``orders``, ``spoiled``
(units) and ``demand`` (units) counters.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from happysimulator.components.industrial._common import at_start, check_seconds
from happysimulator.components.industrial.inventory import _check_policy, demand_quantity
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, gauge
from happysimulator.core.temporal import Instant

_SPOILAGE_CHECK = "_SpoilageCheck"
_REPLENISH = "_PerishableReplenish"
_NS = 1_000_000_000


@dataclass(frozen=True)
class PerishableInventoryStats:
    """Stock and counts (happysim 0.2.5 shape)."""

    current_stock: int = 0
    total_consumed: int = 0
    total_spoiled: int = 0
    stockouts: int = 0
    reorders: int = 0

    @property
    def waste_rate(self) -> float:
        """Spoiled / (consumed + spoiled)."""
        total = self.total_consumed + self.total_spoiled
        return 0.0 if total == 0 else self.total_spoiled / total


class PerishableInventory(ObservedEntity):
    """Perishable stock: FIFO batches, periodic spoilage sweeps, (s, Q) reorders
    (``order_quantity=0``: never reorders).

    ``initial_stock_time``: when the initial stock was made (seconds); default: the
    simulation's start."""

    observed_series = (
        gauge("level", "units", "units in stock"),
        counter("stockouts", "demands", "demands that found too little stock"),
        counter("orders", "orders", "replenishment orders placed"),
        counter("spoiled", "units", "units thrown away at the end of their shelf life"),
        counter("demand", "units", "units asked for"),
    )
    downstream_attributes = ("downstream", "waste_target")

    def __init__(self, name: str, initial_stock: int = 100, shelf_life_s: float = 3600.0,
                 spoilage_check_interval_s: float = 60.0, reorder_point: int = 20,
                 order_quantity: int = 50, lead_time: float = 5.0,
                 downstream: Entity | None = None, waste_target: Entity | None = None,
                 initial_stock_time: float | None = None) -> None:
        _check_policy(initial_stock, reorder_point, order_quantity, no_orders_ok=True)
        if not shelf_life_s > 0 or not spoilage_check_interval_s > 0:
            raise ValueError("shelf_life_s and spoilage_check_interval_s must be > 0, got "
                             f"{shelf_life_s!r} and {spoilage_check_interval_s!r}")
        check_seconds("lead_time", lead_time)
        super().__init__(name)
        self.shelf_life_s = shelf_life_s
        self.spoilage_check_interval_s = spoilage_check_interval_s
        self.reorder_point = reorder_point
        self.order_quantity = order_quantity
        self.lead_time = lead_time
        self.downstream = downstream
        self.waste_target = waste_target
        # batches: [made at (ns), units]; made at None = the simulation's start
        made = None if initial_stock_time is None else round(initial_stock_time * _NS)
        self._batches: deque[list] = deque([[made, initial_stock]] if initial_stock else [])
        self._stock = initial_stock
        self._total_consumed = 0
        self._total_spoiled = 0
        self._stockouts = 0
        self._reorders = 0
        self._order_pending = False

    def downstream_entities(self) -> list[Entity]:
        return [e for e in (self.downstream, self.waste_target) if e is not None]

    def set_clock(self, sim: Any) -> None:
        super().set_clock(sim)
        start = getattr(sim, "start_ns", None)
        if start is not None:
            for batch in self._batches:
                if batch[0] is None:
                    batch[0] = start
        at_start(sim, lambda: self.set_gauge("level", self._stock))

    @property
    def stock(self) -> int:
        return self._stock

    @property
    def stats(self) -> PerishableInventoryStats:
        return PerishableInventoryStats(
            current_stock=self._stock, total_consumed=self._total_consumed,
            total_spoiled=self._total_spoiled, stockouts=self._stockouts,
            reorders=self._reorders)

    def start_event(self) -> Event:
        """The first spoilage sweep (each sweep schedules the next)."""
        return Event(Instant.from_seconds(self.spoilage_check_interval_s), _SPOILAGE_CHECK,
                     self, daemon=True)

    def handle_event(self, event: Event) -> list[Event]:
        now = self._sim.now_ns
        for batch in self._batches:
            if batch[0] is None:  # (never registered: made when first used)
                batch[0] = now
        kind = event.event_type if event.target is self else None
        if kind == _SPOILAGE_CHECK:
            return self._sweep(now)
        if kind == _REPLENISH:
            qty = event.context.get("quantity", self.order_quantity)
            self._batches.append([now, qty])
            self._stock += qty
            self._order_pending = False
            self.set_gauge("level", self._stock)
            return self._maybe_reorder()
        amount = demand_quantity(self, event)
        self.increment("demand", amount)
        out: list[Event] = []
        if self._stock >= amount:
            self._take(amount)
            self._total_consumed += amount
            self.set_gauge("level", self._stock)
            if self.downstream is not None:
                out.append(self.forward(event, self.downstream, "Fulfilled"))
        else:
            self._stockouts += 1
            self.increment("stockouts")
        out.extend(self._maybe_reorder())
        return out

    def _take(self, amount: int) -> None:
        """Remove `amount` units, oldest batches first."""
        self._stock -= amount
        batches = self._batches
        while amount > 0 and batches:
            head = batches[0]
            if head[1] <= amount:
                amount -= head[1]
                batches.popleft()
            else:
                head[1] -= amount
                amount = 0

    def _sweep(self, now: int) -> list[Event]:
        life = self.shelf_life_s * _NS
        spoiled = 0
        batches = self._batches
        while batches and now - batches[0][0] >= life:
            spoiled += batches.popleft()[1]
        out: list[Event] = []
        if spoiled:
            self._stock -= spoiled
            self._total_spoiled += spoiled
            self.increment("spoiled", spoiled)
            self.set_gauge("level", self._stock)
            if self.waste_target is not None:
                out.append(Event(self.now, "Spoiled", self.waste_target,
                                 context={"quantity": spoiled}))
        out.extend(self._maybe_reorder())
        out.append(Event(self.now + self.spoilage_check_interval_s, _SPOILAGE_CHECK, self,
                         daemon=True))
        return out

    def _maybe_reorder(self) -> list[Event]:
        if (self._stock > self.reorder_point or self._order_pending
                or self.order_quantity == 0):
            return []
        self._order_pending = True
        self._reorders += 1
        self.increment("orders")
        return [Event(self.now + self.lead_time, _REPLENISH, self,
                      context={"quantity": self.order_quantity})]


__all__ = ["PerishableInventory", "PerishableInventoryStats"]
