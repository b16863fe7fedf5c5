"""``Semaphore``: up to ``initial_count`` permits; waiters served in order."""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from happysimulator.components.sync._base import SyncPrimitive
from happysimulator.core.event import Event
from happysimulator.core.observed import counter, gauge, sample
from happysimulator.core.sim_future import SimFuture


@dataclass(frozen=True)
class SemaphoreStats:
    """Counts of a `Semaphore` (acquisitions and releases count permits)."""

    acquisitions: int = 0
    releases: int = 0
    contentions: int = 0
    total_wait_time_ns: int = 0
    peak_waiters: int = 0


class Semaphore(SyncPrimitive):
    """A counting semaphore: ``acquire(count)`` waits until ``count`` permits are free.
    Waiters are served strictly in arrival order (a large request at the head is not
    overtaken by small ones behind it, so it cannot starve).

    Observed: ``available`` and ``waiters`` gauges, ``wait_time`` samples,
    ``acquisitions`` and ``contentions`` counters.
    """

    observed_series = (
        gauge("available", "permits", "free permits"),
        gauge("waiters", "processes", "processes waiting for permits"),
        sample("wait_time", "s", "time a contended acquire waited"),
        counter("acquisitions", "permits"),
        counter("contentions", "acquisitions", "acquires that had to wait"),
    )

    def __init__(self, name: str, initial_count: int) -> None:
        if initial_count < 1:
            raise ValueError(f"initial_count must be >= 1, got {initial_count!r}")
        super().__init__(name)
        self._count = self._capacity = initial_count
        self._waiters: deque[tuple[int, SimFuture, int]] = deque()
        self._acquisitions = self._releases = self._contentions = 0
        self._total_wait_ns = self._peak_waiters = 0

    @property
    def available(self) -> int:
        return self._count

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def waiters(self) -> int:
        return len(self._waiters)

    @property
    def stats(self) -> SemaphoreStats:
        return SemaphoreStats(self._acquisitions, self._releases, self._contentions,
                              self._total_wait_ns, self._peak_waiters)

    @staticmethod
    def _check(count: int) -> None:
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count!r}")

    def _take(self, count: int) -> None:
        self._count -= count
        self._acquisitions += count
        self.increment("acquisitions", count)
        self.set_gauge("available", self._count)

    def try_acquire(self, count: int = 1) -> bool:
        """Take `count` permits if free and nobody waits before; never waits."""
        self._check(count)
        if self._count >= count and not self._waiters:
            self._take(count)
            return True
        return False

    def acquire(self, count: int = 1) -> Generator[Any, Any, None]:
        """``yield from`` it: returns holding `count` permits."""
        self._check(count)
        if count > self._capacity:
            raise ValueError(f"cannot acquire {count} permits from semaphore "
                             f"{self.name!r} of capacity {self._capacity}")
        if self.try_acquire(count):
            yield 0.0
            return
        self._contentions += 1
        self.increment("contentions")
        turn = self._future(f"{self.name}.acquire")
        self._waiters.append((count, turn, self.now_ns()))
        self._peak_waiters = max(self._peak_waiters, len(self._waiters))
        self.set_gauge("waiters", len(self._waiters))
        yield turn

    def release(self, count: int = 1) -> list[Event]:
        """Return `count` permits; waiters at the head get theirs in order."""
        self._check(count)
        if self._count + count > self._capacity:
            raise ValueError(f"releasing {count} would exceed the capacity of "
                             f"{self.name!r} ({self._count} + {count} > {self._capacity})")
        self._count += count
        self._releases += count
        self.set_gauge("available", self._count)
        while self._waiters and self._waiters[0][0] <= self._count:
            want, turn, since = self._waiters.popleft()
            self._take(want)
            self._total_wait_ns += self._waited(since)
            turn.resolve(True)
        self.set_gauge("waiters", len(self._waiters))
        return []


__all__ = ["Semaphore", "SemaphoreStats"]
