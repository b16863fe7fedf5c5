"""A user entity's `record_span` hangs the request's source span under its own.

Found by the session-11 review (rev3), by experiment; area: the trace store's join of
spans recorded without id (`_span_ids`) and the hand-over order of station spans (at
flush) vs a user entity's (at once). The same at the session start (434dc2c): not
introduced by this session. Source "Users" -> `G`, an `ObservedEntity` that works 10 ms
then records ``record_span(event, start)`` -- the documented pattern (docs/design.md:
"parent = previous hop"). With no span subscriber (the default) the stored trace has
G's span as its root and the source's span as G's child, with the ids swapped; with a
span subscriber the same run stores Users -> G. A trace tree must not depend on who
listens, and the previous hop of G's span is the source's."""

from __future__ import annotations

from happysimulator import Simulation, Source
from happysimulator.core.observed import ObservedEntity
from happysimulator.observability import ObservabilityConfig


class _Gate(ObservedEntity):
    def handle_event(self, event):
        start = self._sim.now.to_seconds()
        yield 0.01
        self.record_span(event, start)


def _trace(subscribed: bool) -> list[tuple]:
    g = _Gate("G")
    src = Source.poisson(rate=10.0, target=g, stop_after=0.5, name="Users")
    sim = Simulation(sources=[src], entities=[g], seed=2,
                     observability=ObservabilityConfig.full())
    if subscribed:
        sim.observations.spans().subscribe(lambda o: None)
    sim.run()
    ts = sim.query.trace_store
    first = ts.trace_ids()[0]
    return sorted((s.span_id, s.parent_id, s.entity) for s in ts.trace(first))


def test_the_source_span_is_the_parent_of_a_user_span():
    spans = _trace(subscribed=False)
    by_entity = {e: (sid, pid) for sid, pid, e in spans}
    assert by_entity["Users"][1] is None  # the root: the request's first hop
    assert by_entity["G"][1] == by_entity["Users"][0]
    assert spans == _trace(subscribed=True)
