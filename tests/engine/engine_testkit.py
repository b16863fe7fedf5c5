"""Shared helpers for the engine tests (plain engine: observability off)."""

from __future__ import annotations

import math
import os
import statistics
from typing import Any

from happysimulator import ComponentInstrumentation, Entity, Simulation

# HS_ENGINE_TESTS_WITH_OBSERVABILITY=1 runs the engine suite with the default observability
_OBS = None if os.environ.get("HS_ENGINE_TESTS_WITH_OBSERVABILITY") == "1" else False


def make_sim(**kw: Any) -> Simulation:
    kw.setdefault("observability", _OBS)
    return Simulation(**kw)


class Recorder(Entity):
    """Logs ``(time_s, event_type, tag)`` for every event it receives."""

    def __init__(self, name: str = "rec") -> None:
        super().__init__(name)
        self.log: list[tuple[float, str, Any]] = []

    def handle_event(self, event):
        self.log.append(
            (self.now.to_seconds(), event.event_type, event.context["metadata"].get("tag"))
        )
        return None


class RecordingInstr(ComponentInstrumentation):
    """Records every seam call with the gauges it can read at that moment."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.waits: list[float] = []
        self.services: list[float] = []
        self.latencies: list[float] = []

    def arrived(self, entity, event, now_s):
        self.calls.append(("arrived", now_s, entity.depth, entity.in_flight))

    def dropped(self, entity, event, now_s):
        self.calls.append(("dropped", now_s, entity.depth, entity.in_flight))

    def started(self, entity, event, now_s, wait_s):
        self.waits.append(wait_s)
        self.calls.append(("started", now_s, entity.depth, entity.in_flight))

    def completed(self, entity, event, now_s, service_s):
        self.services.append(service_s)
        self.calls.append(("completed", now_s, entity.depth, entity.in_flight))

    def received(self, entity, event, now_s, latency_s):
        self.latencies.append(latency_s)
        self.calls.append(("received", now_s))

    def generated(self, entity, event, now_s):
        self.calls.append(("generated", now_s))


def batch_means(xs: list[float], batches: int = 20) -> tuple[float, float]:
    """Mean and its standard error by the method of batch means (handles autocorrelation)."""
    n = len(xs) // batches
    means = [statistics.fmean(xs[i * n : (i + 1) * n]) for i in range(batches)]
    return statistics.fmean(means), statistics.stdev(means) / math.sqrt(batches)


def erlang_c(c: int, a: float) -> float:
    """Probability of waiting in M/M/c with offered load ``a = lambda/mu``."""
    rho = a / c
    s = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) / (1 - rho)
    return top / (s + top)
