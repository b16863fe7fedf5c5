"""Network links and networks: series in the catalog before the run, counts that add up,
and theory: a lossy link delivers a fraction 1 - p (binomial CI); serialization at the
link's bandwidth gives the delays a single transmitter gives."""

from __future__ import annotations

import math

import pytest

from happysimulator import Entity, Event, Instant, Simulation, Source
from happysimulator.components.network import Network, NetworkLink, lossy_network
from happysimulator.faults import FaultSchedule, InjectPacketLoss, NetworkPartition
from happysimulator.observability import ObservabilityConfig


class Collector(Entity):
    def __init__(self, name):
        super().__init__(name)
        self.got: list[float] = []

    def handle_event(self, event):
        self.got.append(self.now.to_seconds())


def _sum(sim, name, entity, **where):
    q = sim.query.metrics(name).from_entity(entity)
    if where:
        q = q.where(**where)
    return q.aggregate("sum").execute().scalar or 0.0


@pytest.mark.parametrize("p", [0.05, 0.3])
def test_lossy_link_delivers_one_minus_p(p):
    sink = Collector("sink")
    link = lossy_network(p, name="wan")
    link.egress = sink
    n = 20000
    source = Source.constant(rate=1000.0, target=link, limit=n)
    sim = Simulation(sources=[source], entities=[link, sink], seed=7,
                     observability=ObservabilityConfig.full())
    listed = {(m["source"], m["name"]) for m in sim.query.catalog()["metrics"]}
    assert {("wan", "delivered"), ("wan", "lost"), ("wan", "delay")} <= listed
    sim.run()
    sent = link.packets_sent + link.packets_dropped
    assert sent == n
    delivered = _sum(sim, "delivered", "wan")
    assert delivered == link.packets_sent == len(sink.got)
    assert _sum(sim, "lost", "wan") == link.packets_dropped
    # binomial: the delivered fraction is within 4 standard errors of 1 - p
    se = math.sqrt(p * (1 - p) / n)
    assert abs(delivered / n - (1 - p)) < 4 * se
    # every delivered packet took the link's constant 10 ms
    d = sim.query.metrics("delay").from_entity("wan")
    assert d.aggregate("min").execute().scalar == pytest.approx(0.010)
    assert d.aggregate("max").execute().scalar == pytest.approx(0.010)


def test_bandwidth_serializes_packets():
    sink = Collector("sink")
    link = NetworkLink("wire", latency=0.001, bandwidth_bps=8000.0, egress=sink)  # 1 kB/s
    sim = Simulation(entities=[link, sink], observability=ObservabilityConfig.full())
    for _ in range(3):  # three 100-byte packets sent at once: 0.1 s each on the wire
        e = Event(time=Instant.Epoch, event_type="data", target=link)
        e.context["metadata"]["payload_size"] = 100
        sim.schedule(e)
    sim.run()
    assert sink.got == pytest.approx([0.101, 0.201, 0.301])
    assert link.bytes_transmitted == 300
    assert sim.query.metrics("in_transit").from_entity("wire").aggregate(
        "max").execute().scalar == 3


def test_partition_and_loss_faults_on_a_network():
    a, b = Collector("a"), Collector("b")
    net = Network("net")
    net.add_bidirectional_link(a, b, NetworkLink("ab", latency=0.002))

    class Pinger(Entity):
        def handle_event(self, event):
            return net.send(a, b, "ping")

    pinger = Pinger("pinger")
    source = Source.constant(rate=100.0, target=pinger, stop_after=3.0)
    faults = FaultSchedule()
    faults.add(NetworkPartition(["a"], ["b"], start=1.0, end=2.0))
    faults.add(InjectPacketLoss("a", "b", loss_rate=1.0, start=2.5, end=3.5))
    sim = Simulation(sources=[source], entities=[net, pinger, a, b], seed=1,
                     fault_schedule=faults, observability=ObservabilityConfig.full())
    sim.run()
    # pings every 10 ms from 0.01 to 3.00; the faults fire before a ping at the same time
    cut = _sum(sim, "dropped", "net", reason="partition")
    assert cut == net.events_dropped_partition == 100  # 1.00 .. 1.99
    assert _sum(sim, "lost", "ab") == net.get_link("a", "b").packets_dropped == 51  # 2.50..
    # nothing arrived while cut or while the link lost everything
    assert not [t for t in b.got if 1.0 + 0.002 < t < 2.0]
    assert not [t for t in b.got if 2.5 + 0.002 < t <= 3.0 + 0.002]
    assert faults.stats.faults_activated == 2
