"""``CacheWarmer``: reads a list of keys through a cache at a given rate."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, gauge
from happysimulator.core.temporal import Instant


@dataclass(frozen=True)
class CacheWarmerStats:
    """Counts of a `CacheWarmer` (``keys_failed``: not found in the store)."""

    keys_to_warm: int = 0
    keys_warmed: int = 0
    keys_failed: int = 0
    warmup_time_seconds: float = 0.0


class CacheWarmer(ObservedEntity):
    """Pre-loads `cache` by reading ``keys_to_warm`` (a list, or a function returning
    one when warming starts) one after another, ``1 / warmup_rate`` seconds apart.
    Schedule ``warmer.start_warming()`` (an event at the run's start; set its time to
    start later).

    Observed: ``warmed`` and ``failed`` counters, ``progress`` gauge (0..1).
    """

    observed_series = (
        counter("warmed", "keys", "keys loaded into the cache"),
        counter("failed", "keys", "keys the store did not have"),
        gauge("progress", "", "fraction of the keys read"),
    )
    downstream_attributes = ("cache",)

    def __init__(self, name: str, cache: Any,
                 keys_to_warm: list[Any] | Callable[[], list[Any]],
                 warmup_rate: float = 100.0, warmup_latency: float = 0.001) -> None:
        if not warmup_rate > 0:
            raise ValueError(f"warmup_rate must be > 0 keys/s, got {warmup_rate!r}")
        if warmup_latency < 0:
            raise ValueError(f"warmup_latency must be >= 0 seconds, got {warmup_latency!r}")
        super().__init__(name)
        self.cache = cache
        self._provider = keys_to_warm
        self._rate = warmup_rate
        self._warmup_latency = warmup_latency
        self._keys: list[Any] = []
        self._index = 0
        self._started = self._completed = False
        self._to_warm = self._warmed = self._failed = 0
        self._seconds = 0.0

    @property
    def stats(self) -> CacheWarmerStats:
        return CacheWarmerStats(self._to_warm, self._warmed, self._failed, self._seconds)

    @property
    def progress(self) -> float:
        if not self._keys:
            return 1.0 if self._completed else 0.0
        return self._index / len(self._keys)

    @property
    def is_complete(self) -> bool:
        return self._completed

    @property
    def is_started(self) -> bool:
        return self._started

    @property
    def warmup_rate(self) -> float:
        return self._rate

    def get_keys_to_warm(self) -> list[Any]:
        return list(self._provider() if callable(self._provider) else self._provider)

    def start_warming(self) -> Event:
        """The event that starts warming (at time 0; change its ``time`` to delay)."""
        self._keys = self.get_keys_to_warm()
        self._index = 0
        self._started, self._completed = True, False
        self._to_warm, self._warmed, self._failed = len(self._keys), 0, 0
        return Event(time=Instant.Epoch, event_type="cache_warm", target=self,
                     context={"action": "warm_next"})

    def warm_keys(self, now: Instant) -> Generator[Any, Any, None]:
        """Read every key through the cache, paced by the warmup rate."""
        start = now.to_seconds()
        gap = 1.0 / self._rate
        for key in self._keys:
            try:
                value = yield from self.cache.get(key)
            except (KeyError, RuntimeError, OSError):
                value = None
            if value is not None:
                self._warmed += 1
                self.increment("warmed")
            else:
                self._failed += 1
                self.increment("failed")
            self._index += 1
            self.set_gauge("progress", self.progress)
            yield gap
        self._completed = True
        if self._sim is not None:
            self._seconds = self.now.to_seconds() - start

    def handle_event(self, event: Event) -> Generator[Any, Any, list[Event]]:
        if event.context.get("action") == "warm_next":
            yield from self.warm_keys(event.time)
        return []


__all__ = ["CacheWarmer", "CacheWarmerStats"]
