"""A span query's attribute keys follow the metrics' tag-key rule: a key is valid if the
entity's component declares it (``span_attributes``, listed in the catalog before the
run) or any recorded span of the entity carried it; any other key is refused naming the
valid ones, with or without data, in Python and through the protocol."""

from __future__ import annotations

from typing import Any

import pytest

from happysim_rx import QueryError
from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.observability import InstrumentedEntity, ObservabilityConfig
from happysimulator.observability.protocol import SessionProtocol


class Lane(InstrumentedEntity):
    """A user entity whose spans carry an undeclared attribute (``lane``)."""

    def __init__(self, name: str, downstream: Any) -> None:
        super().__init__(name)
        self.downstream = downstream

    def handle_event(self, event: Any) -> Any:
        self.record_span(event, self.now.to_seconds(), lane="fast")
        return [self.forward(event, self.downstream)]


def build(seed: int = 1) -> Simulation:
    sink = Sink("Sink")
    servers = [Server(f"S{i}", service_time=ExponentialLatency(0.05), downstream=sink)
               for i in range(2)]
    lb = LoadBalancer("LB", backends=servers, strategy=RoundRobin())
    lane = Lane("Lane", lb)
    users = Source.poisson(rate=10.0, target=lane, name="Users", stop_after=2.0)
    return Simulation(sources=[users], entities=[*servers, sink, lb, lane], seed=seed,
                      end_time=2.0, observability=ObservabilityConfig.full())


def _count(sim: Simulation, entity: str, tags: dict[str, Any]) -> int:
    result = sim.query.spans().from_entity(entity).where(**tags).aggregate("count").execute()
    return result.rows[0]["count"]


def test_a_typo_is_refused_before_and_after_the_run_naming_the_valid_keys() -> None:
    sim = build()
    for _ in range(2):  # before any span, then after the run: the same refusal
        with pytest.raises(QueryError, match=r"bkend.*'backend'") as info:
            _count(sim, "LB", {"bkend": "S0"})
        assert info.value.valid == ["backend"]
        sim.run()


def test_declared_keys_filter_before_any_span_and_carried_keys_once_recorded() -> None:
    sim = build()
    assert _count(sim, "LB", {"backend": "S0"}) == 0  # declared: valid, nothing yet
    assert _count(sim, "S*", {"status": "dropped"}) == 0  # a station's declared keys
    with pytest.raises(QueryError, match="lane"):  # undeclared, not carried yet
        _count(sim, "Lane", {"lane": "fast"})
    assert sim.query.catalog()["span_attributes"]["LB"] == ["backend"]
    sim.run()
    assert _count(sim, "Lane", {"lane": "fast"}) > 0
    assert _count(sim, "LB", {"backend": "S0"}) > 0
    assert "lane" in sim.query.catalog()["span_attributes"]["Lane"]
    # the keys are those of the selected entities: Lane's are not the LB's
    with pytest.raises(QueryError, match="lane"):
        _count(sim, "LB", {"lane": "fast"})
    assert _count(sim, "*", {"lane": "fast"}) == _count(sim, "Lane", {"lane": "fast"})


def test_a_group_by_key_follows_the_same_rule() -> None:
    sim = build()
    sim.run()
    rows = sim.query.spans().from_entity("LB").group_by("backend").aggregate(
        "count").execute().rows
    assert {r["backend"] for r in rows} == {"S0", "S1"}
    assert len(sim.query.spans().group_by("entity").aggregate("count").execute().rows) > 1
    with pytest.raises(QueryError, match="backnd"):
        sim.query.spans().from_entity("LB").group_by("backnd").aggregate("count").execute()


def test_the_protocol_refuses_with_the_valid_list() -> None:
    session = SessionProtocol(build, default_wait_s=60)
    try:
        answer = session.handle({"op": "query", "query": {
            "kind": "spans", "entity": "LB", "tags": {"bkend": "S0"},
            "aggregates": ["count"]}})
        assert not answer["ok"] and answer["error"]["valid"] == ["backend"]
        catalog = session.handle({"op": "catalog"})["catalog"]
        assert catalog["span_attributes"]["LB"] == ["backend"]
        session.handle({"op": "run"})
        answer = session.handle({"op": "query", "query": {
            "kind": "spans", "entity": "LB", "tags": {"backend": "S0"},
            "aggregates": ["count"]}})
        assert answer["ok"] and answer["result"]["rows"][0]["count"] > 0
    finally:
        session.close()


def test_the_mcp_tool_refuses_with_the_valid_list() -> None:
    pytest.importorskip("mcp")
    import anyio
    from mcp import Client

    from happysimulator.observability.mcp_server import build_server
    from tests.agent.test_agent_mcp import call

    async def main() -> dict[str, Any]:
        session = SessionProtocol(build, default_wait_s=60)
        try:
            async with Client(build_server(session)) as client:
                await call(client, "run", {"wait_s": 60})
                return await call(client, "query", {"query": {
                    "kind": "spans", "entity": "LB", "tags": {"bkend": "S0"},
                    "aggregates": ["count"]}})
        finally:
            session.close()

    answer = anyio.run(main)
    assert not answer["ok"] and answer["error"]["valid"] == ["backend"]
