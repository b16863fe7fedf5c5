"""The queueing model most tests observe: Poisson arrivals -> `Server` -> `LatencyTracker`.

One builder instead of a copy per test module; each test still states every parameter
its assertions depend on.
"""

from __future__ import annotations

from typing import Any

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import ObservabilityConfig


def mm_server(*, seed: int, rate: float = 8.0, mean_service: float = 0.1, concurrency: int = 1,
              limit: int | None = None, stop_after: float | None = None,
              end_time: float | None = None, server_name: str = "Server",
              config: ObservabilityConfig | None = None) -> Simulation:
    """M/M/c: Poisson(`rate`) arrivals, `concurrency` exponential servers of mean
    `mean_service`, a `LatencyTracker` named "Sink"; `full()` observability unless
    `config` is given. Not run."""
    server = Server(server_name, concurrency=concurrency,
                    service_time=ExponentialLatency(mean_service))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    arrivals: dict[str, Any] = {"limit": limit} if limit is not None else {}
    if stop_after is not None:
        arrivals["stop_after"] = stop_after
    source = Source.poisson(rate=rate, target=server, **arrivals)
    return Simulation(sources=[source], entities=[server, sink], seed=seed, end_time=end_time,
                      observability=config if config is not None else ObservabilityConfig.full())
