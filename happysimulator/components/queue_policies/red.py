"""RED (Random Early Detection): drops arrivals with a probability that grows with the
average queue length."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from happysimulator.components.queue_policies._base import DROPPED, ActiveQueuePolicy
from happysimulator.core.observed import gauge


@dataclass(frozen=True)
class REDStats:
    """Counts of a `REDQueue`: early (probabilistic) drops, forced drops (average at or
    above ``max_threshold``) and refusals at ``capacity``."""

    enqueued: int = 0
    dequeued: int = 0
    dropped_probabilistic: int = 0
    dropped_forced: int = 0
    capacity_rejected: int = 0


class REDQueue(ActiveQueuePolicy):
    """FIFO with Random Early Detection (Floyd and Jacobson, 1993).

    At each arrival the average length ``avg <- (1 - weight) * avg + weight * len`` is
    updated. Below ``min_threshold`` nothing is dropped; between the thresholds an arrival
    is dropped with probability ``p_b / (1 - count * p_b)``, where ``p_b`` rises linearly
    from 0 to ``max_probability`` and ``count`` counts arrivals since the last drop
    (spreading drops out); at or above ``max_threshold`` every arrival is dropped. Reasons:
    ``"early"``, ``"forced"``, ``"capacity"`` (default capacity: ``2 * max_threshold``).
    Random draws come from the owner's simulation stream (standalone: ``seed``).
    """

    observed_series = (DROPPED, gauge("avg_queue", "requests", "RED's average queue length"))

    def __init__(self, min_threshold: int, max_threshold: int, max_probability: float = 0.1,
                 capacity: int | None = None, weight: float = 0.002, *,
                 seed: int | None = None) -> None:
        if min_threshold < 0:
            raise ValueError(f"min_threshold must be >= 0, got {min_threshold!r}")
        if max_threshold <= min_threshold:
            raise ValueError(f"max_threshold must be > min_threshold, got {max_threshold!r} "
                             f"<= {min_threshold!r}")
        if not 0 < max_probability <= 1:
            raise ValueError(f"max_probability must be in (0, 1], got {max_probability!r}")
        if not 0 < weight < 1:
            raise ValueError(f"weight must be in (0, 1), got {weight!r}")
        if capacity is None:
            capacity = 2 * max_threshold
        if capacity < max_threshold:
            raise ValueError(f"capacity must be >= max_threshold, got {capacity!r} < "
                             f"{max_threshold!r}")
        super().__init__(seed=seed)
        self._min_threshold = min_threshold
        self._max_threshold = max_threshold
        self._max_probability = float(max_probability)
        self._weight = float(weight)
        self._capacity = capacity
        self._queue: deque[Any] = deque()
        self._avg = 0.0
        self._since_drop = 0
        self._enqueued = self._dequeued = 0
        self._early = self._forced = self._capacity_rejected = 0

    @property
    def stats(self) -> REDStats:
        return REDStats(self._enqueued, self._dequeued, self._early, self._forced,
                        self._capacity_rejected)

    @property
    def min_threshold(self) -> int:
        return self._min_threshold

    @property
    def max_threshold(self) -> int:
        return self._max_threshold

    @property
    def max_probability(self) -> float:
        return self._max_probability

    @property
    def capacity(self) -> float:
        return self._capacity

    @property
    def avg_queue_length(self) -> float:
        """The current average queue length."""
        return self._avg

    def drop_probability(self) -> float:
        """``p_b`` at the current average (before the spreading by ``count``)."""
        if self._avg < self._min_threshold:
            return 0.0
        if self._avg >= self._max_threshold:
            return 1.0
        span = self._max_threshold - self._min_threshold
        return self._max_probability * (self._avg - self._min_threshold) / span

    _calculate_drop_probability = drop_probability  # (0.2.5's name; its tests call it)

    def push(self, item: Any) -> bool:
        self._avg += self._weight * (len(self._queue) - self._avg)
        self._gauge("avg_queue", self._avg)
        if len(self._queue) >= self._capacity:
            self._capacity_rejected += 1
            self._discard(item, "capacity")
            return False
        p = self.drop_probability()
        if p > 0.0:
            denominator = 1.0 - self._since_drop * p
            p_a = 1.0 if denominator <= 0.0 else min(1.0, p / denominator)
            if p >= 1.0 or self.rng.random() < p_a:
                self._since_drop = 0
                if self._avg >= self._max_threshold:
                    self._forced += 1
                    self._discard(item, "forced")
                else:
                    self._early += 1
                    self._discard(item, "early")
                return False
        self._queue.append(item)
        self._since_drop += 1
        self._enqueued += 1
        return True

    def pop(self) -> Any:
        if not self._queue:
            return None
        self._dequeued += 1
        return self._queue.popleft()

    def peek(self) -> Any:
        return self._queue[0] if self._queue else None

    def __len__(self) -> int:
        return len(self._queue)


__all__ = ["REDQueue", "REDStats"]
