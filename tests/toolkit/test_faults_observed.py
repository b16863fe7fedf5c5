"""Faults on any entity (a Server reached only through a router included): what they do
to the model, and how the FaultSchedule records them (catalog before the run, fault.start
/ fault.end events, active_faults, lost / held counters)."""

from __future__ import annotations

import pytest

from happysimulator import Entity, ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.faults import CrashNode, FaultSchedule, PauseNode
from happysimulator.observability import ObservabilityConfig


class Alternate(Entity):
    """A two-backend round-robin router (the servers are reachable only through it)."""

    def __init__(self, name, backends):
        super().__init__(name)
        self.backends = backends
        self.k = 0

    def handle_event(self, event):
        self.k += 1
        return self.forward(event, self.backends[self.k % len(self.backends)])


def _total(sim, name, source, start=None, end=None, **where):
    q = sim.query.metrics(name).from_entity(source)
    if start is not None:
        q = q.between(start, end)
    if where:
        q = q.where(**where)
    return q.aggregate("sum").execute().scalar or 0.0


def _fleet(faults, seed=2, rate=20.0, stop=30.0):
    sink = LatencyTracker("Sink")
    a = Server("a", service_time=ExponentialLatency(0.05), downstream=sink)
    b = Server("b", service_time=ExponentialLatency(0.05), downstream=sink)
    router = Alternate("router", [a, b])
    source = Source.poisson(rate=rate, target=router, stop_after=stop)
    schedule = FaultSchedule()
    for f in faults:
        schedule.add(f)
    sim = Simulation(sources=[source], entities=[router, sink], seed=seed,
                     fault_schedule=schedule, observability=ObservabilityConfig.full())
    return sim, schedule, router, a, b, sink


def test_schedule_series_in_catalog_before_the_run():
    sim, *_ = _fleet([CrashNode("b", at=10.0, restart_at=20.0)])
    catalog = sim.query.catalog()
    listed = {(m["source"], m["name"]) for m in catalog["metrics"]}
    assert {("FaultSchedule", "active_faults"), ("FaultSchedule", "lost")} <= listed
    events = {(e["source"], e["name"]) for e in catalog["events"]}
    assert {("FaultSchedule", "fault.start"), ("FaultSchedule", "fault.end")} <= events
    assert sim.query.events("fault.start").execute().rows == []  # listed, none yet


def test_crash_behind_a_router_loses_its_share_then_recovers():
    sim, schedule, router, a, b, sink = _fleet([CrashNode("b", at=10.0, restart_at=20.0)])
    sim.run()
    # b saw nothing while crashed; what the router sent it then is counted as lost
    assert _total(sim, "arrivals", "b", 10.0, 20.0) == 0
    lost = _total(sim, "lost", "FaultSchedule", entity="b")
    assert lost > 0
    assert router.k == a.arrivals + b.arrivals + lost
    assert _total(sim, "arrivals", "b", 20.0, 31.0) > 0  # serving again after the restart
    # the run's story, from queries
    events = sim.query.events("fault.*").execute().rows
    story = [(e["time"], e["name"], e["value"]["target"]) for e in events
             if e["source"] == "FaultSchedule"]
    assert story == [(10.0, "fault.start", "b"), (20.0, "fault.end", "b")]
    active = sim.query.metrics("active_faults").from_entity("FaultSchedule")
    assert active.between(10.0, 20.0).aggregate("min").execute().scalar == 1
    assert active.between(20.0, 30.0).aggregate("max").execute().scalar == 0
    assert schedule.stats.faults_activated == schedule.stats.faults_deactivated == 1


def test_crash_discards_the_waiting_line_as_drops():
    sink = LatencyTracker("Sink")
    server = Server("s", service_time=1.0, downstream=sink)
    source = Source.constant(rate=5.0, target=server, stop_after=4.0)
    schedule = FaultSchedule()
    schedule.add(CrashNode("s", at=3.0, restart_at=10.0))
    sim = Simulation(sources=[source], entities=[server, sink], fault_schedule=schedule,
                     observability=ObservabilityConfig.full())
    sim.run()
    # arrivals at 0.2, 0.4, ..., 2.8 (the one at 3.0 is lost), two served by then and
    # one in service: the 11 waiting are dropped, as the depth before the crash says,
    # and the one in service too (its result is lost: it does not complete)
    depth = sim.query.metrics("queue_depth").from_entity("s")
    assert depth.between(2.9, 3.0).aggregate("last").execute().scalar == 11
    assert server.dropped == 12
    assert server.arrivals == server.completed + server.dropped
    assert depth.between(3.0, 10.0).aggregate("max").execute().scalar == 0
    assert _total(sim, "dropped", "s") == 12
    assert _total(sim, "completed", "s") == server.completed == 2
    flight = sim.query.metrics("in_flight").from_entity("s")
    assert flight.between(3.0, 10.0).aggregate("max").execute().scalar == 0
    assert len(sink.data.values) == server.completed


def test_pause_holds_then_delivers_in_order():
    sink = LatencyTracker("Sink")
    server = Server("s", service_time=0.01, downstream=sink)
    source = Source.constant(rate=10.0, target=server, stop_after=10.0)
    schedule = FaultSchedule()
    schedule.add(PauseNode("s", start=4.0, end=6.0))
    sim = Simulation(sources=[source], entities=[server, sink], fault_schedule=schedule,
                     observability=ObservabilityConfig.full())
    sim.run()
    held = _total(sim, "held", "FaultSchedule", entity="s")
    assert held == 20  # two seconds of arrivals at 10/s (a completion may be held too)
    assert server.arrivals == 100 and server.completed == 100
    # the held requests waited until the resume: the worst latency is about the pause
    worst = max(v for _, v in sink.data.values)
    assert 1.9 < worst <= 2.0 + 0.01 + 1e-9


def test_unknown_target_names_the_known_ones():
    with pytest.raises(KeyError, match="no entity named 'nope'.*'a'"):
        _fleet([CrashNode("nope", at=1.0)])


def test_bad_window_is_refused():
    with pytest.raises(ValueError, match="after its start"):
        PauseNode("a", start=5.0, end=5.0)



def _calls(fault, stop_after=0.1):
    """`Client` calls every 0.1 s up to `stop_after` to a 1 s server (one at a time)
    under `fault`: (client stats, server)."""
    from happysimulator import ConstantLatency
    from happysimulator.components.client import Client

    server = Server("S", concurrency=1, service_time=ConstantLatency(1.0))
    client = Client("C", server, timeout=3.0)
    users = Source.constant(rate=10, target=client, name="U", stop_after=stop_after)
    faults = FaultSchedule()
    faults.add(fault)
    sim = Simulation(sources=[users], entities=[server, client], end_time=10,
                     fault_schedule=faults, observability=ObservabilityConfig.full())
    sim.run()
    latencies = [r["value"] for r in sim.query.metrics("latency").from_entity("C").execute()
                 .rows]
    return client.stats, server, latencies


@pytest.mark.parametrize("calls", [1, 2])
def test_crash_answers_nobody(calls):
    """A request in service (and one waiting) at the crash is never answered: its caller
    times out, instead of hearing a success when the lost work ends or is discarded."""
    stats, server, _ = _calls(CrashNode("S", at=0.5, restart_at=5.0), stop_after=0.1 * calls)
    # (the one in service and the one waiting are the server's drops)
    assert stats.requests_sent == calls and server.dropped == calls
    assert server.completed == 0
    assert (stats.responses_received, stats.timeouts) == (0, calls)


@pytest.mark.parametrize(("start", "latency"), [(0.5, 1.4), (0.05, 2.4)])
def test_pause_answers_late(start, latency):
    """Paused from `start` to 1.5 s, a call made at 0.1 s is answered once, late: a
    service ending at 1.1 s at 1.5 s; a call reaching the paused server starts at 1.5 s."""
    stats, _, latencies = _calls(PauseNode("S", start=start, end=1.5))
    assert (stats.responses_received, stats.timeouts) == (1, 0)
    assert latencies == [pytest.approx(latency)]
