"""``Resource``: a pool of capacity (cores, bandwidth, tellers) that processes acquire.

A process asks for an amount with ``grant = yield resource.acquire(amount)``; it waits,
first come first served, until that much is free, and gives it back with
``grant.release()``::

    cpu = Resource("cpu", capacity=8)

    class Job(Entity):
        def handle_event(self, event):
            grant = yield cpu.acquire(2)
            yield 0.5
            grant.release()

Observed without extra code: ``queue_depth`` (acquirers waiting), ``in_flight`` (grants
held), ``in_use`` (capacity held), ``utilization`` (fraction held), ``wait_time`` (from
``acquire`` to the grant; 0 when granted at once), ``acquisitions``.

Amounts are kept exactly: a float amount or capacity counts as the decimal it prints as
(``0.1`` is one tenth), so ``0.1 + 0.2`` fits a capacity of ``0.3`` and releasing what
was granted never overflows the capacity by a rounding error.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

from happysimulator.core.observed import ObservedEntity, counter, gauge, sample
from happysimulator.core.sim_future import SimFuture
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResourceStats:
    """A snapshot of a `Resource`'s counters (happysim 0.2.5 shape)."""

    name: str = ""
    capacity: int | float = 0
    available: int | float = 0
    utilization: float = 0.0
    acquisitions: int = 0
    releases: int = 0
    contentions: int = 0
    waiters: int = 0
    total_wait_time_ns: int = 0
    peak_utilization: float = 0.0
    peak_waiters: int = 0


class Grant:
    """Capacity held from a `Resource`; ``release()`` gives it back (a second call does
    nothing)."""

    __slots__ = ("_amount", "_released", "_resource")

    def __init__(self, resource: Resource, amount: int | float) -> None:
        self._resource = resource
        self._amount = amount
        self._released = False

    @property
    def amount(self) -> int | float:
        """How much capacity this grant holds."""
        return self._amount

    @property
    def released(self) -> bool:
        """True once released."""
        return self._released

    def release(self) -> None:
        """Return the capacity and serve waiting acquirers (idempotent)."""
        if not self._released:
            self._released = True
            self._resource._held -= 1
            self._resource._do_release(self._amount)

    def __repr__(self) -> str:
        return "Grant(released)" if self._released else f"Grant({self._amount})"


class _Waiter:
    __slots__ = ("amount", "exact", "future", "since_ns")

    def __init__(self, amount: int | float, exact: Any, future: SimFuture,
                 since_ns: int) -> None:
        self.amount = amount
        self.exact = exact
        self.future = future
        self.since_ns = since_ns


@lru_cache(maxsize=4096)
def _decimal(x: float) -> Fraction:
    return Fraction(repr(x))


def _exact(x: int | float) -> Any:
    """`x` as an exact quantity: an int as is, a finite float as the decimal it prints as
    (binary floats would make 0.1 + 0.2 exceed 0.3), an infinite capacity as is."""
    if x.__class__ is int or isinstance(x, int) or not math.isfinite(x):
        return x
    return _decimal(float(x))


def _number(x: Any) -> int | float:
    """An exact quantity as the number users see (an int stays an int)."""
    return x if isinstance(x, int | float) else float(x)


def _check_amount(name: str, amount: Any, capacity: int | float) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not (
            0 < amount < math.inf):
        raise ValueError(f"amount must be > 0 (and finite), got {amount!r}")
    if amount > capacity:
        raise ValueError(
            f"cannot acquire {amount} from resource {name!r} with capacity {capacity}")


class Resource(ObservedEntity):
    """Shared capacity acquired in amounts; waiters are served strictly in arrival order
    (a large request at the head is not overtaken by smaller ones behind it).

    Register it with the simulation (``entities=[...]``) or reach it from an entity that
    is registered. ``capacity`` may be an int or a float (> 0).
    """

    observed_series = (
        gauge("queue_depth", "requests", "acquirers waiting for capacity"),
        gauge("in_flight", "grants", "grants held (not yet released)"),
        gauge("in_use", "units", "capacity held by grants"),
        gauge("utilization", "", "fraction of the capacity held (0..1; above 1 while a reduced capacity is over-committed)"),
        sample("wait_time", "s", "from acquire() to the grant (0 when granted at once)"),
        counter("acquisitions", "grants", "grants given"),
    )

    def __init__(self, name: str, capacity: int | float) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int | float) or (
                not capacity > 0):
            raise ValueError(f"capacity must be > 0, got {capacity!r}")
        super().__init__(name)
        self._capacity = capacity
        self._cap = _exact(capacity)
        self._free = self._cap  # exact (see `_exact`)
        self._held = 0  # grants outstanding
        self._waiters: deque[_Waiter] = deque()
        self._acquisitions = 0
        self._releases = 0
        self._contentions = 0
        self._total_wait_time_ns = 0
        self._peak_utilization = 0.0
        self._peak_waiters = 0

    # ---- state ----------------------------------------------------------------------
    @property
    def capacity(self) -> int | float:
        return self._capacity

    @property
    def available(self) -> int | float:
        """Capacity free now (0 while a reduced capacity is over-committed)."""
        return _number(self._free) if self._free > 0 else 0

    @property
    def utilization(self) -> float:
        """Fraction of the capacity held (0.0 to 1.0; above 1.0 while a reduced capacity
        is over-committed: `set_capacity`; at capacity 0, 1.0 while anything is held)."""
        in_use = self._cap - self._free
        if not self._cap:
            return 1.0 if in_use else 0.0
        return float(in_use / self._cap)

    def set_capacity(self, capacity: int | float) -> None:
        """Change the capacity now (a fault reducing it, its end restoring it). What is
        held stays held, so a reduced capacity may be over-committed until grants are
        released; a larger one serves waiters at once, in their order.

        >>> r = Resource("cpu", capacity=8)
        >>> g = r.try_acquire(6); r.set_capacity(4); (r.available, r.utilization)
        (0, 1.5)
        """
        if isinstance(capacity, bool) or not isinstance(capacity, int | float) or not (
                0 <= capacity < math.inf):
            raise ValueError(f"capacity must be a finite number >= 0, got {capacity!r}")
        held = self._cap - self._free
        self._capacity = capacity
        self._cap = _exact(capacity)
        self._free = self._cap - held
        self._serve_waiters()
        if self._runtime() is not None:
            self._record_level()

    @property
    def waiters(self) -> int:
        """Acquirers waiting."""
        return len(self._waiters)

    @property
    def stats(self) -> ResourceStats:
        return ResourceStats(
            name=self.name, capacity=self._capacity, available=self.available,
            utilization=self.utilization, acquisitions=self._acquisitions,
            releases=self._releases, contentions=self._contentions,
            waiters=len(self._waiters), total_wait_time_ns=self._total_wait_time_ns,
            peak_utilization=self._peak_utilization, peak_waiters=self._peak_waiters)

    # ---- acquiring ------------------------------------------------------------------
    def acquire(self, amount: int | float = 1) -> SimFuture:
        """A future that resolves with a `Grant` of `amount` (at once if that much is
        free and nobody waits before; else when it is this acquirer's turn)."""
        _check_amount(self.name, amount, self._capacity)
        future = SimFuture()
        exact = _exact(amount)
        if not self._waiters and self._free >= exact:
            future.resolve(self._grant(amount, exact, 0))
            return future
        self._contentions += 1
        self._waiters.append(_Waiter(amount, exact, future, self._clock_ns()))
        self._peak_waiters = max(self._peak_waiters, len(self._waiters))
        self.set_gauge("queue_depth", len(self._waiters))
        return future

    def try_acquire(self, amount: int | float = 1) -> Grant | None:
        """A `Grant` if `amount` is free now (and nobody waits), else None."""
        _check_amount(self.name, amount, self._capacity)
        exact = _exact(amount)
        if not self._waiters and self._free >= exact:
            return self._grant(amount, exact, 0)
        return None

    def _grant(self, amount: int | float, exact: Any, waited_ns: int) -> Grant:
        self._free -= exact
        self._held += 1
        self._acquisitions += 1
        self._total_wait_time_ns += waited_ns
        self._peak_utilization = max(self._peak_utilization, self.utilization)
        if self._runtime() is not None:
            self.increment("acquisitions")
            self.observe("wait_time", waited_ns / _NS)
            self._record_level()
        return Grant(self, amount)

    def _do_release(self, amount: int | float) -> None:
        """Return `amount` of capacity (what `Grant.release` calls) and serve waiters."""
        exact = _exact(amount)
        if self._free + exact > self._cap:
            raise ValueError(
                f"releasing {amount} would exceed capacity of resource {self.name!r} "
                f"({self.available} + {amount} > {self._capacity})")
        self._free += exact
        self._releases += 1
        self._serve_waiters()
        self._record_level()

    def _serve_waiters(self) -> None:
        now = self._clock_ns()
        waiters = self._waiters
        moved = False
        while waiters and self._free >= waiters[0].exact:
            w = waiters.popleft()
            moved = True
            waited = now - w.since_ns if now >= 0 and w.since_ns >= 0 else 0
            w.future.resolve(self._grant(w.amount, w.exact, waited))
        if moved:
            self.set_gauge("queue_depth", len(waiters))

    def _record_level(self) -> None:
        if self._runtime() is None:
            return
        in_use = self._cap - self._free
        self.set_gauge("in_flight", self._held)
        self.set_gauge("in_use", _number(in_use))
        self.set_gauge("utilization", self.utilization)

    def _clock_ns(self) -> int:
        sim = self._sim
        return sim.now_ns if sim is not None else -1

    def handle_event(self, event: Any) -> None:
        """A resource is not sent events; it is acquired."""
        return None

    def __repr__(self) -> str:
        return (f"Resource({self.name!r}, capacity={self._capacity}, "
                f"available={self.available}, waiters={len(self._waiters)})")


__all__ = ["Grant", "Resource", "ResourceStats"]
