"""``Barrier``: ``parties`` processes wait for each other, then all go on."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from happysimulator.components.sync._base import SyncPrimitive
from happysimulator.core.observed import counter, gauge, sample
from happysimulator.core.sim_future import SimFuture

_BROKEN = object()


@dataclass(frozen=True)
class BarrierStats:
    """Counts of a `Barrier` (``barrier_breaks``: times all parties met)."""

    wait_calls: int = 0
    barrier_breaks: int = 0
    resets: int = 0
    total_wait_time_ns: int = 0


class Barrier(SyncPrimitive):
    """A reusable barrier: ``index = yield from barrier.wait()`` returns when ``parties``
    processes have called it; the last to arrive gets index 0, the first
    ``parties - 1``. ``reset()`` and ``abort()`` release the waiting processes with a
    ``RuntimeError`` (the barrier is broken for them); after ``abort()`` new waits fail
    until ``reset()``.

    Observed: ``waiting`` gauge, ``wait_time`` samples, ``breaks`` counter.
    """

    observed_series = (
        gauge("waiting", "processes", "processes at the barrier"),
        sample("wait_time", "s", "time a process waited at the barrier"),
        counter("breaks", "", "times all parties met"),
    )

    def __init__(self, name: str, parties: int) -> None:
        if parties < 1:
            raise ValueError(f"parties must be >= 1, got {parties!r}")
        super().__init__(name)
        self._parties = parties
        self._waiters: list[tuple[SimFuture, int]] = []
        self._generation = 0
        self._broken = False
        self._wait_calls = self._breaks = self._resets = 0
        self._total_wait_ns = 0

    @property
    def parties(self) -> int:
        return self._parties

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @property
    def broken(self) -> bool:
        return self._broken

    @property
    def generation(self) -> int:
        """How many times the barrier was passed (or reset)."""
        return self._generation

    @property
    def stats(self) -> BarrierStats:
        return BarrierStats(self._wait_calls, self._breaks, self._resets, self._total_wait_ns)

    def wait(self) -> Generator[Any, Any, int]:
        """``yield from`` it: returns the arrival index once all parties are here."""
        if self._broken:
            raise RuntimeError(f"Barrier {self.name!r} is broken (aborted); reset() it")
        self._wait_calls += 1
        now = self.now_ns()
        if len(self._waiters) + 1 >= self._parties:
            self._pass(now)
            return 0
        index = self._parties - 1 - len(self._waiters)
        turn = self._future(f"{self.name}.wait")
        self._waiters.append((turn, now))
        self.set_gauge("waiting", len(self._waiters))
        got = yield turn
        if got is None and turn.is_resolved:
            got = turn.value
        if got is _BROKEN:
            raise RuntimeError(f"Barrier {self.name!r} was reset or aborted while waiting")
        return index

    def _pass(self, now: int) -> None:
        self._breaks += 1
        self.increment("breaks")
        self.observe("wait_time", 0.0)
        waiters, self._waiters = self._waiters, []
        for turn, since in waiters:
            self._total_wait_ns += self._waited(since)
            turn.resolve(True)
        self._generation += 1
        self.set_gauge("waiting", 0)

    def _release_broken(self) -> None:
        waiters, self._waiters = self._waiters, []
        for turn, _ in waiters:
            turn.resolve(_BROKEN)
        self.set_gauge("waiting", 0)

    def reset(self) -> None:
        """Back to the initial state: waiting processes get a RuntimeError."""
        self._resets += 1
        self._release_broken()
        self._broken = False
        self._generation += 1

    def abort(self) -> None:
        """Break the barrier: waiting processes and later waits get a RuntimeError."""
        self._broken = True
        self._release_broken()


__all__ = ["Barrier", "BarrierStats"]
