"""Small queueing models for the experiments tests (factories: keyword params + seed)."""

from __future__ import annotations

from happysimulator import Simulation
from happysimulator.observability import ObservabilityConfig
from tests.models import mm_server


def mmc(*, seed: int, rate: float = 8.0, mu: float = 10.0, c: int = 1,
        customers: int = 2000, traces: bool = False, streaming: bool = False) -> Simulation:
    """Poisson arrivals at `rate` into `c` exponential servers of rate `mu` each."""
    return mm_server(seed=seed, rate=rate, mean_service=1 / mu, concurrency=c, limit=customers,
                     config=ObservabilityConfig.streaming() if streaming
                     else ObservabilityConfig(traces=traces))


def ignores_seed(*, seed: int) -> Simulation:
    return mmc(seed=1, customers=10)


def no_seed(rate: float = 1.0) -> Simulation:  # pragma: no cover - rejected before a run
    return mmc(seed=1, rate=rate)
