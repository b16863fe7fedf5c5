"""Small operations models for the industrial tests: factories ``build(seed=..., ...)``
returning a `Simulation` (what `happysimulator.experiments.replicate` takes)."""

from __future__ import annotations

import math
from typing import Any

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.components.industrial import (
    BalkingQueue,
    BreakdownScheduler,
    InspectionStation,
    RenegingQueuedResource,
)
from happysimulator.components.queue_policy import FIFOQueue
from happysimulator.core.entity import Entity
from happysimulator.observability import ObservabilityConfig


class ExpServers(RenegingQueuedResource):
    """``c`` exponential servers of rate ``mu``; waiting customers renege (if they have
    a patience) and the line may balk (``policy``)."""

    def __init__(self, name: str, *, mu: float, c: int = 1, done: Entity | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name, concurrency=c, **kwargs)
        self.mu = mu
        self.done = done

    def _handle_served_event(self, event: Any) -> Any:
        yield self.rng.expovariate(self.mu)
        return [self.forward(event, self.done)] if self.done is not None else []


class Impatient(Entity):
    """Gives each caller an exponential patience (mean ``1/theta``), then passes it on."""

    def __init__(self, name: str, target: Entity, theta: float) -> None:
        super().__init__(name)
        self.target = target
        self.theta = theta

    def handle_event(self, event: Any) -> Any:
        event.context["patience_s"] = self.rng.expovariate(self.theta)
        return [self.forward(event, self.target)]


def mmck(*, seed: int, lam: float = 2.0, mu: float = 1.0, c: int = 2, k: int = 2,
         horizon: float = 2000.0) -> Simulation:
    """M/M/c/K: an arrival that finds K in the system (K - c waiting) balks."""
    sink = Sink("Done")
    station = ExpServers("Station", mu=mu, c=c, done=sink,
                         policy=BalkingQueue(FIFOQueue(), balk_threshold=k - c))
    source = Source.poisson(rate=lam, target=station, stop_after=horizon)
    return Simulation(sources=[source], entities=[station, sink], seed=seed,
                      end_time=horizon, observability=ObservabilityConfig.default())


class Machine(Entity):
    def handle_event(self, event: Any) -> None:
        return None


def machine(*, seed: int, mttf: float = 10.0, mttr: float = 2.0,
            horizon: float = 20000.0) -> Simulation:
    """One machine failing and being repaired at exponential times."""
    m = Machine("Machine")
    bd = BreakdownScheduler("Breakdowns", target=m, mean_time_to_failure=mttf,
                            mean_repair_time=mttr)
    sim = Simulation(entities=[m, bd], seed=seed, end_time=horizon,
                     observability=ObservabilityConfig.default())
    sim.schedule(bd.start_event())
    return sim


def jackson(*, seed: int, lam: float = 1.0, mu1: float = 2.5, mu2: float = 2.2,
            p_pass: float = 0.7, horizon: float = 4000.0) -> Simulation:
    """Two exponential single-server stations: A then an inspection B that passes with
    probability `p_pass` and sends the rest back to A (rework)."""
    done = Sink("Done")
    a = Server("A", concurrency=1, service_time=ExponentialLatency(1 / mu1))
    b = InspectionStation("B", pass_target=done, fail_target=a, pass_rate=p_pass,
                          inspection_time=ExponentialLatency(1 / mu2), concurrency=1)
    a.downstream = b
    source = Source.poisson(rate=lam, target=a, stop_after=horizon)
    return Simulation(sources=[source], entities=[a, b, done], seed=seed, end_time=horizon,
                      observability=ObservabilityConfig.default())


def mm1m(*, seed: int, lam: float = 1.0, mu: float = 1.0, theta: float = 0.5,
         horizon: float = 4000.0) -> Simulation:
    """M/M/1+M: exponential patience of rate `theta` while waiting."""
    gone = Sink("Abandoned")
    done = Sink("Done")
    agent = ExpServers("Agent", mu=mu, done=done, reneged_target=gone)
    caller = Impatient("Callers", agent, theta)
    source = Source.poisson(rate=lam, target=caller, stop_after=horizon)
    return Simulation(sources=[source], entities=[caller, agent, gone, done], seed=seed,
                      end_time=horizon, observability=ObservabilityConfig.default())


# -- theory ----------------------------------------------------------------------------
def mmck_blocking(lam: float, mu: float, c: int, k: int) -> float:
    """P(an arrival finds K in the system) for M/M/c/K (Erlang B when K = c)."""
    a = lam / mu
    weights = [a ** n / math.factorial(n) if n <= c
               else a ** n / (math.factorial(c) * c ** (n - c)) for n in range(k + 1)]
    return weights[k] / sum(weights)


def jackson_lq(lam: float, mu1: float, mu2: float, p_pass: float) -> tuple[float, float]:
    """Mean number waiting (not in service) at A and B: product form, each an M/M/1
    with the traffic equations' rate lam / p_pass."""
    rate = lam / p_pass
    out = []
    for mu in (mu1, mu2):
        rho = rate / mu
        out.append(rho * rho / (1 - rho))
    return out[0], out[1]


def mm1m_abandonment(lam: float, mu: float, theta: float, n_max: int = 400) -> float:
    """P(abandon) for M/M/1+M: the birth-death chain with death rate mu + (n-1) theta in
    state n >= 1; served throughput is mu * P(busy), the rest of lam abandons."""
    p = [1.0]
    for n in range(1, n_max):
        p.append(p[-1] * lam / (mu + (n - 1) * theta))
    p0 = 1.0 / sum(p)
    return 1.0 - mu * (1.0 - p0) / lam
