"""An events query's tag keys follow the metrics' tag-key rule: a key is valid if the
source's component declares it for the event type (``event_tags``, listed in the catalog
before the run) or any recorded event of the selection carried it
(``emit_event(name, payload, **tags)``); any other key -- a typo, a payload field -- is
refused naming the valid ones, with or without data, in Python and through the protocol
(it used to answer ``count: 0``)."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from happysim_rx import QueryError
from happysimulator import Simulation, Sink, Source
from happysimulator.observability import InstrumentedEntity, ObservabilityConfig
from happysimulator.observability.protocol import SessionProtocol


class Tagger(InstrumentedEntity):
    """Emits ``picked`` with a declared tag (``lane``) and ``noted`` with an undeclared
    one (``shade``), both with a dict payload."""

    event_tags: ClassVar[dict[str, tuple[str, ...]]] = {"picked": ("lane",)}

    def __init__(self, name: str, downstream: Any) -> None:
        super().__init__(name)
        self.downstream = downstream
        self.n = 0

    def handle_event(self, event: Any) -> Any:
        self.n += 1
        lane = "a" if self.n % 2 else "b"
        self.emit_event("picked", {"n": self.n}, lane=lane)
        self.emit_event("noted", {"n": self.n}, shade="dark")
        return [self.forward(event, self.downstream)]


def build(seed: int = 1) -> Simulation:
    sink = Sink("Sink")
    tagger = Tagger("Tagger", sink)
    users = Source.poisson(rate=10.0, target=tagger, name="Users", stop_after=2.0)
    return Simulation(sources=[users], entities=[tagger, sink], seed=seed, end_time=2.0,
                      observability=ObservabilityConfig.full())


def _count(sim: Simulation, name: str, tags: dict[str, Any], entity: str = "*") -> int:
    result = (sim.query.events(name).from_entity(entity).where(**tags)
              .aggregate("count").execute())
    return result.rows[0]["count"]


def test_a_typo_or_a_payload_field_is_refused_before_and_after_the_run() -> None:
    sim = build()
    for _ in range(2):  # before any event, then after the run: the same refusal
        with pytest.raises(QueryError, match=r"lan.*'lane'") as info:
            _count(sim, "picked", {"lan": "a"})
        assert info.value.valid == ["lane"]
        with pytest.raises(QueryError, match="payload"):  # `n` is in the payload
            _count(sim, "picked", {"n": 1})
        sim.run()


def test_declared_keys_filter_before_any_event_and_carried_keys_once_recorded() -> None:
    sim = build()
    assert _count(sim, "picked", {"lane": "a"}) == 0  # declared: valid, nothing yet
    with pytest.raises(QueryError, match="shade"):  # undeclared, not carried yet
        _count(sim, "*", {"shade": "dark"}, entity="Tagger")
    sim.run()
    picked = sim.query.events("picked").aggregate("count").execute().scalar
    a, b = _count(sim, "picked", {"lane": "a"}), _count(sim, "picked", {"lane": "b"})
    assert a > 0 and b > 0 and a + b == picked
    assert _count(sim, "noted", {"shade": "dark"}) == picked
    # the keys are those of the selected events: `noted`'s are not `picked`'s
    with pytest.raises(QueryError, match="shade"):
        _count(sim, "picked", {"shade": "dark"})
    assert _count(sim, "*", {"shade": "dark"}) == picked
    with pytest.raises(QueryError, match="lane"):  # nothing of the sink carries it
        _count(sim, "*", {"lane": "a"}, entity="Sink")
    tags = {(e["source"], e["name"]): e["tags"] for e in sim.query.catalog()["events"]}
    assert tags[("Tagger", "picked")] == ["lane"] and tags[("Tagger", "noted")] == ["shade"]


def test_a_group_by_key_follows_the_same_rule() -> None:
    sim = build()
    sim.run()
    rows = sim.query.events("picked").group_by("lane").aggregate("count").execute().rows
    assert {r["lane"] for r in rows} == {"a", "b"}
    by_name = sim.query.events("*").group_by("name").aggregate("count").execute().rows
    assert {"picked", "noted"} <= {r["name"] for r in by_name}  # a row field: no tag
    with pytest.raises(QueryError, match="lnae"):
        sim.query.events("picked").group_by("lnae").aggregate("count").execute()


def test_the_protocol_refuses_with_the_valid_list() -> None:
    session = SessionProtocol(build, default_wait_s=60)
    try:
        query = {"kind": "events", "name": "picked", "tags": {"lan": "a"},
                 "aggregates": ["count"]}
        answer = session.handle({"op": "query", "query": query})
        assert not answer["ok"] and answer["error"]["valid"] == ["lane"]
        session.handle({"op": "run"})
        answer = session.handle({"op": "query", "query": query})
        assert not answer["ok"] and answer["error"]["valid"] == ["lane"]
        answer = session.handle({"op": "query", "query": {**query, "tags": {"lane": "a"}}})
        assert answer["ok"] and answer["result"]["rows"][0]["count"] > 0
    finally:
        session.close()


def test_on_a_bus_a_typo_was_answered_zero_and_dropped_events_keep_their_keys() -> None:
    from happysim_rx import ManualClock, ObservationBus, QueryEngine
    from happysim_rx.observation import ObservationKind
    from happysim_rx.stores import EventStore

    bus = ObservationBus(ManualClock())
    bus.attach_store(EventStore(max_events=4))
    topic = bus.topic(ObservationKind.EVENT, "LB", "health")
    topic.emit(0.0, {"backend": "S0"}, {"zone": "eu"})  # dropped by the bound below
    for i in range(1, 10):
        topic.emit(float(i), None)
    engine = QueryEngine(bus)
    # (before: ``count 0, exact`` for the typo, as for any filter nothing matches)
    with pytest.raises(QueryError, match="zoen") as info:
        engine.events("health").where(zoen="eu").aggregate("count").execute()
    assert info.value.valid == ["zone"]
    result = engine.events("health").since(6.0).where(zone="eu").aggregate("count").execute()
    assert result.rows[0]["count"] == 0  # a key the dropped event carried stays valid


def test_mcp_refuses_with_the_valid_keys_in_its_answer_and_text() -> None:
    pytest.importorskip("mcp")
    import anyio
    from mcp import Client

    from happysimulator.observability.mcp_server import build_server

    session = SessionProtocol(build, default_wait_s=60)

    async def main() -> tuple[Any, Any]:
        async with Client(build_server(session), mode="legacy") as client:
            return await client.call_tool("query", {"query": {
                "kind": "events", "name": "picked", "tags": {"lan": "a"},
                "aggregates": ["count"]}})

    try:
        result = anyio.run(main)
    finally:
        session.close()
    assert result.is_error and result.structured_content["error"]["valid"] == ["lane"]
    assert "Valid: lane." in result.content[0].text
