"""``sim.failed_event`` is the event whose handling raised, as it was processed.

Found by the session-9 review (helper rev): a `QueuedResource` generator service that
ends starts the next waiting request in its own frame and, while nobody sees processed
events, *reuses its own object* for it (`_Service._finish`, 618faea/b38325c). When that
next request's first step raises, the event being processed -- request A's service
end -- has already been rewritten as request B's service (context, origin), so
``failed_event.context`` names B, created when B was. At the session start (2c315f4) it
named A, the request whose service-end event was processed. Fixed: the finishing
service never serves the next request itself (it becomes the spare for a later start)."""

from __future__ import annotations

import pytest

from happysimulator import ExponentialLatency, QueuedResource, Simulation, Source
from happysimulator.observability import ObservabilityConfig


def test_failed_event_is_the_processed_service_end_not_the_next_request():
    started = []  # the context ids of the requests whose service started
    ended = []  # ... and ended

    class Worker(QueuedResource):
        def handle_queued_event(self, event):
            started.append(event.context["id"])
            if len(started) == 30:
                raise RuntimeError("the 30th request's handler fails at once")
            yield ExponentialLatency(0.1).sample(self.rng)
            ended.append(event.context["id"])

    w = Worker("Server", concurrency=1)
    sim = Simulation(sources=[Source.poisson(rate=12.0, target=w, stop_after=5.0)],
                     entities=[w], seed=3, observability=ObservabilityConfig.full())
    with pytest.raises(RuntimeError):
        sim.run()
    failed = sim.failed_event
    assert failed is not None
    # the 30th started from inside the 29th's service end (the queue was not empty): the
    # processed event was that service end
    assert w.depth > 0 and len(ended) == 29
    assert failed.context["id"] == ended[-1]
