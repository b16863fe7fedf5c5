"""``Mutex``: one holder at a time; waiters served first come, first served."""

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
class MutexStats:
    """Counts of a `Mutex` (``total_wait_time_ns``: summed over contended acquires)."""

    acquisitions: int = 0
    releases: int = 0
    contentions: int = 0
    total_wait_time_ns: int = 0


class Mutex(SyncPrimitive):
    """A lock for processes::

        def handle_event(self, event):
            yield from self.lock.acquire(owner=self.name)
            yield 0.01                      # critical section
            self.lock.release()

    ``release`` hands the lock straight to the longest waiter (no barging). Observed:
    ``locked`` (0/1) and ``waiters`` gauges, ``wait_time`` samples (contended acquires),
    ``acquisitions`` and ``contentions`` counters.
    """

    observed_series = (
        gauge("locked", "", "1 while held"),
        gauge("waiters", "processes", "processes waiting for the lock"),
        sample("wait_time", "s", "time a contended acquire waited"),
        counter("acquisitions", "acquisitions"),
        counter("contentions", "acquisitions", "acquires that had to wait"),
    )

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._locked = False
        self._owner: Any = None
        self._waiters: deque[tuple[SimFuture, Any, int]] = deque()
        self._acquisitions = self._releases = self._contentions = 0
        self._total_wait_ns = 0

    @property
    def is_locked(self) -> bool:
        return self._locked

    @property
    def owner(self) -> Any:
        """Who holds the lock (as given to ``acquire``), None when free or anonymous."""
        return self._owner

    @property
    def waiters(self) -> int:
        return len(self._waiters)

    @property
    def stats(self) -> MutexStats:
        return MutexStats(self._acquisitions, self._releases, self._contentions,
                          self._total_wait_ns)

    def _take(self, owner: Any) -> None:
        self._locked = True
        self._owner = owner
        self._acquisitions += 1
        self.increment("acquisitions")
        self.set_gauge("locked", 1)

    def try_acquire(self, owner: Any = None) -> bool:
        """Take the lock if it is free; never waits."""
        if self._locked:
            return False
        self._take(owner)
        return True

    def acquire(self, owner: Any = None) -> Generator[Any, Any, None]:
        """``yield from`` it: returns holding the lock (at once if it was free)."""
        if self.try_acquire(owner):
            yield 0.0
            return
        self._contentions += 1
        self.increment("contentions")
        since = self.now_ns()
        turn = self._future(f"{self.name}.acquire")
        self._waiters.append((turn, owner, since))
        self.set_gauge("waiters", len(self._waiters))
        yield turn  # `release` hands the lock over, then resolves this

    def release(self) -> list[Event]:
        """Release the lock; the longest waiter (if any) holds it now."""
        if not self._locked:
            raise RuntimeError(f"Mutex {self.name!r} released while not locked")
        self._releases += 1
        if not self._waiters:
            self._locked = False
            self._owner = None
            self.set_gauge("locked", 0)
            return []
        turn, owner, since = self._waiters.popleft()
        self.set_gauge("waiters", len(self._waiters))
        self._owner = owner
        self._acquisitions += 1
        self.increment("acquisitions")
        self._total_wait_ns += self._waited(since)
        turn.resolve(True)
        return []


__all__ = ["Mutex", "MutexStats"]
