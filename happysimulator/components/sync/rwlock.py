"""``RWLock``: many readers or one writer; a waiting writer stops new readers."""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from happysimulator.components.sync._base import SyncPrimitive
from happysimulator.core.event import Event
from happysimulator.core.observed import counter, gauge, sample
from happysimulator.core.sim_future import SimFuture

_READ, _WRITE = "read", "write"


@dataclass(frozen=True)
class RWLockStats:
    """Counts of an `RWLock`."""

    read_acquisitions: int = 0
    write_acquisitions: int = 0
    read_releases: int = 0
    write_releases: int = 0
    read_contentions: int = 0
    write_contentions: int = 0
    total_read_wait_ns: int = 0
    total_write_wait_ns: int = 0
    peak_readers: int = 0


class RWLock(SyncPrimitive):
    """A readers-writer lock, fair in arrival order: readers share it (up to
    ``max_readers``), a writer holds it alone, and once a writer waits later readers
    queue behind it (writers do not starve). Releases admit the head of the queue: one
    writer, or every reader up to the next writer.

    Observed: ``readers`` and ``writers`` (0/1) and ``waiters`` gauges, ``wait_time``
    samples tagged ``mode`` (read / write), ``contentions`` counter tagged ``mode``.
    """

    observed_series = (
        gauge("readers", "processes", "readers holding the lock"),
        gauge("writers", "", "1 while a writer holds the lock"),
        gauge("waiters", "processes", "processes waiting"),
        sample("wait_time", "s", "time a contended acquire waited", tags=("mode",)),
        counter("contentions", "acquisitions", "acquires that had to wait", tags=("mode",)),
    )

    def __init__(self, name: str, max_readers: int | None = None) -> None:
        if max_readers is not None and max_readers < 1:
            raise ValueError(f"max_readers must be >= 1 or None, got {max_readers!r}")
        super().__init__(name)
        self._max_readers = max_readers
        self._readers = 0
        self._writer = False
        self._waiters: deque[tuple[str, SimFuture, int]] = deque()
        self._n = dict.fromkeys(("ra", "wa", "rr", "wr", "rc", "wc", "rw", "ww", "peak"), 0)

    @property
    def active_readers(self) -> int:
        return self._readers

    @property
    def is_write_locked(self) -> bool:
        return self._writer

    @property
    def max_readers(self) -> int | None:
        return self._max_readers

    @property
    def waiters(self) -> int:
        return len(self._waiters)

    @property
    def stats(self) -> RWLockStats:
        n = self._n
        return RWLockStats(n["ra"], n["wa"], n["rr"], n["wr"], n["rc"], n["wc"], n["rw"],
                           n["ww"], n["peak"])

    def _reader_fits(self) -> bool:
        return not self._writer and (self._max_readers is None
                                     or self._readers < self._max_readers)

    def _grant_read(self) -> None:
        self._readers += 1
        self._n["ra"] += 1
        self._n["peak"] = max(self._n["peak"], self._readers)
        self.set_gauge("readers", self._readers)

    def _grant_write(self) -> None:
        self._writer = True
        self._n["wa"] += 1
        self.set_gauge("writers", 1)

    def try_acquire_read(self) -> bool:
        """Share the lock if no writer holds it or waits; never waits."""
        if self._waiters or not self._reader_fits():
            return False
        self._grant_read()
        return True

    def try_acquire_write(self) -> bool:
        """Hold the lock alone if it is free; never waits."""
        if self._writer or self._readers or self._waiters:
            return False
        self._grant_write()
        return True

    def _wait(self, mode: str) -> Generator[Any, Any, None]:
        self._n["rc" if mode == _READ else "wc"] += 1
        self.increment("contentions", mode=mode)
        turn = self._future(f"{self.name}.{mode}")
        self._waiters.append((mode, turn, self.now_ns()))
        self.set_gauge("waiters", len(self._waiters))
        yield turn

    def acquire_read(self) -> Generator[Any, Any, None]:
        """``yield from`` it: returns sharing the lock."""
        if self.try_acquire_read():
            yield 0.0
            return
        yield from self._wait(_READ)

    def acquire_write(self) -> Generator[Any, Any, None]:
        """``yield from`` it: returns holding the lock alone."""
        if self.try_acquire_write():
            yield 0.0
            return
        yield from self._wait(_WRITE)

    def release_read(self) -> list[Event]:
        if self._readers < 1:
            raise RuntimeError(f"RWLock {self.name!r}: release_read with no reader holding it")
        self._readers -= 1
        self._n["rr"] += 1
        self.set_gauge("readers", self._readers)
        self._admit()
        return []

    def release_write(self) -> list[Event]:
        if not self._writer:
            raise RuntimeError(f"RWLock {self.name!r}: release_write while not write-locked")
        self._writer = False
        self._n["wr"] += 1
        self.set_gauge("writers", 0)
        self._admit()
        return []

    def _admit(self) -> None:
        """Grant the lock to the head of the queue: a writer, or readers up to a writer."""
        q = self._waiters
        while q:
            mode, turn, since = q[0]
            if mode == _WRITE:
                if self._writer or self._readers:
                    break
                q.popleft()
                self._grant_write()
                self._n["ww"] += self._waited(since, mode=mode)
                turn.resolve(True)
                break
            if not self._reader_fits():
                break
            q.popleft()
            self._grant_read()
            self._n["rw"] += self._waited(since, mode=mode)
            turn.resolve(True)
        self.set_gauge("waiters", len(q))


__all__ = ["RWLock", "RWLockStats"]
