"""``Exporter.summary()`` -- the compact digest meant for an agent -- says ``traces:
{"count": 76, "selection": "slowest"}`` for a run traced at ``trace_sample_rate=0.1``:
76 of 763 requests, and "slowest" of the sampled ones only (2.558 s, where the slowest
request of the same run took 3.22 s). Nothing in the document (run metadata, traces,
series) mentions the sampling, so a reader takes 76 as the number of requests and
2.558 s as the worst latency.

Repro (session 13, rev5): Users (Poisson 40/s, 20 s) -> Client (timeout 0.25 s, 3
attempts) -> LB (round robin) -> S0..S2 -> Sink, seed 3, ``ObservabilityConfig.full()
.replace(trace_sample_rate=0.1)``; ``Exporter(sim).summary()``. Observed: traces
``{"count": 76, "selection": "slowest"}``, no "trace_sample_rate" anywhere in the JSON;
with rate 1.0: count 763, slowest 3.22 s. Expected: the traces section (or the run
metadata) states the population -- the sample rate (and, likewise, a bounded store's
evictions) -- as the topology's ``of`` does. Area: happysimulator/observability/
export.py (Exporter._traces / _run_meta).
"""

from __future__ import annotations

import json

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.components.client import Client, ExponentialBackoff
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.export import Exporter


def test_the_export_summary_says_its_traces_are_a_sample() -> None:
    sink = Sink("Sink")
    servers = [Server(f"S{i}", concurrency=2, service_time=ExponentialLatency(0.04 * (i + 1)),
                      downstream=sink) for i in range(3)]
    lb = LoadBalancer("LB", backends=servers, strategy=RoundRobin())
    client = Client("Client", lb, timeout=0.25, retry_policy=ExponentialBackoff(
        max_attempts=3, initial_delay=0.02, max_delay=0.2))
    users = Source.poisson(rate=40.0, target=client, name="Users", stop_after=20.0)
    sim = Simulation(sources=[users], entities=[*servers, sink, lb, client], seed=3,
                     end_time=20.0,
                     observability=ObservabilityConfig.full().replace(trace_sample_rate=0.1))
    sim.run()
    doc = Exporter(sim).summary()
    assert doc["traces"]["count"] < 200  # (the sample)
    assert "trace_sample_rate" in json.dumps({"run": doc["run"], "traces": doc["traces"]})
