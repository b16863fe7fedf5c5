"""``compare`` matches rows across branches by their keys, and an unranged query's row
key includes its ``start``, which is the series' first sample: a series that first gets
data after the fork point (failures that the change causes) has ``start: null`` on main
and ``start: 3.117`` on the branch, so the two rows never meet. The answer lists main's
``count`` 0 alone and the branch's ``count``/``sum``/``rate`` alone, with no ``delta``:
the change that made 57 requests fail is not shown as a difference at all.

Repro (session 12, rev4): Users (Poisson 40/s, 8 s) -> Client (timeout 0.25 s,
3 attempts) -> LB (round robin) -> S0..S2 -> Sink; paused at 2 s; ``fork {name:
"slow", set: {"S0.service_time.mean": 2.0, "S0.concurrency": 1}}``; both run to the end;
``compare {query: {kind: metrics, name: failures, entity: Client, aggregates: [sum,
count]}}``. Observed differences: ``{row: {start: null}, count, values {main: 0}}``,
``{row: {start: 3.117}, count, values {slow: 57}}``, ``{..., sum, values {slow: 57}}``.
Expected: one row per aggregate with both branches' values and the delta (the same
question asked of each branch). Area: happysimulator/observability/protocol/
ops_branches.py (_differences: row keys).
"""

from __future__ import annotations

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.components.client import Client, ExponentialBackoff
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol import SessionProtocol


def build(seed: int = 1) -> Simulation:
    sink = Sink("Sink")
    servers = [Server(f"S{i}", concurrency=2, service_time=ExponentialLatency(0.04 * (i + 1)),
                      downstream=sink) for i in range(3)]
    lb = LoadBalancer("LB", backends=servers, strategy=RoundRobin())
    client = Client("Client", lb, timeout=0.25, retry_policy=ExponentialBackoff(
        max_attempts=3, initial_delay=0.02, max_delay=0.2))
    users = Source.poisson(rate=40.0, target=client, name="Users", stop_after=8.0)
    return Simulation(sources=[users], entities=[*servers, sink, lb, client], seed=seed,
                      end_time=8.0, observability=ObservabilityConfig.full())


def test_compare_puts_both_branches_of_an_unranged_question_side_by_side() -> None:
    session = SessionProtocol(build, default_wait_s=60)
    try:
        session.handle({"op": "run_until", "time": 2.0})
        assert session.handle({"op": "fork", "name": "slow", "set": {
            "S0.service_time.mean": 2.0, "S0.concurrency": 1}})["ok"]
        for branch in ("main", "slow"):
            session.handle({"op": "run", "branch": branch})
        answer = session.handle({"op": "compare", "query": {
            "kind": "metrics", "name": "failures", "entity": "Client",
            "aggregates": ["sum", "count"]}, "branches": ["main", "slow"]})
        assert answer["ok"], answer
        counts = [d for d in answer["differences"] if d["aggregate"] == "count"]
        assert len(counts) == 1, counts
        (count,) = counts
        assert count["values"]["main"] == 0 and count["values"]["slow"] > 0, \
            answer["differences"]
        assert count["delta"]["slow"] == count["values"]["slow"]
    finally:
        session.close()
