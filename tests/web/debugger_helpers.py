"""What the debugger's server-side tests share: a small M/M/1 model and waiting on the
debugger's worker."""

from __future__ import annotations

import time

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.web.driver import Debugger


def mm1(seed: int = 3, end_time: float = 60.0, config: ObservabilityConfig | None = None):
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=8.0, target=server, stop_after=end_time)
    return Simulation(sources=[source], entities=[server, sink], seed=seed, end_time=end_time,
                      observability=config or ObservabilityConfig.full())


def wait_for(cond, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def settle(dbg: Debugger) -> None:
    """Until a page-started run stopped and the worker pushed what the stop changed."""
    wait_for(lambda: not dbg.running)
    ask(dbg, op="status")  # answered once the worker is done with the stop


def ask(dbg: Debugger, **req) -> dict:
    return dbg.request(req).result(timeout=20)
