"""``PreemptibleResource``: capacity that a more urgent request can take from a less
urgent holder.

``grant = yield res.acquire(amount, priority, preempt=True, on_preempt=fn)``: a lower
``priority`` value is more urgent. When too little is free, a request with
``preempt=True`` evicts holders of strictly less urgent priority (least urgent first) —
only if that frees enough; an evicted grant is marked ``preempted``, counts as released,
and its ``on_preempt`` is called; capacity the eviction freed beyond the request goes
to the waiters at once. Otherwise the request waits; waiters are served most urgent
first, then in arrival order.

Observed: ``preempted`` (counter), ``queue_depth`` (gauge: waiting requests),
``in_use`` (gauge: capacity held), ``wait_time`` (sample, s).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from happysimulator.components.industrial._common import at_start, check_count
from happysimulator.core.observed import ObservedEntity, counter, gauge, sample
from happysimulator.core.sim_future import SimFuture
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion


@dataclass(frozen=True)
class PreemptibleResourceStats:
    """Counts (happysim 0.2.5 shape)."""

    capacity: int = 0
    available: int = 0
    acquisitions: int = 0
    releases: int = 0
    preemptions: int = 0
    contentions: int = 0


class PreemptibleGrant:
    """Capacity held from a `PreemptibleResource` (``release()`` is idempotent)."""

    __slots__ = ("_amount", "_on_preempt", "_preempted", "_priority", "_released",
                 "_resource", "_seq")

    def __init__(self, resource: PreemptibleResource, amount: int, priority: float,
                 on_preempt: Callable[[], None] | None = None) -> None:
        self._resource = resource
        self._amount = amount
        self._priority = priority
        self._released = False
        self._preempted = False
        self._on_preempt = on_preempt
        self._seq = 0

    @property
    def amount(self) -> int:
        return self._amount

    @property
    def priority(self) -> float:
        return self._priority

    @property
    def released(self) -> bool:
        return self._released

    @property
    def preempted(self) -> bool:
        return self._preempted

    def release(self) -> None:
        """Give the capacity back (a no-op once released or preempted)."""
        if not self._released:
            self._released = True
            self._resource._do_release(self)

    def _do_preempt(self) -> None:
        self._preempted = True
        self._released = True
        if self._on_preempt is not None:
            self._on_preempt()

    def __repr__(self) -> str:
        if self._preempted:
            return f"PreemptibleGrant(preempted, priority={self._priority})"
        if self._released:
            return "PreemptibleGrant(released)"
        return f"PreemptibleGrant({self._amount}, priority={self._priority})"


@dataclass(order=True)
class _Waiter:
    priority: float
    seq: int
    amount: int = field(compare=False)
    future: SimFuture = field(compare=False)
    on_preempt: Callable[[], None] | None = field(compare=False, default=None)
    since_ns: int = field(compare=False, default=-1)


class PreemptibleResource(ObservedEntity):
    """Integer capacity allocated by priority, with preemption (see the module doc)."""

    observed_series = (
        counter("preempted", "grants", "grants taken back for a more urgent request"),
        gauge("queue_depth", "requests", "requests waiting"),
        gauge("in_use", "units", "capacity held"),
        sample("wait_time", "s", "from acquire() to the grant (0 when granted at once)"),
    )

    def __init__(self, name: str, capacity: int) -> None:
        check_count("capacity", capacity, 1)
        super().__init__(name)
        self._capacity = capacity
        self._available = capacity
        self._holders: list[PreemptibleGrant] = []
        self._waiters: list[_Waiter] = []
        self._seq = itertools.count()
        self._acquisitions = 0
        self._releases = 0
        self._preemptions = 0
        self._contentions = 0

    def set_clock(self, sim: Any) -> None:
        super().set_clock(sim)
        at_start(sim, self._record_levels)

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def available(self) -> int:
        return self._available

    @property
    def waiters(self) -> int:
        return len(self._waiters)

    @property
    def stats(self) -> PreemptibleResourceStats:
        return PreemptibleResourceStats(
            capacity=self._capacity, available=self._available,
            acquisitions=self._acquisitions, releases=self._releases,
            preemptions=self._preemptions, contentions=self._contentions)

    def acquire(self, amount: int = 1, priority: float = 0.0, preempt: bool = True,
                on_preempt: Callable[[], None] | None = None) -> SimFuture:
        """A future resolving with a `PreemptibleGrant` (see the module doc)."""
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise ValueError(f"amount must be an int > 0, got {amount!r}")
        if amount > self._capacity:
            raise ValueError(f"cannot acquire {amount} from resource {self.name!r} with "
                             f"capacity {self._capacity}")
        future = SimFuture()
        evicted = False
        if self._available < amount and preempt:
            evicted = self._preempt_for(amount, priority)
        if self._available >= amount:
            future.resolve(self._grant(amount, priority, on_preempt, 0))
            if evicted:  # what the eviction freed beyond this request goes to the waiters
                self._serve_waiters()
            return future
        self._contentions += 1
        heapq.heappush(self._waiters, _Waiter(priority, next(self._seq), amount, future,
                                              on_preempt, self._clock_ns()))
        self.set_gauge("queue_depth", len(self._waiters))
        return future

    def _clock_ns(self) -> int:
        return self._sim.now_ns if self._sim is not None else -1

    def _grant(self, amount: int, priority: float, on_preempt: Any,
               waited_ns: int) -> PreemptibleGrant:
        self._available -= amount
        self._acquisitions += 1
        grant = PreemptibleGrant(self, amount, priority, on_preempt)
        self._holders.append(grant)
        if self._runtime() is not None:
            self.observe("wait_time", waited_ns / _NS)
            self._record_levels()
        return grant

    def _preempt_for(self, amount: int, priority: float) -> bool:
        """Evict less urgent holders until `amount` is free; whether any was evicted."""
        victims = sorted((g for g in self._holders if g.priority > priority),
                         key=lambda g: -g.priority)
        if self._available + sum(g.amount for g in victims) < amount:
            return False  # evicting would not free enough: evict nobody
        evicted = False
        for grant in victims:
            if self._available >= amount:
                break
            self._holders.remove(grant)
            self._available += grant.amount
            self._preemptions += 1
            self.increment("preempted")
            grant._do_preempt()
            evicted = True
        return evicted

    def _do_release(self, grant: Any) -> None:
        """Return a grant's capacity (called by `PreemptibleGrant.release`)."""
        amount = grant.amount if isinstance(grant, PreemptibleGrant) else grant
        if isinstance(grant, PreemptibleGrant):
            # (a preempted grant never gets here: its capacity came back at eviction)
            if grant in self._holders:
                self._holders.remove(grant)
        if self._available + amount > self._capacity:
            raise ValueError(f"releasing {amount} would exceed capacity of resource "
                             f"{self.name!r} ({self._available} + {amount} > "
                             f"{self._capacity})")
        self._available += amount
        self._releases += 1
        self._serve_waiters()
        self._record_levels()

    def _serve_waiters(self) -> None:
        """Grant the most urgent waiters, in order, while the next one fits."""
        now = self._clock_ns()
        served = False
        while self._waiters and self._available >= self._waiters[0].amount:
            w = heapq.heappop(self._waiters)
            served = True
            waited = now - w.since_ns if now >= 0 and w.since_ns >= 0 else 0
            w.future.resolve(self._grant(w.amount, w.priority, w.on_preempt, waited))
        if served:
            self.set_gauge("queue_depth", len(self._waiters))

    def _record_levels(self) -> None:
        if self._runtime() is not None:
            self.set_gauge("in_use", self._capacity - self._available)
            self.set_gauge("queue_depth", len(self._waiters))

    def handle_event(self, event: Any) -> None:
        """A resource is not sent events; it is acquired."""
        return None


__all__ = ["PreemptibleGrant", "PreemptibleResource", "PreemptibleResourceStats"]
