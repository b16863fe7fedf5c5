"""A retry whose earlier attempt is still being served: each server hop's parent must be
the balancer span of its own attempt, and a retry's client span the request's root,
whether or not someone follows spans live.

Found at the end of session 9, fixed in session 10: the standard hops (server spans) carry no
parent of their own; the trace store links them to the toolkit's component spans by time
containment (`happysim_rx/stores/_span_ids.py` `_join_one`). With overlapping attempts
(attempt 2 still queued at S2 while attempt 3 is served by S0), S2's hop of attempt 2 is
linked to S0's hop of attempt 3 (it lies inside attempt 2's balancer span in time), and
with a live span subscriber the attempt-3 client span gets that hop as parent instead of
the root (the join runs as spans arrive, so the answer depends on arrival order). Now each
hop records its parent explicitly (the balancer span open in the request's context when
it arrived), never inferred from times."""

from __future__ import annotations

from tests.toolkit.test_fast_recording import _model


def _trace(live: bool, trace_id: int = 54) -> dict:
    sim, _, _ = _model()
    if live:
        sim.observations.spans().subscribe(lambda o: None)
    sim.run()
    return {s.span_id: s for s in sim.query.trace_store.spans() if s.trace_id == trace_id}


def test_each_hop_is_the_child_of_its_own_attempts_balancer_span():
    spans = _trace(live=False)
    hops = [s for s in spans.values() if s.entity.startswith("S")]
    assert len(hops) == 3
    for hop in hops:
        parent = spans[hop.parent_id]
        assert parent.entity == "LB"
        assert parent.attributes["backend"] == hop.entity
        assert parent.start <= hop.start and hop.end <= parent.end


def test_span_parents_do_not_depend_on_a_live_subscriber():
    plain, live = _trace(live=False), _trace(live=True)
    assert {k: s.parent_id for k, s in plain.items()} == {
        k: s.parent_id for k, s in live.items()}
