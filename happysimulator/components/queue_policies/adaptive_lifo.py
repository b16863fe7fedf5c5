"""Adaptive LIFO: FIFO while the queue is short, LIFO once it is congested."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from happysimulator.components.queue_policies._base import DROPPED, ActiveQueuePolicy
from happysimulator.core.observed import gauge


@dataclass(frozen=True)
class AdaptiveLIFOStats:
    """Counts of an `AdaptiveLIFO`."""

    enqueued: int = 0
    dequeued_fifo: int = 0
    dequeued_lifo: int = 0
    capacity_rejected: int = 0
    mode_switches: int = 0


class AdaptiveLIFO(ActiveQueuePolicy):
    """Serves the oldest request while fewer than ``congestion_threshold`` wait, the
    newest once that many do: under overload the fresh requests (whose callers still
    wait) are served and the stale ones age out, as at Facebook's adaptive LIFO.
    Arrivals beyond ``capacity`` are refused (reason ``"capacity"``).
    """

    observed_series = (DROPPED, gauge("lifo", "", "1 while serving newest first"))

    def __init__(self, congestion_threshold: int, capacity: int | None = None) -> None:
        if congestion_threshold < 1:
            raise ValueError(f"congestion_threshold must be >= 1, got {congestion_threshold!r}")
        if capacity is not None and capacity < 1:
            raise ValueError(f"capacity must be >= 1 or None, got {capacity!r}")
        super().__init__()
        self._threshold = congestion_threshold
        self._capacity = float("inf") if capacity is None else capacity
        self._queue: deque[Any] = deque()
        self._lifo = False  # the mode of the last dequeue
        self._enqueued = self._fifo_out = self._lifo_out = 0
        self._capacity_rejected = self._switches = 0

    @property
    def stats(self) -> AdaptiveLIFOStats:
        return AdaptiveLIFOStats(self._enqueued, self._fifo_out, self._lifo_out,
                                 self._capacity_rejected, self._switches)

    @property
    def congestion_threshold(self) -> int:
        return self._threshold

    @property
    def capacity(self) -> float:
        return self._capacity

    @property
    def is_congested(self) -> bool:
        return len(self._queue) >= self._threshold

    @property
    def mode(self) -> str:
        """``"LIFO"`` or ``"FIFO"``: how the next request would be chosen."""
        return "LIFO" if self.is_congested else "FIFO"

    def push(self, item: Any) -> bool:
        if len(self._queue) >= self._capacity:
            self._capacity_rejected += 1
            self._discard(item, "capacity")
            return False
        self._queue.append(item)
        self._enqueued += 1
        return True

    def pop(self) -> Any:
        if not self._queue:
            return None
        lifo = self.is_congested
        if lifo != self._lifo:
            self._lifo = lifo
            self._switches += 1
            self._gauge("lifo", 1.0 if lifo else 0.0)
        if lifo:
            self._lifo_out += 1
            return self._queue.pop()
        self._fifo_out += 1
        return self._queue.popleft()

    def peek(self) -> Any:
        if not self._queue:
            return None
        return self._queue[-1] if self.is_congested else self._queue[0]

    def __len__(self) -> int:
        return len(self._queue)


__all__ = ["AdaptiveLIFO", "AdaptiveLIFOStats"]
