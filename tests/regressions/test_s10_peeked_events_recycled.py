"""An event handed out by ``sim.control.peek_next`` keeps saying what it is after the run
goes on.

Found by the session-10 review (rev2), by experiment. While nobody watches processed
events (`Engine.may_recycle` / `unseen`), a `Server` reuses its ``ServiceDone`` objects
and a `QueuedResource` its finished generator services (this session: up to four spares
per resource instead of one) for later requests. `peek_next` hands out those very
objects, so a caller who keeps them (a debugger's "next events" list, an agent comparing
before and after a resume) later reads another request's context through them: for a
`Server` at the session start (e94af9b) as well, for a generator `QueuedResource` more
often since the spares list (8 -> 15 of 27 peeked services in the experiment below with
concurrency 3). Area: event recycling vs `SimulationControl.peek_next`.

Fixed the same session: from the first peek on, the run reuses no processed event
(`LoopPlan.held`)."""

from __future__ import annotations

from happysimulator import ExponentialLatency, QueuedResource, Simulation, Source
from happysimulator.components.server import Server


class _Worker(QueuedResource):
    def handle_queued_event(self, event):
        yield ExponentialLatency(0.1).sample(self.rng)


def _changed(resource) -> list:
    sim = Simulation(sources=[Source.poisson(rate=15.0, target=resource, stop_after=5.0)],
                     entities=[resource], seed=3)
    held = []
    for k in range(12):
        sim.control.run_until(0.5 + 0.3 * k)
        held += [(e, e.event_type, e.context["id"]) for e in sim.control.peek_next(6)]
    sim.control.run_to_end()
    assert held
    return [(t, cid, e.context["id"]) for e, t, cid in held
            if (e.event_type, e.context["id"]) != (t, cid)]


def test_a_peeked_server_completion_keeps_its_request():
    assert _changed(Server("S", concurrency=2, service_time=ExponentialLatency(0.1))) == []


def test_a_peeked_generator_service_keeps_its_request():
    assert _changed(_Worker("W", concurrency=3)) == []
