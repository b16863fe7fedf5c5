"""A retry's Client span is parented to the previous attempt's Sink hop when that attempt
timed out but its server still finished (and handed the request to its Sink) before the
retry was sent: the retry joins "the request's trace after its previous hop" instead of
the request's root. The topology then shows an edge that does not exist: the catalog's
``observed_downstream`` of the Sink lists ``{"to": "Client", "requests": 9}``, and a
trace tree hangs attempt 2 under the Sink.

Repro (session 12, rev4): Users (Poisson 40/s, seed 1, 10 s) -> Client (timeout 0.25 s,
ExponentialBackoff 3 attempts) -> CircuitBreaker -> LB (round robin) -> S0..S2
(2 workers, exponential 0.04/0.08/0.12 s) -> Sink. Trace 23: Users span 23000 at 0.604;
attempt 1 (Client, timeout at 0.854); S1 ends 0.8585 -> Sink span 23002; attempt 2 at
0.874 has parent_id 23002 (the Sink) — expected 23000 (the root, as attempt 1 and as
tests/regressions/test_s9_retry_span_parents.py holds for retries). 9 such retries in
the run. Area: happysimulator/observability/hop_parents.py / spans.py (the parent a new
Client span takes), happysimulator/components/client/client.py, topology.py.
"""

from __future__ import annotations

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.components.client import Client, ExponentialBackoff
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.components.resilience import CircuitBreaker
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol import SessionProtocol


def build(seed: int = 1, end: float = 10.0) -> Simulation:
    sink = Sink("Sink")
    servers = [Server(f"S{i}", concurrency=2, service_time=ExponentialLatency(0.04 * (i + 1)),
                      downstream=sink) for i in range(3)]
    lb = LoadBalancer("LB", backends=servers, strategy=RoundRobin())
    cb = CircuitBreaker("Breaker", lb, failure_threshold=5, success_threshold=2, timeout=1.0)
    client = Client("Client", cb, timeout=0.25, retry_policy=ExponentialBackoff(
        max_attempts=3, initial_delay=0.02, max_delay=0.2))
    users = Source.poisson(rate=40.0, target=client, name="Users", stop_after=end)
    return Simulation(sources=[users], entities=[*servers, sink, lb, cb, client], seed=seed,
                      end_time=end, observability=ObservabilityConfig.full())


def test_every_client_attempt_is_a_child_of_the_requests_root() -> None:
    sim = build()
    sim.run()
    rows = sim.query.spans().execute().rows
    by_id = {r["span_id"]: r for r in rows}
    attempts = [r for r in rows if r["entity"] == "Client"]
    assert sum(r["attributes"]["attempt"] > 1 for r in attempts) >= 9
    parents = {by_id[r["parent_id"]]["entity"] for r in attempts}
    assert parents == {"Users"}


def test_the_topology_shows_no_edge_out_of_the_sink() -> None:
    session = SessionProtocol(build, default_wait_s=60)
    try:
        session.handle({"op": "run"})
        entities = session.handle({"op": "catalog", "budget_bytes": 1_000_000})["catalog"][
            "entities"]
        (sink,) = [e for e in entities if e["name"] == "Sink"]
        assert not sink.get("observed_downstream")
    finally:
        session.close()
