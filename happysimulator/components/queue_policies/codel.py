"""CoDel (Controlled Delay, RFC 8289): drops by how long requests wait, not how many."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from happysimulator.components.queue_policies._base import DROPPED, ActiveQueuePolicy
from happysimulator.core.observed import gauge
from happysimulator.core.temporal import Instant

_NS = 1_000_000_000


@dataclass(frozen=True)
class CoDelStats:
    """Counts of a `CoDelQueue`: ``dropped`` by delay, ``capacity_rejected`` when full,
    ``drop_intervals`` how many times it entered its dropping state."""

    enqueued: int = 0
    dequeued: int = 0
    dropped: int = 0
    capacity_rejected: int = 0
    drop_intervals: int = 0


class CoDelQueue(ActiveQueuePolicy):
    """FIFO with CoDel active queue management.

    When every request dequeued for a whole ``interval`` waited at least
    ``target_delay`` seconds, CoDel enters its dropping state: it discards the head
    request, then one more each time ``interval / sqrt(count)`` elapses, until a request
    waited less than the target (RFC 8289's control law; a queue that empties also ends
    the episode). Drops are reported with reason ``"delay"``; arrivals beyond
    ``capacity`` are refused with reason ``"capacity"``.

    Standalone it needs ``clock_func`` (or ``set_clock``); owned by a `Server`,
    `QueuedResource` or `Queue` it uses the simulation's clock::

        Server("api", service_time=0.01, queue_policy=CoDelQueue(0.005, 0.1))
    """

    observed_series = (DROPPED, gauge("dropping", "", "1 while CoDel is in its dropping state"))

    def __init__(self, target_delay: float = 0.005, interval: float = 0.100,
                 capacity: int | None = None,
                 clock_func: Callable[[], Instant] | None = None) -> None:
        if not target_delay > 0:
            raise ValueError(f"target_delay must be > 0 seconds, got {target_delay!r}")
        if not interval > 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
        if capacity is not None and capacity < 1:
            raise ValueError(f"capacity must be >= 1 or None, got {capacity!r}")
        super().__init__(clock_func)
        self._target_delay = float(target_delay)
        self._interval = float(interval)
        self._target_ns = round(target_delay * _NS)
        self._interval_ns = round(interval * _NS)
        self._capacity = float("inf") if capacity is None else capacity
        self._queue: deque[tuple[Any, int]] = deque()  # (item, enqueue ns)
        self._first_above: int | None = None  # when the delay has been high for an interval
        self._drop_next = 0
        self._count = 0
        self._last_count = 0
        self._dropping = False
        self._enqueued = self._dequeued = self._dropped = 0
        self._capacity_rejected = self._drop_intervals = 0

    @property
    def stats(self) -> CoDelStats:
        return CoDelStats(self._enqueued, self._dequeued, self._dropped,
                          self._capacity_rejected, self._drop_intervals)

    @property
    def target_delay(self) -> float:
        """Target queueing delay, seconds."""
        return self._target_delay

    @property
    def interval(self) -> float:
        """Measurement interval, seconds."""
        return self._interval

    @property
    def capacity(self) -> float:
        return self._capacity

    @property
    def dropping(self) -> bool:
        """Whether CoDel is in its dropping state."""
        return self._dropping

    def push(self, item: Any) -> bool:
        now = self.now_ns()
        if len(self._queue) >= self._capacity:
            self._capacity_rejected += 1
            self._discard(item, "capacity")
            return False
        self._queue.append((item, now))
        self._enqueued += 1
        return True

    def _head(self, now: int) -> tuple[Any, bool]:
        """Dequeue the head: (item, whether CoDel may drop it)."""
        item, enq = self._queue.popleft()
        if now - enq < self._target_ns or not self._queue:
            self._first_above = None  # a good queue (or one about to empty)
            return item, False
        if self._first_above is None:
            self._first_above = now + self._interval_ns
            return item, False
        return item, now >= self._first_above

    def _next_drop(self, start: int) -> int:
        return start + round(self._interval_ns / math.sqrt(self._count))

    def _drop(self, item: Any) -> None:
        self._dropped += 1
        self._discard(item, "delay")

    def _set_dropping(self, on: bool) -> None:
        if on != self._dropping:
            self._dropping = on
            self._gauge("dropping", 1.0 if on else 0.0)

    def pop(self) -> Any:
        if not self._queue:
            return None
        now = self.now_ns()
        item, ok = self._head(now)
        if self._dropping:
            if not ok:
                self._set_dropping(False)
            while self._dropping and now >= self._drop_next:
                self._drop(item)
                self._count += 1
                if not self._queue:
                    self._set_dropping(False)
                    return None
                item, ok = self._head(now)
                if ok:
                    self._drop_next = self._next_drop(self._drop_next)
                else:
                    self._set_dropping(False)
        elif ok:
            self._drop(item)
            self._drop_intervals += 1
            # re-entering soon after the last episode: resume near its drop rate
            delta = self._count - self._last_count
            recent = now - self._drop_next < 16 * self._interval_ns
            self._count = delta if delta > 1 and recent else 1
            self._last_count = self._count
            self._drop_next = self._next_drop(now)
            if not self._queue:
                return None
            self._set_dropping(True)
            item, _ = self._head(now)
        self._dequeued += 1
        return item

    def peek(self) -> Any:
        return self._queue[0][0] if self._queue else None

    def __len__(self) -> int:
        return len(self._queue)


__all__ = ["CoDelQueue", "CoDelStats"]
