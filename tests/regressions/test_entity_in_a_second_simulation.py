"""An entity built once and used in a second simulation records in that simulation.

Its series topics were cached on the entity without the simulation they belong to, so a
model rebuilt around the same entity objects (a notebook re-running a cell that makes a
new `Simulation`) sent its events and state changes to the first run's bus.
"""

from __future__ import annotations

from happysimulator import Event, Simulation
from happysimulator.observability import InstrumentedEntity, ObservabilityConfig


class Probe(InstrumentedEntity):
    def handle_event(self, event: Event):
        self.observe("latency", 0.5)
        self.set_gauge("level", 2.0)
        self.increment("hits")
        self.emit_event("probe.fired", {"n": 1})
        return None


def _run(probe: Probe) -> Simulation:
    sim = Simulation(entities=[probe], observability=ObservabilityConfig.full())
    sim.schedule(Event(time=sim.now, event_type="go", target=probe))
    sim.run()
    return sim


def test_the_second_simulation_records_what_the_entity_does_in_it():
    probe = Probe("Probe")
    first = _run(probe)
    second = _run(probe)
    for sim in (first, second):
        q = sim.query
        assert q.metrics("latency").from_entity("Probe").aggregate("count").execute().scalar == 1
        assert q.metrics("hits").from_entity("Probe").aggregate("sum").execute().scalar == 1
        assert q.events("probe.fired").aggregate("count").execute().scalar == 1
