"""``DistributedRateLimiter``: one global limit per fixed window shared by several
limiters through a backing store (anything with generator ``get(key)`` / ``put(key,
value)``, e.g. a ``KVStore``).

Per request: read the window's global count from the store (taking its latency), refuse
if it reached ``global_limit``, else write count + 1 and pass the request on. Once this
limiter has seen the limit reached in the current window it refuses locally, without
asking the store. The read and the write are separate steps, so limiters that read the
same count both pass: the limit can be overshot under contention, as with a real
non-atomic store. Refused requests are answered with a rejection (reason
``"rate_limited"``). Observed: ``requests``, ``admitted``, ``rejected`` (tag ``where``:
``local`` / ``global``), ``store_reads``, ``store_writes`` counters, ``global_count``
gauge.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from happysimulator.components.forwarding import answer_rejected, forward, run_hooks, take_hooks
from happysimulator.components.rate_limiter._history import HISTORY_LIMIT, History
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, gauge
from happysimulator.core.temporal import Instant


@dataclass(frozen=True)
class DistributedRateLimiterStats:
    """Snapshot of a distributed rate limiter's counts."""

    requests_received: int = 0
    requests_forwarded: int = 0
    requests_dropped: int = 0
    store_reads: int = 0
    store_writes: int = 0
    local_rejections: int = 0
    global_rejections: int = 0


class DistributedRateLimiter(ObservedEntity):
    """A fixed-window limit shared through ``backing_store`` (see the module docstring)."""

    observed_series = (
        counter("requests", "requests", "requests that arrived"),
        counter("admitted", "requests", "requests passed downstream"),
        counter("rejected", "requests", "requests refused", tags=("where",)),
        counter("store_reads", "operations", "reads of the shared counter"),
        counter("store_writes", "operations", "writes of the shared counter"),
        gauge("global_count", "requests", "the window's shared count last seen"),
    )
    downstream_attributes = ("downstream", "backing_store")

    def __init__(self, name: str, downstream: Entity, backing_store: Entity,
                 global_limit: int, window_size: float = 1.0, key_prefix: str = "ratelimit",
                 local_threshold: float = 0.8, *,
                 history_limit: int | None = HISTORY_LIMIT) -> None:
        if global_limit < 1:
            raise ValueError(f"global_limit must be >= 1, got {global_limit}")
        if not window_size > 0:
            raise ValueError(f"window_size must be > 0 seconds, got {window_size}")
        if not 0 < local_threshold <= 1:
            raise ValueError(f"local_threshold must be in (0, 1], got {local_threshold}")
        super().__init__(name)
        self._downstream = downstream
        self._backing_store = backing_store
        self._global_limit = global_limit
        self._window_size = window_size
        self._window_ns = round(window_size * 1e9)
        self._key_prefix = key_prefix
        self._local_threshold = local_threshold
        self._window: int | None = None
        self._local_count = 0
        self._known_global = 0
        self._requests_received = 0
        self._requests_forwarded = 0
        self._requests_dropped = 0
        self._store_reads = 0
        self._store_writes = 0
        self._local_rejections = 0
        self._global_rejections = 0
        # the newest `history_limit` of each (flat memory in long runs)
        self.received_times: History[Instant] = History(history_limit)
        self.forwarded_times: History[Instant] = History(history_limit)
        self.dropped_times: History[Instant] = History(history_limit)
        self.global_counts: History[tuple[Instant, int]] = History(history_limit)

    @property
    def downstream(self) -> Entity:
        return self._downstream

    @property
    def backing_store(self) -> Entity:
        return self._backing_store

    @property
    def global_limit(self) -> int:
        return self._global_limit

    @property
    def window_size(self) -> float:
        return self._window_size

    @property
    def local_count(self) -> int:
        """Requests this limiter admitted in the current window."""
        return self._local_count

    @property
    def stats(self) -> DistributedRateLimiterStats:
        return DistributedRateLimiterStats(
            self._requests_received, self._requests_forwarded, self._requests_dropped,
            self._store_reads, self._store_writes, self._local_rejections,
            self._global_rejections)

    def downstream_entities(self) -> list[Entity]:
        return [self._downstream, self._backing_store]

    def set_clock(self, sim: Any) -> None:
        super().set_clock(sim)
        self._downstream.set_clock(sim)
        self._backing_store.set_clock(sim)

    def _key(self, window: int) -> str:
        return f"{self._key_prefix}:window:{window}"

    def check_and_increment(self, now: Instant) -> Generator[Any, Any, bool]:
        """Take one unit of the window's global budget (``allowed = yield from ...``)."""
        window = now.nanoseconds // self._window_ns
        if window != self._window:
            self._window = window
            self._local_count = 0
            self._known_global = 0
        if self._known_global >= self._global_limit:
            self._local_rejections += 1
            self.increment("rejected", where="local")
            return False
        key = self._key(window)
        self._store_reads += 1
        self.increment("store_reads")
        current = yield from self._backing_store.get(key)
        current = 0 if current is None else current
        self._known_global = current
        self.set_gauge("global_count", current)
        if current >= self._global_limit:
            self._global_rejections += 1
            self.increment("rejected", where="global")
            self.global_counts.append((now, current))
            return False
        self._store_writes += 1
        self.increment("store_writes")
        yield from self._backing_store.put(key, current + 1)
        self._local_count += 1
        self._known_global = current + 1
        self.global_counts.append((now, current + 1))
        return True

    def handle_event(self, event: Event) -> Generator[Any, Any, list[Event]]:
        now = event.time
        self._requests_received += 1
        self.received_times.append(now)
        self.increment("requests")
        hooks = take_hooks(event)
        allowed = yield from self.check_and_increment(now)
        if allowed:
            self._requests_forwarded += 1
            self.forwarded_times.append(now)
            self.increment("admitted")
            return [forward(self, event, self._downstream,
                            None if hooks is None else (lambda: run_hooks(self, hooks)),
                            event_type=f"forward::{event.event_type}", at_ns=now.nanoseconds)]
        self._requests_dropped += 1
        self.dropped_times.append(now)
        return answer_rejected(self, event, hooks, "rate_limited")


__all__ = ["DistributedRateLimiter", "DistributedRateLimiterStats"]
