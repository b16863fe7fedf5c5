"""``batch_means`` of a counter batches its increments by count, as if they were
samples: ``batch_means(sim, "arrivals", entity="Server")`` answers "mean=1 ± 0 (95% CI,
20 batches)" -- the mean size of an increment, with a zero-width interval, for a
Server receiving ~3 requests/s. The docstring covers samples (by count) and gauges (by
time) only; a counter is silently treated as a sample series, and the answer looks
like a precise steady-state estimate.

Repro (session 13, rev5): Users (Poisson 3/s, 400 s) -> Server (1, exp 0.2 s), default
config; ``batch_means(sim, "arrivals", entity="Server")``. Observed: mean 1.0, half
width 0.0. Expected: a counter's steady-state quantity is its rate (batched by time:
~3 per second), or a clear ValueError saying batch means take sample or gauge series
(naming them). Area: happysimulator/experiments/steady_state.py (batch_means: ``kind``
other than "gauge" falls to the sample branch).
"""

from __future__ import annotations

import pytest

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.experiments import batch_means
from happysimulator.observability import ObservabilityConfig


def test_batch_means_of_a_counter_is_its_rate_or_refused() -> None:
    sink = Sink("Sink")
    srv = Server("Server", concurrency=1, service_time=ExponentialLatency(0.2), downstream=sink)
    src = Source.poisson(rate=3.0, target=srv, name="Users", stop_after=400.0)
    sim = Simulation(sources=[src], entities=[srv, sink], seed=1, end_time=400.0,
                     observability=ObservabilityConfig.default())
    sim.run()
    try:
        bm = batch_means(sim, "arrivals", entity="Server", batches=10)
    except ValueError as exc:  # refused: fine if it says what batch means take
        assert "gauge" in str(exc) and "sample" in str(exc), exc
        return
    assert bm.mean == pytest.approx(srv.arrivals / 400.0, rel=1e-6), bm
