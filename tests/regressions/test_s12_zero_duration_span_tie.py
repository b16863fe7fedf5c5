"""A user span that ties with the source's span on (end, start) is still ordered by
hand-over, so the trace tree depends on who listens.

Found by helper xf4 (session 12) while fixing test_s11_user_span_parent: a request's
chain now follows the order its spans ended (end, then start), whatever order they
reached the store; ties fall back to the order they came. `Stamp` records
``record_span(event, now)`` on arrival, a zero-length span at the instant the source
made the request -- the source's own span is zero-length at that instant too. With no
span subscriber, Stamp's span reaches the store at once and the source's at the
recorder's flush: Stamp -> Users; with a subscriber, Users -> Stamp. Fixing it needs an
order for ties that the spans carry (e.g. the order they were recorded in the run), not
the store's arrival order. (Fixed in session 13: a tie on (end, start) is ordered by
the entity's rank the span batches carry -- the source before a visit, a visit before
the sink -- and only then by arrival; see happysim_rx/stores/_span_ids.py.)"""

from __future__ import annotations

from tests.observability.test_live_spans_as_stored import _model


def _tree(subscribed: bool) -> set[tuple]:
    sim = _model(3, stamp=True)
    if subscribed:
        sim.observations.spans().subscribe(lambda o: None)
    sim.run()
    return {(s.trace_id, s.span_id, s.parent_id, s.entity)
            for s in sim.query.trace_store.spans()}


def test_a_zero_length_user_span_at_the_sources_instant_does_not_depend_on_listeners():
    assert _tree(False) == _tree(True)
