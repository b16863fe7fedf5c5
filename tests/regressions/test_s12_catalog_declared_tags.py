"""The catalog's known ``tags`` of a series are only the tag keys seen in samples so far,
not the keys the component declares: before the run, ``LB.routed`` (declared
``tags=("backend",)``) and ``Client.failures`` (declared ``tags=("reason",)``, and
named "tagged ``reason``" in docs/design.md) both list ``tags: []``; after a run,
``routed`` lists ``["backend"]`` but ``failures``, which had no failure yet, still lists
``[]``. docs/protocol.md: ``catalog`` gives "series with kind, unit and known tags ...
Available before the run", and docs/design.md: "declared tag keys are known to queries".
An agent planning a tag-split query from the catalog before running (or before the first
failure) is told the series has no tags: the answer depends on when it asks.

Repro (session 12, rev4): Users -> Client (retries) -> LB (round robin) -> 2 servers,
``catalog`` before ``run``: metrics rows for (LB, routed) and (Client, failures) have
``tags: []``. Expected: ``["backend"]`` and ``["reason"]`` before and after the run.
Area: happysimulator/observability/protocol (catalog), happysim_rx (catalog of series:
the declared ``Series.tags`` of happysimulator/core/observed.py are not carried).
"""

from __future__ import annotations

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.components.client import Client, ExponentialBackoff
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol import SessionProtocol


def build(seed: int = 1) -> Simulation:
    sink = Sink("Sink")
    servers = [Server(f"S{i}", service_time=ExponentialLatency(0.01), downstream=sink)
               for i in range(2)]
    lb = LoadBalancer("LB", backends=servers, strategy=RoundRobin())
    client = Client("Client", lb, timeout=1.0, retry_policy=ExponentialBackoff(
        max_attempts=2, initial_delay=0.01, max_delay=0.1))
    users = Source.poisson(rate=10.0, target=client, name="Users", stop_after=2.0)
    return Simulation(sources=[users], entities=[*servers, sink, lb, client], seed=seed,
                      end_time=2.0, observability=ObservabilityConfig.full())


def _tags(session: SessionProtocol) -> dict:
    metrics = session.handle({"op": "catalog", "budget_bytes": 1_000_000})["catalog"]["metrics"]
    return {(m["source"], m["name"]): m.get("tags") for m in metrics
            if (m["source"], m["name"]) in {("LB", "routed"), ("Client", "failures")}}


def test_tags_seen_in_samples_are_listed_after_the_run() -> None:
    session = SessionProtocol(build, default_wait_s=60)
    try:
        session.handle({"op": "run"})
        assert _tags(session)[("LB", "routed")] == ["backend"]
    finally:
        session.close()


def test_declared_tags_are_listed_before_the_run() -> None:
    session = SessionProtocol(build, default_wait_s=60)
    try:
        assert _tags(session) == {("LB", "routed"): ["backend"],
                                  ("Client", "failures"): ["reason"]}
    finally:
        session.close()


def test_a_declared_tag_is_listed_before_its_first_sample() -> None:
    session = SessionProtocol(build, default_wait_s=60)
    try:
        session.handle({"op": "run"})  # no request fails: failures has no sample
        assert _tags(session)[("Client", "failures")] == ["reason"]
    finally:
        session.close()
