"""A request's spans follow it client -> balancer -> server, each attempt a span of its
own; the component spans and the standard ones form one tree per request."""

from __future__ import annotations

from happysimulator import ConstantLatency, Server, Simulation, Source
from happysimulator.components.client import Client, FixedRetry
from happysimulator.components.load_balancer import LoadBalancer
from happysimulator.components.resilience import CircuitBreaker
from happysimulator.observability import ObservabilityConfig


def _run(end=20.0, service=0.3):
    servers = [Server(f"S{i}", concurrency=1, service_time=ConstantLatency(service))
               for i in range(2)]
    lb = LoadBalancer("LB", backends=servers)
    cb = CircuitBreaker("CB", lb, failure_threshold=1000)
    client = Client("Client", cb, timeout=0.5, retry_policy=FixedRetry(3, 0.05))
    src = Source.poisson(rate=8.0, target=client, stop_after=end, name="Users")
    sim = Simulation(sources=[src], entities=[*servers, lb, cb, client], seed=4,
                     observability=ObservabilityConfig.full())
    sim.run()
    return sim


def test_every_trace_is_one_tree_in_hop_order():
    sim = _run()
    ts = sim.query.trace_store
    retried = 0
    for tid in ts.trace_ids():
        spans = ts.trace(tid)
        by_id = {s.span_id: s for s in spans}
        roots = [s for s in spans if s.parent_id is None]
        assert [r.entity for r in roots] == ["Users"], spans
        attempts = [s for s in spans if s.entity == "Client"]
        assert sorted(a.attributes["attempt"] for a in attempts) == list(
            range(1, len(attempts) + 1))
        retried += len(attempts) > 1
        for s in spans:
            parent = by_id.get(s.parent_id)
            expected = {"Users": None, "Client": "Users", "CB": "Client", "LB": "CB",
                        "S0": "LB", "S1": "LB"}[s.entity]
            assert (parent.entity if parent else None) == expected, (s, parent)
            if parent is not None:  # a hop lies within the hop that sent it
                assert parent.start <= s.start
                if s.entity in ("CB", "LB") and parent.attributes.get("outcome") == "ok":
                    assert s.end <= parent.end  # (a timed-out attempt ends first)
        # parents come before their children
        seen = set()
        for s in spans:
            assert s.parent_id is None or s.parent_id in seen
            seen.add(s.span_id)
    assert retried > 5  # the 0.5 s timeout against 0.3 s service at rho 1.2 retries


def test_a_timed_out_attempt_span_lasts_the_timeout():
    sim = _run(end=10.0, service=0.6)
    ts = sim.query.trace_store
    for tid in ts.trace_ids():
        for s in ts.trace(tid):
            if s.entity == "Client" and s.attributes["outcome"] == "timeout":
                assert abs((s.end - s.start) - 0.5) < 1e-9
