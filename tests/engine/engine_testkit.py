"""Shared helpers for the engine tests (plain engine: observability off)."""

from __future__ import annotations

import math
import os
import statistics
from typing import Any

from happysimulator import ComponentInstrumentation, Entity, Simulation
from happysimulator.core.component_instrumentation import ARRIVED, DONE, DROP, GEN, SINK, STARTED

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
    """Records every fact the seam reports (through ``live``), with the gauges the
    entity shows at that moment."""

    def __init__(self, entity) -> None:
        super().__init__()
        self.entity = entity
        self.calls: list[tuple] = []
        self.waits: list[float] = []
        self.services: list[float] = []
        self.latencies: list[float] = []
        self.live = self.on_fact

    def on_fact(self, kind, now_ns, obj):
        e, now_s = self.entity, now_ns / 1e9
        if kind in (ARRIVED, DROP):
            self.calls.append(("arrived", now_s, e.depth, e.in_flight))
        if kind == DROP:
            self.calls.append(("dropped", now_s, e.depth, e.in_flight))
        elif kind == STARTED:
            self.waits.append((now_ns - obj.arr_ns) / 1e9)
            self.calls.append(("started", now_s, e.depth, e.in_flight))
        elif kind == DONE:
            self.services.append((now_ns - obj.start_ns) / 1e9)
            self.calls.append(("completed", now_s, e.depth, e.in_flight))
        elif kind == SINK:
            self.latencies.append((now_ns - obj._created_ns()) / 1e9)
            self.calls.append(("received", now_s))
        elif kind == GEN:
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
