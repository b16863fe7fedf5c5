"""A small typed user script: mypy must accept it and infer the observability types."""

from __future__ import annotations

from happysimulator import (
    Event,
    ExponentialLatency,
    LatencyTracker,
    Server,
    Simulation,
    SimulationSummary,
    Source,
)
from happysimulator.observability import (
    ObservabilityConfig,
    QueryResult,
    SimulationControl,
    SimulationState,
)


def build(seed: int) -> Simulation:
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=8.0, target=server, limit=100)
    return Simulation(sources=[source], entities=[server, sink], seed=seed,
                      observability=ObservabilityConfig.full())


def main() -> float | None:
    sim = build(1)
    control: SimulationControl = sim.control
    summary: SimulationSummary = sim.run(until=5.0)
    state: SimulationState = control.get_state()
    stepped: list[Event] = control.step(3)
    later: SimulationSummary = control.run_until(state.current_time.to_seconds() + 1.0)
    done: SimulationSummary = control.resume()
    result: QueryResult = sim.query.metrics("latency").aggregate("p99").execute()
    sim.observations.metrics("latency", source="Sink").subscribe(lambda obs: None)
    print(summary.stop_reason, len(stepped), later.end_time_s, done.total_events_processed)
    reveal_type(sim.query)  # noqa: F821  (mypy's; the test reads its answer)
    reveal_type(sim.control.run_until)  # noqa: F821
    return result.scalar
