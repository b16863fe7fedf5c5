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


def fails_at(*, seed: int, mu: float = 10.0, bad_mu: float = -1.0,
             customers: int = 300) -> Simulation:
    """`mmc`, except that the point ``mu == bad_mu`` raises (a model bug at one point)."""
    if mu == bad_mu:
        raise ValueError(f"no model for mu={mu}")
    return mmc(seed=seed, mu=mu, customers=customers)


def fails_odd_seeds(*, seed: int, customers: int = 300) -> Simulation:
    """Fails in about half the replications (those whose seed is odd)."""
    if seed % 2:
        raise ArithmeticError(f"odd seed {seed}")
    return mmc(seed=seed, customers=customers)


def announced(*, seed: int, customers: int = 20000) -> Simulation:
    """`mmc` that says when it is built (the Ctrl-C test waits for replications)."""
    import sys

    print("built", flush=True, file=sys.stderr)
    return mmc(seed=seed, customers=customers)


def starts_full(*, seed: int, depth: int = 40, rate: float = 8.0, mu: float = 10.0,
                until: float = 200.0) -> Simulation:
    """M/M/1 whose queue starts ``depth`` deep (a burst at t=0): a known transient."""
    from happysimulator import Event, ExponentialLatency, LatencyTracker, Server, Source

    server = Server("Server", service_time=ExponentialLatency(1 / mu))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=rate, target=server, stop_after=until)
    sim = Simulation(sources=[source], entities=[server, sink], seed=seed, end_time=until,
                     observability=ObservabilityConfig())
    for _ in range(depth):
        sim.schedule(Event(time=0.0, event_type="Request", target=server))
    return sim


def counted(*, seed: int, customers: int = 200, log: str = "") -> Simulation:
    """`mmc` that appends its seed to the file ``log`` (counts the builds)."""
    with open(log, "a") as f:
        f.write(f"{seed}\n")
    return mmc(seed=seed, customers=customers)
