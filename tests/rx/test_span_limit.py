"""``spans()...limit(k)`` answers the first k rows of the same query without a limit
(the limited path builds only the spans it returns; with ``where``, in chunks until k
match), and the unlimited rows match a brute-force reference built from what was added
(ranges, entities, attributes)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from happysim_rx.query import QueryEngine, QueryError
from happysim_rx.stores.trace import SpanArrays, TraceStore

NAMES = ["Source", "Server", "Sink"]


class _Clock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


_span = st.tuples(
    st.one_of(st.integers(0, 6), st.sampled_from(["a", "b"])),  # trace id ("a": kept aside)
    st.sampled_from(NAMES),
    st.integers(0, 8).map(float),  # starts on a coarse grid: many ties
    st.floats(0, 2),
    st.one_of(st.none(), st.dictionaries(st.sampled_from(["k", "z"]), st.integers(0, 3),
                                         min_size=1)),
)
_batch = st.tuples(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 2), st.integers(0, 8)),
             min_size=1, max_size=6),
    st.lists(st.booleans(), min_size=80, max_size=80),  # which rows carry attribute "w"
)
_store = st.tuples(
    st.lists(st.one_of(st.tuples(st.just("row"), _span), st.tuples(st.just("lazy"), _batch)),
             max_size=8),
    st.one_of(st.none(), st.integers(1, 4)),  # max_traces
    st.one_of(st.none(), st.integers(0, 10).map(float)),  # now
)


def _build(items: list, cap: int | None) -> tuple[TraceStore, list[tuple]]:
    """The store, and what was added as (entity, start, end, attributes)."""
    ts, added = TraceStore(max_traces=cap), []
    for kind, item in items:
        if kind == "row":
            tid, ent, a, d, at = item
            ts.add_rows([(tid, None, None, ent, a, a + d, at)])
            added.append((ent, a, a + d, at))
            continue
        spans, flags = item
        k = len(spans)
        with_w = np.flatnonzero(np.array(flags[:k]))
        arrays = SpanArrays(
            np.array([t for t, _, _ in spans], dtype=np.int64),
            np.array([e for _, e, _ in spans]), NAMES,
            np.array([float(a) for _, _, a in spans]),
            np.array([a + 0.5 for _, _, a in spans]),
            [(with_w, "w", with_w % 3)] if with_w.size else [])
        ts.add_lazy(arrays, lambda r, skip: r, k)
        added.extend((NAMES[e], float(a), a + 0.5, {"w": i % 3} if i in with_w else None)
                     for i, (_, e, a) in enumerate(spans))
    return ts, added


def _answer(engine: QueryEngine, q) -> tuple:
    try:
        r = q(engine).execute()
    except QueryError as e:
        return ("error", str(e))
    return (r.rows, r.start, r.end)


@settings(max_examples=80, deadline=None)
@given(_store, st.integers(0, 12), st.sampled_from(NAMES + ["S*"]),
       st.tuples(st.integers(-1, 9).map(float), st.integers(0, 10).map(float)), st.booleans())
def test_limit_is_the_first_rows_of_the_unlimited_answer(store, k, entity, ab, known) -> None:
    items, cap, now = store
    a, b = ab
    queries = [lambda q: q.spans(), lambda q: q.spans().from_entity(entity),
               lambda q: q.spans().between(a, b),
               lambda q: q.spans().from_entity(entity).between(a, b),
               lambda q: q.spans().where(k=1), lambda q: q.spans().between(a, b).where(w=1),
               lambda q: q.spans().from_entity(entity).where(z=2, k=0)]
    clock = None if now is None else _Clock(now)
    full_store, _ = _build(items, cap)
    full = QueryEngine(trace_store=full_store, clock=clock)
    if known:  # entities without spans (yet) answer empty rather than "unknown"
        full.known_entities = lambda: NAMES
    for q in queries:
        # a fresh store per limited query: its first read takes the batches in
        limited = QueryEngine(trace_store=_build(items, cap)[0], clock=clock)
        limited.known_entities = full.known_entities
        whole = _answer(full, q)
        got = _answer(limited, lambda e, q=q: q(e).limit(k))
        if whole[0] == "error":
            assert got == whole
        else:
            assert got == (whole[0][:k], whole[1], whole[2])


@settings(max_examples=40, deadline=None)
@given(_store, st.sampled_from(NAMES))
def test_unlimited_rows_match_what_was_added(store, entity) -> None:
    items, _, _ = store
    ts, added = _build(items, None)  # unbounded: everything is kept
    engine = QueryEngine(trace_store=ts)
    engine.known_entities = lambda: NAMES  # a known entity without spans answers empty
    rows = engine.spans().from_entity(entity).execute().rows
    got = [(r["entity"], r["start"], r["end"], r["attributes"]) for r in rows]
    want = [x for x in added if x[0] == entity]
    assert sorted(got, key=repr) == sorted(want, key=repr)
    assert [r["start"] for r in rows] == sorted(r["start"] for r in rows)


def test_where_with_limit_reads_on_past_sparse_matches() -> None:
    """Matches sparser than the first chunks: every row read once, in start order."""
    ts = TraceStore()
    ts.add_rows([(i, None, None, "Server", float(i), i + 0.5, {"k": i % 7}) for i in range(200)])
    engine = QueryEngine(trace_store=ts)
    for k in range(30):
        rows = engine.spans().where(k=6).limit(k).execute().rows
        assert [r["start"] for r in rows] == [float(i) for i in range(6, 200, 7)][:k]
