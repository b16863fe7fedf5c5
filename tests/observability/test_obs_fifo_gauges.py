"""A FIFO `Server` whose starts are derived gets queue_depth and in_flight from one
level of the requests in the system (`QueueInstrumentation._fifo_gauges`): the same
points as the two levels of arrivals/starts and starts/completions."""

from __future__ import annotations

import numpy as np
import pytest

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.queue_instrument import QueueInstrumentation


def _gauges(concurrency: int, rate: float, flushes: int, two_levels: bool,
            monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[list, list]]:
    used = []
    real = QueueInstrumentation._fifo_gauges

    def fifo_gauges(self, arrived, done, c):
        used.append(c)
        return None if two_levels else real(self, arrived, done, c)

    monkeypatch.setattr(QueueInstrumentation, "_fifo_gauges", fifo_gauges)
    server = Server("S", concurrency=concurrency, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    # a source of bursts: arrivals at one instant, queues that build and drain
    source = Source.poisson(rate=rate, target=server, stop_after=60.0)
    sim = Simulation(sources=[source], entities=[server, sink], seed=7,
                     observability=ObservabilityConfig.full())
    for k in range(1, flushes + 1):  # (reads between stretches: flushes mid-run)
        sim.control.run_until(60.0 * k / (flushes + 1))
        sim.query.metrics("queue_depth").aggregate("max").execute()
    sim.run()
    assert used, "the one-level path was not taken"
    store = sim.query.metric_store
    out = {}
    for name in ("queue_depth", "in_flight", "utilization"):
        (s,) = store.select(name, "S")
        t, v = s.arrays()
        out[name] = (t.tolist(), v.tolist())
    return out


@pytest.mark.parametrize(("concurrency", "rate", "flushes"),
                         [(1, 8.0, 0), (1, 9.5, 5), (3, 25.0, 4), (2, 30.0, 7)])
def test_one_level_equals_two(concurrency, rate, flushes, monkeypatch):
    one = _gauges(concurrency, rate, flushes, False, monkeypatch)
    two = _gauges(concurrency, rate, flushes, True, monkeypatch)
    assert one == two
    t, v = one["queue_depth"]
    assert len(t) > 100 and max(v) >= 2 and np.all(np.diff(t) > 0)
