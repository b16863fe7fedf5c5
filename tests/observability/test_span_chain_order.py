"""The chain of a request's spans recorded without ids follows the order they ended,
not the order they reached the store (nor how take-ins split them): every span's id and
parent against a brute-force reference, over random hand-over orders and take-in
splits, and the same model with and without a (filtered) live span subscriber."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from happysim_rx.observation import Span
from happysim_rx.stores.trace import HOPS, TraceStore


def _reference(spans: list[Span]) -> set[tuple]:
    """Each trace's spans by (end, start): the k-th gets ``trace * HOPS + k`` and the
    one before as parent."""
    out = set()
    for tid in {s.trace_id for s in spans}:
        prev = None
        mine = sorted((s for s in spans if s.trace_id == tid), key=lambda s: (s.end, s.start))
        for k, s in enumerate(mine):
            sid = tid * HOPS + k
            out.add((tid, sid, prev, s.entity, s.start, s.end))
            prev = sid
    return out


spans_ = st.lists(st.tuples(st.integers(1, 4), st.integers(0, 50), st.integers(0, 30)),
                  min_size=1, max_size=40, unique_by=lambda x: (x[0], x[2]))


@settings(max_examples=150, deadline=None)
@given(spans_, st.lists(st.integers(0, 40), max_size=6), st.randoms(use_true_random=False),
       st.sampled_from([None, 2, 10]))
def test_ids_and_parents_follow_the_end_order_however_handed_over(rows, cuts, rnd, cap):
    # (distinct ends per trace: a tie in (end, start) is broken by arrival)
    spans = [Span(t, None, None, f"E{i}", float(a), float(a + d) + i * 1e-3)
             for i, (t, a, d) in enumerate(rows)]
    rnd.shuffle(spans)
    ts = TraceStore(max_traces=cap)
    for i, s in enumerate(spans):
        ts.add(s)
        if i in cuts:
            ts.spans()  # a take-in between hand-overs
    got = {(s.trace_id, s.span_id, s.parent_id, s.entity, s.start, s.end)
           for s in ts.spans()}
    kept = {s.trace_id for s in ts.spans()}
    assert got == {r for r in _reference(spans) if r[0] in kept}


def test_a_filtered_live_subscriber_leaves_the_tree_as_it_is():
    """G's spans reach the store at once (settled for its live subscriber) before the
    source's (at the recorder's flush): the stored trees are those of the run without a
    subscriber, ids included."""
    from happysimulator import Simulation, Source
    from happysimulator.observability import ObservabilityConfig
    from tests.regressions.test_s11_user_span_parent import _Gate

    def trees(subscribe: bool, cap: int | None) -> set[tuple]:
        g = _Gate("G")
        src = Source.poisson(rate=10.0, target=g, stop_after=2.0, name="Users")
        sim = Simulation(sources=[src], entities=[g], seed=4,
                         observability=ObservabilityConfig.full().replace(
                             trace_capacity=cap))
        if subscribe:
            sim.observations.spans(source="G").subscribe(lambda o: None)
        sim.run()
        spans = sim.query.trace_store.spans()
        return {(s.trace_id, s.span_id, s.parent_id, s.entity) for s in spans}

    for cap in (None, 5):
        plain = trees(False, cap)
        assert {e for *_, e in plain} == {"Users", "G"}
        assert trees(True, cap) == plain
