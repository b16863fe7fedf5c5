"""``Condition``: wait for a notification while holding a `Mutex`."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from happysimulator.components.sync._base import SyncPrimitive
from happysimulator.components.sync.mutex import Mutex
from happysimulator.core.event import Event
from happysimulator.core.observed import counter, gauge, sample
from happysimulator.core.sim_future import SimFuture

_NS = 1_000_000_000


@dataclass(frozen=True)
class ConditionStats:
    """Counts of a `Condition`."""

    waits: int = 0
    notifies: int = 0
    notify_alls: int = 0
    wakeups: int = 0
    total_wait_time_ns: int = 0


class Condition(SyncPrimitive):
    """A condition variable on `lock`: ``yield from cond.wait()`` (holding the lock)
    releases it, waits for ``notify``/``notify_all``, and returns holding it again.

    Observed: ``waiters`` gauge, ``wait_time`` samples (wait to reacquire),
    ``notifies`` counter.
    """

    observed_series = (
        gauge("waiters", "processes", "processes waiting for a notification"),
        sample("wait_time", "s", "wait() to holding the lock again"),
        counter("notifies", "", "notify and notify_all calls"),
    )
    downstream_attributes = ("lock",)

    def __init__(self, name: str, lock: Mutex) -> None:
        super().__init__(name)
        self._lock = lock
        self._waiters: deque[SimFuture] = deque()
        self._waits = self._notifies = self._notify_alls = self._wakeups = 0
        self._total_wait_ns = 0

    @property
    def lock(self) -> Mutex:
        return self._lock

    @property
    def waiters(self) -> int:
        return len(self._waiters)

    @property
    def stats(self) -> ConditionStats:
        return ConditionStats(self._waits, self._notifies, self._notify_alls, self._wakeups,
                              self._total_wait_ns)

    def downstream_entities(self) -> list[Any]:
        return [self._lock]

    def wait(self) -> Generator[Any, Any, None]:
        """``yield from`` it holding the lock: returns notified, holding it again."""
        if not self._lock.is_locked:
            raise RuntimeError(f"Condition {self.name!r}: wait() called without holding "
                               f"its lock {self._lock.name!r}")
        self._waits += 1
        since = self.now_ns()
        woken = self._future(f"{self.name}.wait")
        self._waiters.append(woken)
        self.set_gauge("waiters", len(self._waiters))
        self._lock.release()
        yield woken
        yield from self._lock.acquire()
        self._total_wait_ns += self._waited(since)

    def wait_for(self, predicate: Callable[[], bool],
                 timeout: float | None = None) -> Generator[Any, Any, bool]:
        """Wait until ``predicate()`` holds (checked after each notification); with
        `timeout` seconds, False once that much time passed and it still does not."""
        if not self._lock.is_locked:
            raise RuntimeError(f"Condition {self.name!r}: wait_for() called without holding "
                               f"its lock {self._lock.name!r}")
        start = self.now_ns()
        while not predicate():
            if timeout is not None and (self.now_ns() - start) / _NS >= timeout:
                return False
            yield from self.wait()
        return True

    def notify(self, n: int = 1) -> list[Event]:
        """Wake up to `n` waiters (longest waiting first)."""
        self._notifies += 1
        self.increment("notifies")
        return self._wake(n)

    def notify_all(self) -> list[Event]:
        """Wake every waiter."""
        self._notify_alls += 1
        self.increment("notifies")
        return self._wake(len(self._waiters))

    def _wake(self, n: int) -> list[Event]:
        woken = 0
        while self._waiters and woken < n:
            self._waiters.popleft().resolve(True)
            woken += 1
        self._wakeups += woken
        self.set_gauge("waiters", len(self._waiters))
        return []


__all__ = ["Condition", "ConditionStats"]
