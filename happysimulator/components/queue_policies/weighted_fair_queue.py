"""Weighted fair queuing: flows served round robin, ``weight`` requests per turn."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from happysimulator.components.queue_policies._base import DROPPED, ActiveQueuePolicy
from happysimulator.core.observed import gauge


@dataclass(frozen=True)
class WeightedFairQueueStats:
    """Counts of a `WeightedFairQueue`."""

    enqueued: int = 0
    dequeued: int = 0
    rejected_capacity: int = 0
    flows_created: int = 0
    flows_removed: int = 0


class _Flow:
    __slots__ = ("items", "weight")

    def __init__(self, weight: int) -> None:
        self.items: deque[Any] = deque()
        self.weight = weight


class WeightedFairQueue(ActiveQueuePolicy):
    """Weighted round robin over flows: in its turn a flow is served up to
    ``get_weight(flow_id)`` items (weights below 1 count as 1), so with backlogged flows
    each gets a share of service proportional to its weight. Refusals (reason
    ``"capacity"``): ``capacity`` items in total or ``per_flow_capacity`` in the flow.
    """

    observed_series = (DROPPED, gauge("flows", "flows", "flows with waiting requests"))

    def __init__(self, get_flow_id: Callable[[Any], Hashable],
                 get_weight: Callable[[Hashable], int], capacity: int | None = None,
                 per_flow_capacity: int | None = None) -> None:
        if capacity is not None and capacity < 1:
            raise ValueError(f"capacity must be >= 1 or None, got {capacity!r}")
        if per_flow_capacity is not None and per_flow_capacity < 1:
            raise ValueError(f"per_flow_capacity must be >= 1 or None, got {per_flow_capacity!r}")
        super().__init__()
        self._get_flow_id = get_flow_id
        self._get_weight = get_weight
        self._capacity = float("inf") if capacity is None else capacity
        self._per_flow_capacity = float("inf") if per_flow_capacity is None else per_flow_capacity
        self._flows: dict[Hashable, _Flow] = {}
        self._ring: deque[Hashable] = deque()  # flows with items; the first is in its turn
        self._left = 0  # items the flow in its turn may still take
        self._size = 0
        self._enqueued = self._dequeued = self._rejected = 0
        self._created = self._removed = 0

    @property
    def stats(self) -> WeightedFairQueueStats:
        return WeightedFairQueueStats(self._enqueued, self._dequeued, self._rejected,
                                      self._created, self._removed)

    @property
    def capacity(self) -> float:
        return self._capacity

    @property
    def flow_count(self) -> int:
        return len(self._flows)

    def get_flow_depth(self, flow_id: Hashable) -> int:
        f = self._flows.get(flow_id)
        return 0 if f is None else len(f.items)

    def get_flow_weight(self, flow_id: Hashable) -> int:
        """The weight `flow_id` is served with."""
        f = self._flows.get(flow_id)
        return f.weight if f is not None else max(1, int(self._get_weight(flow_id)))

    def push(self, item: Any) -> bool:
        if self._size >= self._capacity:
            self._rejected += 1
            self._discard(item, "capacity")
            return False
        flow_id = self._get_flow_id(item)
        f = self._flows.get(flow_id)
        if f is None:
            f = self._flows[flow_id] = _Flow(max(1, int(self._get_weight(flow_id))))
            self._ring.append(flow_id)
            self._created += 1
            if len(self._ring) == 1:
                self._left = f.weight
            self._gauge("flows", len(self._flows))
        if len(f.items) >= self._per_flow_capacity:
            self._rejected += 1
            self._discard(item, "capacity")
            return False
        f.items.append(item)
        self._size += 1
        self._enqueued += 1
        return True

    def pop(self) -> Any:
        if not self._ring:
            return None
        flow_id = self._ring[0]
        f = self._flows[flow_id]
        item = f.items.popleft()
        self._size -= 1
        self._dequeued += 1
        self._left -= 1
        if not f.items:
            self._ring.popleft()
            del self._flows[flow_id]
            self._removed += 1
            self._gauge("flows", len(self._flows))
            self._next_turn()
        elif self._left <= 0:
            self._ring.rotate(-1)
            self._next_turn()
        return item

    def _next_turn(self) -> None:
        self._left = self._flows[self._ring[0]].weight if self._ring else 0

    def peek(self) -> Any:
        return self._flows[self._ring[0]].items[0] if self._ring else None

    def __len__(self) -> int:
        return self._size


__all__ = ["WeightedFairQueue", "WeightedFairQueueStats"]
