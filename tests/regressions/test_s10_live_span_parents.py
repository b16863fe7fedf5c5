"""A live span subscriber sees the parents the trace store answers with.

Found by the session-10 review (rev2), by experiment; the same at the session start
(e94af9b), so not introduced by this session's fast paths. Since this session a server
hop reaches span subscribers with its final parent (the balancer span of its attempt,
`hop_parents`), but a Client attempt span (a component span recorded without parent) is
published with ``parent_id=None`` and only the trace store's join
(`_span_ids._join_one`) gives it its parent later (the source's hop): a subscriber
rebuilding traces live gets every Client span as a second root, while
``trace_store.spans()`` for the same run links it under the request's source hop."""

from __future__ import annotations

from tests.toolkit.test_fast_recording import _model


def test_live_span_parents_match_the_stored_ones():
    sim, _, _ = _model()
    live: dict[tuple[int, int], int | None] = {}
    sim.observations.spans().subscribe(
        lambda o: live.__setitem__((o.value.trace_id, o.value.span_id), o.value.parent_id))
    sim.run(until=5.0)
    stored = {(s.trace_id, s.span_id): s.parent_id for s in sim.query.trace_store.spans()}
    assert live and set(live) == set(stored)
    differ = sorted(k for k in live if live[k] != stored[k])
    assert not differ, f"{len(differ)} of {len(live)} spans, e.g. {differ[:2]}"
