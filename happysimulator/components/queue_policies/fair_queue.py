"""Fair queuing: one FIFO per flow, served round robin."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from happysimulator.components.queue_policies._base import DROPPED, ActiveQueuePolicy
from happysimulator.core.observed import gauge


@dataclass(frozen=True)
class FairQueueStats:
    """Counts of a `FairQueue` (refusals by per-flow capacity and by the flow limit)."""

    enqueued: int = 0
    dequeued: int = 0
    rejected_flow_capacity: int = 0
    rejected_max_flows: int = 0
    flows_created: int = 0
    flows_removed: int = 0


class FairQueue(ActiveQueuePolicy):
    """Per-flow queues served one request per flow in turn, so a heavy tenant cannot
    starve a light one. ``get_flow_id(item)`` names an item's flow (for an owned policy
    the item is the request `Event`: ``lambda e: e.context["metadata"]["tenant"]``).

    A flow exists while it has waiting items. Refusals: a new flow beyond ``max_flows``
    (reason ``"max_flows"``), a flow holding ``per_flow_capacity`` items
    (``"flow_capacity"``).
    """

    observed_series = (DROPPED, gauge("flows", "flows", "flows with waiting requests"))

    def __init__(self, get_flow_id: Callable[[Any], Hashable], max_flows: int | None = None,
                 per_flow_capacity: int | None = None) -> None:
        if max_flows is not None and max_flows < 1:
            raise ValueError(f"max_flows must be >= 1 or None, got {max_flows!r}")
        if per_flow_capacity is not None and per_flow_capacity < 1:
            raise ValueError(f"per_flow_capacity must be >= 1 or None, got {per_flow_capacity!r}")
        super().__init__()
        self._get_flow_id = get_flow_id
        self._max_flows = max_flows
        self._per_flow_capacity = float("inf") if per_flow_capacity is None else per_flow_capacity
        # the order is the round: the first flow is served next, then moves to the end
        self._flows: OrderedDict[Hashable, deque[Any]] = OrderedDict()
        self._size = 0
        self._enqueued = self._dequeued = 0
        self._rejected_flow = self._rejected_max = 0
        self._created = self._removed = 0

    @property
    def stats(self) -> FairQueueStats:
        return FairQueueStats(self._enqueued, self._dequeued, self._rejected_flow,
                              self._rejected_max, self._created, self._removed)

    @property
    def capacity(self) -> float:
        """``max_flows * per_flow_capacity`` (infinite unless both are set)."""
        if self._max_flows is None:
            return float("inf")
        return self._max_flows * self._per_flow_capacity

    @property
    def flow_count(self) -> int:
        return len(self._flows)

    @property
    def max_flows(self) -> int | None:
        return self._max_flows

    @property
    def per_flow_capacity(self) -> float:
        return self._per_flow_capacity

    def get_flow_depth(self, flow_id: Hashable) -> int:
        """Items waiting in `flow_id`'s queue."""
        q = self._flows.get(flow_id)
        return 0 if q is None else len(q)

    def push(self, item: Any) -> bool:
        flow = self._get_flow_id(item)
        q = self._flows.get(flow)
        if q is None:
            if self._max_flows is not None and len(self._flows) >= self._max_flows:
                self._rejected_max += 1
                self._discard(item, "max_flows")
                return False
            q = self._flows[flow] = deque()
            self._created += 1
            self._gauge("flows", len(self._flows))
        if len(q) >= self._per_flow_capacity:
            self._rejected_flow += 1
            self._discard(item, "flow_capacity")
            return False
        q.append(item)
        self._size += 1
        self._enqueued += 1
        return True

    def pop(self) -> Any:
        if not self._flows:
            return None
        flow, q = next(iter(self._flows.items()))
        item = q.popleft()
        self._size -= 1
        self._dequeued += 1
        if q:
            self._flows.move_to_end(flow)
        else:
            del self._flows[flow]
            self._removed += 1
            self._gauge("flows", len(self._flows))
        return item

    def peek(self) -> Any:
        if not self._flows:
            return None
        return next(iter(self._flows.values()))[0]

    def __len__(self) -> int:
        return self._size


__all__ = ["FairQueue", "FairQueueStats"]
