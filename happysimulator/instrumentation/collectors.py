"""Collectors: entities that record what passes through them."""

from __future__ import annotations

from typing import Any

from happysimulator.core.entity import Entity, bind_simulation
from happysimulator.core.event import Event
from happysimulator.instrumentation.data import BucketedData, Data

_NS = 1_000_000_000


class ThroughputCollector(Entity):
    """Records one sample (value 1) per event; ``throughput(window_s)`` gives rates."""

    def __init__(self, name: str = "Throughput", downstream: Entity | None = None) -> None:
        super().__init__(name)
        self.data = Data(name)
        self.downstream = downstream

    def handle_event(self, event: Event) -> Any:
        sim = self._sim or bind_simulation(self)
        self.data.add_stat(1.0, sim.now_ns / _NS)
        if self.downstream is not None:
            return self.forward(event, self.downstream)
        return None

    def throughput(self, window_s: float = 1.0) -> list[tuple[float, float]]:
        b = self.data.bucket(window_s)
        return list(zip(b.times, b.rates(), strict=True))


class ThroughputTracker(Entity):
    """Counts events; ``throughput(window_s)`` buckets them per window (happysim 0.2.5).

    Each event adds the sample ``1.0`` at its own time; nothing is forwarded.
    """

    def __init__(self, name: str = "ThroughputTracker") -> None:
        super().__init__(name)
        self.data = Data(name)
        self.count = 0

    def handle_event(self, event: Event) -> list[Event]:
        self.count += 1
        self.data.add_stat(1.0, event._time_ns / _NS)
        return []

    def throughput(self, window_s: float = 1.0) -> BucketedData:
        """Events per window (``sums()``; ``rates()`` per second)."""
        return self.data.bucket(window_s)


def __getattr__(name: str) -> Any:
    # happysim 0.2.5 also exposes LatencyTracker here; it lives with the other sinks
    if name == "LatencyTracker":
        from happysimulator.components.common import LatencyTracker

        return LatencyTracker
    raise AttributeError(name)


def collect_stats(entities: list[Any]) -> dict[str, dict[str, Any]]:
    """``{name: entity.stats()}`` for entities that provide ``stats()``."""
    out = {}
    for e in entities:
        fn = getattr(e, "stats", None)
        if callable(fn):
            out[e.name] = fn()
    return out


__all__ = ["LatencyTracker", "ThroughputCollector", "ThroughputTracker", "collect_stats"]  # noqa: F822
