"""Small queueing models for the experiments tests (factories: keyword params + seed)."""

from __future__ import annotations

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import ObservabilityConfig


def mmc(*, seed: int, rate: float = 8.0, mu: float = 10.0, c: int = 1,
        customers: int = 2000, traces: bool = False, streaming: bool = False) -> Simulation:
    """Poisson arrivals at `rate` into `c` exponential servers of rate `mu` each."""
    server = Server("Server", concurrency=c, service_time=ExponentialLatency(1 / mu))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=rate, target=server, limit=customers)
    return Simulation(sources=[source], entities=[server, sink], seed=seed,
                      observability=ObservabilityConfig.streaming() if streaming
                      else ObservabilityConfig(traces=traces))


def ignores_seed(*, seed: int) -> Simulation:
    return mmc(seed=1, customers=10)


def no_seed(rate: float = 1.0) -> Simulation:  # pragma: no cover - rejected before a run
    return mmc(seed=1, rate=rate)
