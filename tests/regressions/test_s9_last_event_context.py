"""A pause's ``last_event`` is a generator's continuation: its context must be the
request's (the id and creation time the handler saw), not a fresh one.

Found by the session-9 review (helper rev): the run loop keeps a *copy* of a process
continuation as the last logged event (`RunLoop._keep_logged`, since a939be7: its object
may run again), made with ``new_event(t, type, target)``, which drops the context; reading
``last_event.context`` then makes a new one (a detached id, ``created_at`` = the pause).
Before a939be7 only a continuation that had rescheduled itself was copied (the second
test: wrong at the session start too); since, every one is (the first test: right at the
session start). Fixed: the copy keeps the continuation's context."""

from __future__ import annotations

from happysimulator import Entity, ExponentialLatency, QueuedResource, Simulation, Source
from happysimulator.observability import ObservabilityConfig


def _pauses(sim, entity, steps, dt):
    """The continuation events a pause leaves as ``last_event`` (the loop pauses
    ``steps`` times, every ``dt`` simulated seconds)."""
    out = []
    for k in range(1, steps):
        sim.run(until=k * dt)
        le = sim.control.get_state().last_event
        if le is not None and le.target is not entity:  # (a generator's continuation)
            out.append(le)
    return out


def test_last_event_at_a_queued_resources_service_end_has_the_requests_context():
    ended = {}  # end time (ns) -> (id, created_ns) of the request whose service ended

    class Worker(QueuedResource):
        def handle_queued_event(self, event):
            yield ExponentialLatency(0.1).sample(self.rng)
            c = event.context
            ended[self.now.nanoseconds] = (c["id"], c["created_at"].nanoseconds)

    w = Worker("Server", concurrency=1)
    sim = Simulation(sources=[Source.poisson(rate=8.0, target=w, stop_after=3.0)],
                     entities=[w], seed=3, observability=ObservabilityConfig.full())
    seen = [(ended[le.time.nanoseconds], (le.context["id"], le.context["created_at"].nanoseconds))
            for le in _pauses(sim, w, 80, 0.0371) if le.time.nanoseconds in ended]
    assert len(seen) > 20
    assert [want for want, _ in seen] == [got for _, got in seen]


def test_last_event_of_a_generator_entity_has_the_requests_context():
    created = {}  # request id -> created_ns

    class Gen(Entity):
        def handle_event(self, event):
            created[event.context["id"]] = event.context["created_at"].nanoseconds
            for _ in range(3):
                yield 0.1

    g = Gen("G")
    sim = Simulation(sources=[Source.poisson(rate=2.0, target=g, stop_after=3.0)],
                     entities=[g], seed=3, observability=ObservabilityConfig.full())
    kept = _pauses(sim, g, 150, 0.0171)
    assert len(kept) > 50
    assert [created.get(le.context["id"]) for le in kept] == [
        le.context["created_at"].nanoseconds for le in kept]
