"""Spans that start at one instant (a request's Users, Client, Breaker and LB hops) are
ordered by when they reached the store, and that order changes when the run is paused
or replayed by a fork: a Client's or LoadBalancer's span is handed over when it ends, a
station's at a flush. Raw span rows with ``limit`` and the ``first``/``last``
aggregates pick from that order, so the same question over the same run answers
differently depending on whether (and where) the run was paused, and ``compare``
reports a difference between main and a fork with no change at all.

Repro (session 12, rev4): Users -> Client(timeout, retries) -> CircuitBreaker -> LB ->
3 servers, seed 1, end 8 s. Main paused at t=7.3 s (+5 steps), forked with no change,
both run to the end. ``spans`` between [7.070626465, 7.0706265) (one request's hops, all
starting at that instant) with ``first``: uninterrupted run 0.25 (the Client attempt),
main 0.0 (the Users span), fork 0.25; ``limit 2`` rows: (Client, LB) / (Users, Client) /
(Client, Users). Expected: one answer, whatever the pauses (ties broken by something the
run fixes, e.g. span id). Area: happysim_rx/stores (trace store row order),
happysim_rx/query.py (first/last/limit over spans), protocol ``compare``.
"""

from __future__ import annotations

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.components.client import Client, ExponentialBackoff
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.components.resilience import CircuitBreaker
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol import SessionProtocol

T0, T1 = 7.070626465, 7.0706265


def build(seed: int = 1, end: float = 8.0) -> Simulation:
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


def _answers(sim: Simulation) -> tuple:
    q = sim.query
    first = q.spans().between(T0, T1).aggregate("first").execute().rows[0]["first"]
    rows = q.spans().between(T0, T1).limit(2).execute().rows
    return first, [(r["trace_id"], r["entity"], r["span_id"]) for r in rows]


def test_first_and_limit_over_spans_do_not_depend_on_pauses_or_forks() -> None:
    whole = build()
    whole.run()
    session = SessionProtocol(build, default_wait_s=60)
    try:
        session.handle({"op": "run_until", "time": 7.3})
        session.handle({"op": "step", "n": 5})
        assert session.handle({"op": "fork", "name": "same"})["ok"]
        for branch in ("main", "same"):
            session.handle({"op": "run", "branch": branch, "wait_s": 60})
        main = session._branch_map["main"].sim
        fork = session._branch_map["same"].sim
        assert len(main.query.spans().between(T0, T1).execute().rows) >= 4  # the tie
        assert _answers(main) == _answers(whole)
        assert _answers(fork) == _answers(whole)
    finally:
        session.close()
