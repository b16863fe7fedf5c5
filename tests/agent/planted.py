"""A model with a planted fault: three stages in a row; the middle one slows down at
t = 300 s (mean service 0.05 s -> 0.09 s at 10 requests/s: utilization 0.5 -> 0.9)."""

from __future__ import annotations

from happysimulator import (
    Event,
    ExponentialLatency,
    Instant,
    LatencyTracker,
    Server,
    Simulation,
    Source,
)
from happysimulator.observability import ObservabilityConfig

SLOW_AT = 300.0
SLOWED = "Enrich"


def build(seed: int = 1, end: float = 600.0, rate: float = 10.0, slow_at: float = SLOW_AT,
          slow_mean: float = 0.09, observability: str = "default") -> Simulation:
    """Parse -> Enrich -> Store -> Sink; Enrich slows down at `slow_at`."""
    sink = LatencyTracker("Sink")
    store = Server("Store", concurrency=1, service_time=ExponentialLatency(0.05),
                   downstream=sink)
    enrich = Server("Enrich", concurrency=1, service_time=ExponentialLatency(0.05),
                    downstream=store)
    parse = Server("Parse", concurrency=2, service_time=ExponentialLatency(0.08),
                   downstream=enrich)
    source = Source.poisson(rate=rate, target=parse, name="Users", stop_after=end)
    sim = Simulation(sources=[source], entities=[parse, enrich, store, sink], seed=seed,
                     end_time=end, observability=getattr(ObservabilityConfig, observability)())

    def slow_down(_event: Event) -> None:
        enrich.service_time = ExponentialLatency(slow_mean)

    sim.schedule(Event.once(Instant.from_seconds(slow_at), "slowdown", slow_down))
    return sim
