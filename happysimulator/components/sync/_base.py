"""What the synchronization primitives share: the clock and a waiter's future."""

from __future__ import annotations

from typing import Any

from happysimulator.core._active import ACTIVE
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity
from happysimulator.core.sim_future import SimFuture

_NS = 1_000_000_000


class SyncPrimitive(ObservedEntity):
    """Base of the primitives: processes ``yield from`` their generators (``acquire``,
    ``wait``) and park on a `SimFuture` until it is their turn, so a contended primitive
    costs no events while it waits. Outside a simulation (unit tests driving the
    generators by hand) waits last zero time."""

    def now_ns(self) -> int:
        sim = self._sim
        if sim is None:
            sim = ACTIVE.sim
            if sim is None:
                return 0
            self._sim = sim
        return sim.now_ns

    def _waited(self, since_ns: int, **tags: Any) -> int:
        """Record a wait that started at `since_ns`; returns its length in ns."""
        wait = self.now_ns() - since_ns
        self.observe("wait_time", wait / _NS, **tags)
        return wait

    @staticmethod
    def _future(name: str) -> SimFuture:
        return SimFuture(name)

    def handle_event(self, event: Event) -> None:
        """(Primitives are called, not sent events.)"""
        return None


__all__ = ["SyncPrimitive"]
