"""Deadline queue: earliest deadline first; requests past their deadline are discarded."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from happysimulator.components.queue_policies._base import DROPPED, ActiveQueuePolicy
from happysimulator.core.temporal import Instant


@dataclass(frozen=True)
class DeadlineQueueStats:
    """Counts of a `DeadlineQueue` (``expired``: discarded past their deadline)."""

    enqueued: int = 0
    dequeued: int = 0
    expired: int = 0
    capacity_rejected: int = 0


def _ns(deadline: Any) -> int:
    if isinstance(deadline, Instant):
        return deadline.nanoseconds
    if isinstance(deadline, int | float) and not isinstance(deadline, bool):
        return round(deadline * 1_000_000_000)  # seconds
    raise TypeError(f"get_deadline must return an Instant or seconds, got {deadline!r}")


class DeadlineQueue(ActiveQueuePolicy):
    """Serves the request with the earliest deadline (``get_deadline(item)``: an `Instant`
    or seconds); ties in arrival order. With a clock (given, or the owner's) requests
    whose deadline has passed are discarded when met (reason ``"expired"``): serving
    them would be wasted work. Arrivals beyond ``capacity`` are refused (``"capacity"``).
    """

    observed_series = (DROPPED,)

    def __init__(self, get_deadline: Callable[[Any], Instant | float],
                 capacity: int | None = None,
                 clock_func: Callable[[], Instant] | None = None) -> None:
        if capacity is not None and capacity < 1:
            raise ValueError(f"capacity must be >= 1 or None, got {capacity!r}")
        super().__init__(clock_func)
        self._get_deadline = get_deadline
        self._capacity = float("inf") if capacity is None else capacity
        self._heap: list[tuple[int, int, Any]] = []  # (deadline ns, arrival order, item)
        self._order = 0
        self._enqueued = self._dequeued = self._expired = self._capacity_rejected = 0

    @property
    def stats(self) -> DeadlineQueueStats:
        return DeadlineQueueStats(self._enqueued, self._dequeued, self._expired,
                                  self._capacity_rejected)

    @property
    def capacity(self) -> float:
        return self._capacity

    def _now(self) -> int | None:
        return self.now_ns() if self._has_clock() else None

    def push(self, item: Any) -> bool:
        if len(self._heap) >= self._capacity:
            self._capacity_rejected += 1
            self._discard(item, "capacity")
            return False
        heapq.heappush(self._heap, (_ns(self._get_deadline(item)), self._order, item))
        self._order += 1
        self._enqueued += 1
        return True

    def _expire_head(self, now: int | None) -> None:
        heap = self._heap
        while heap and now is not None and heap[0][0] < now:
            item = heapq.heappop(heap)[2]
            self._expired += 1
            self._discard(item, "expired")

    def pop(self) -> Any:
        self._expire_head(self._now())
        if not self._heap:
            return None
        self._dequeued += 1
        return heapq.heappop(self._heap)[2]

    def peek(self) -> Any:
        """The item `pop` would return now (expired ones are skipped, not removed)."""
        now = self._now()
        valid = [e for e in self._heap if now is None or e[0] >= now]
        return min(valid)[2] if valid else None

    def purge_expired(self) -> int:
        """Discard every expired item now; returns how many."""
        now = self._now()
        if now is None:
            return 0
        keep = [e for e in self._heap if e[0] >= now]
        gone = [e for e in self._heap if e[0] < now]
        self._heap = keep
        heapq.heapify(keep)
        for e in sorted(gone):
            self._expired += 1
            self._discard(e[2], "expired")
        return len(gone)

    def count_expired(self) -> int:
        """Items past their deadline, still held."""
        now = self._now()
        return 0 if now is None else sum(1 for e in self._heap if e[0] < now)

    def count_valid(self) -> int:
        return len(self._heap) - self.count_expired()

    def __len__(self) -> int:
        """Items held, including expired ones not yet met."""
        return len(self._heap)


__all__ = ["DeadlineQueue", "DeadlineQueueStats"]
