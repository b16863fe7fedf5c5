"""A request crossing a network link gets a span of its own (send to arrival; a lost one
zero-length at the send, an event a partition cuts a zero-length span at the network),
so its trace shows the hop and the traced topology shows the edges through the link;
the hop's attributes (source, destination, outcome) answer span queries, counts that
agree with the link's counters."""

from __future__ import annotations

from typing import Any

import pytest

from happysimulator import ConstantLatency, Entity, Server, Simulation, Sink, Source
from happysimulator.components.network import Network, NetworkLink
from happysimulator.observability import ObservabilityConfig


def _link_model(loss: float = 0.0) -> tuple[Simulation, NetworkLink]:
    sink = Sink("Sink")
    server = Server("Server", service_time=ConstantLatency(0.01), downstream=sink)
    link = NetworkLink("wan", latency=0.02, packet_loss_rate=loss, egress=server)
    users = Source.constant(rate=20.0, target=link, name="Users", stop_after=2.0)
    sim = Simulation(sources=[users], entities=[link, server, sink], seed=3, end_time=3.0,
                     observability=ObservabilityConfig.full())
    return sim, link


def test_a_request_crossing_a_link_has_the_hop_in_its_trace() -> None:
    sim, link = _link_model()
    sim.run()
    store = sim.query.trace_store
    tid = store.trace_ids()[0]
    spans = store.trace(tid)
    assert [s.entity for s in spans] == ["Users", "wan", "Server", "Sink"]
    by = {s.entity: s for s in spans}
    hop = by["wan"]
    assert hop.parent_id == by["Users"].span_id and by["Server"].parent_id == hop.span_id
    assert hop.duration == pytest.approx(0.02)
    assert hop.attributes == {"source": None, "destination": "Server",
                              "outcome": "delivered"}
    edges = {(a, b) for a, b, _ in store.edges()}
    assert {("Users", "wan"), ("wan", "Server")} <= edges
    count = sim.query.spans().from_entity("wan").where(outcome="delivered").aggregate(
        "count").execute().rows[0]["count"]
    assert count == link.packets_sent > 0


def test_a_lost_packet_ends_its_trace_at_the_link() -> None:
    sim, link = _link_model(loss=0.5)
    sim.run()
    lost = sim.query.spans().from_entity("wan").where(outcome="lost").execute().rows
    assert len(lost) == link.packets_dropped > 0
    assert all(r["duration"] == 0.0 for r in lost)
    trace = sim.query.trace_store.trace(lost[0]["trace_id"])
    assert [s.entity for s in trace] == ["Users", "wan"]


class Caller(Entity):
    """Sends each request it gets to `dest` over the network."""

    def __init__(self, name: str, network: Network, dest: Entity) -> None:
        super().__init__(name)
        self.network, self.dest = network, dest

    def handle_event(self, event: Any) -> Any:
        return self.network.send(self, self.dest, "Call")


def test_a_network_route_and_a_partition_show_in_spans() -> None:
    sink = Sink("Sink")
    network = Network("net")
    caller = Caller("Caller", network, sink)
    network.add_link(caller, sink, NetworkLink("c2s", latency=0.01))
    users = Source.constant(rate=10.0, target=caller, name="Users", stop_after=2.0)
    sim = Simulation(sources=[users], entities=[network, caller, sink], seed=1,
                     end_time=3.0, observability=ObservabilityConfig.full())
    assert sim.query.catalog()["span_attributes"]["c2s"] == ["destination", "outcome",
                                                             "source"]
    sim.control.run_until(1.0)
    network.partition([caller], [sink])
    sim.run()
    rows = sim.query.spans().from_entity("c2s").group_by("destination").aggregate(
        "count").execute().rows
    assert [r["destination"] for r in rows] == ["Sink"] and rows[0]["count"] > 0
    cut = sim.query.spans().from_entity("net").where(outcome="partition").aggregate(
        "count").execute().rows[0]["count"]
    assert cut == network.events_dropped_partition > 0
    tid = sim.query.spans().from_entity("c2s").execute().rows[0]["trace_id"]
    assert [s.entity for s in sim.query.trace_store.trace(tid)] == ["c2s", "Sink"]
    # the topology: the network's link wired and seen carrying requests to the sink
    link = next(e for e in sim.query.catalog()["entities"] if e["name"] == "c2s")
    assert link["downstream"] == ["Sink"]
    assert link["observed_downstream"][0]["to"] == "Sink"
