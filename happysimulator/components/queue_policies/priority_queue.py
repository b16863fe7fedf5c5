"""Priority queue: the lowest priority value first, ties in arrival order."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from happysimulator.components.queue_policies._base import DROPPED, ActiveQueuePolicy


@runtime_checkable
class Prioritized(Protocol):
    """An item that knows its priority (lower is served first)."""

    @property
    def priority(self) -> float: ...


class PriorityQueue(ActiveQueuePolicy):
    """Serves the item with the lowest ``key(item)`` first (ties: first come, first
    served). Without ``key`` an item's ``priority`` attribute, else the item itself, is
    its priority. Owned by a resource the item is the request `Event`::

        Server("triage", queue_policy=PriorityQueue(key=lambda e: e.context["priority"]))

    Arrivals beyond ``capacity`` are refused (reason ``"capacity"``).
    """

    observed_series = (DROPPED,)

    def __init__(self, capacity: float = float("inf"),
                 key: Callable[[Any], float] | None = None) -> None:
        if capacity is None:
            capacity = float("inf")
        if capacity < 0:
            raise ValueError(f"capacity must be >= 0, got {capacity!r}")
        super().__init__()
        self._capacity = capacity
        self._key = key
        self._heap: list[tuple[Any, int, Any]] = []
        self._order = 0

    @property
    def capacity(self) -> float:
        return self._capacity

    def _priority(self, item: Any) -> Any:
        if self._key is not None:
            return self._key(item)
        if isinstance(item, Prioritized):
            return item.priority
        return item

    def push(self, item: Any) -> bool:
        if len(self._heap) >= self._capacity:
            self._discard(item, "capacity")
            return False
        heapq.heappush(self._heap, (self._priority(item), self._order, item))
        self._order += 1
        return True

    def pop(self) -> Any:
        return heapq.heappop(self._heap)[2] if self._heap else None

    def peek(self) -> Any:
        return self._heap[0][2] if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)


__all__ = ["PriorityQueue", "Prioritized"]
