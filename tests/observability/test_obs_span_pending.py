"""Reads answered while span batches are pending (a range, the first rows, the entities,
one trace: built from the traces they return only) equal the same reads of the store
with everything taken in, rows, ids, parents, attributes, order and latest start alike.
Batches are the simulation's own `SpanBatch` (sampled or not), on a store that may
already hold spans of the same requests."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from happysim_rx.stores.trace import TraceStore
from happysimulator.observability.spans import EntitySpans, SpanBatch, Tracer

_ENT = [("Source", 0), ("Server", 1), ("Server2", 1), ("Sink", 2)]

_entity = st.tuples(
    st.integers(0, 3),  # which entity
    st.lists(st.tuples(st.integers(1, 9), st.integers(0, 12), st.integers(0, 4)),
             max_size=12),  # (trace id, start in quarters, duration in quarters)
)
_batch = st.lists(_entity, min_size=1, max_size=4)


def _hand_over(store: TraceStore, batch, rate: float) -> None:
    parts = []
    for e, spans in batch:
        name, rank = _ENT[e]
        tids = np.array([t for t, _, _ in spans], dtype=np.int64)
        starts = np.array([a / 4 for _, a, _ in spans])
        ends = starts + np.array([d / 4 for _, _, d in spans])
        parts.append(EntitySpans(
            name, rank, tids, starts, ends,
            latency=ends - starts if name == "Sink" else None,
            split=(starts * 0 + 0.25, ends - starts) if rank == 1 else None))
    cols = SpanBatch(parts, rate, int(rate * 2**32))
    if cols.size:
        store.add_lazy(cols, Tracer.materialize, cols.size, of_trace=cols.of_trace,
                       of_traces=cols.of_traces, by_entity=cols.by_entity)


def _stores(first, second, rate):
    """(a store read only at the end, the same store with everything taken in): both
    fed `first`, read (taken in), then fed `second`."""
    stores = TraceStore(), TraceStore()
    for s in stores:
        for b in first:
            _hand_over(s, b, rate)
        len(s)
        for b in second:
            _hand_over(s, b, rate)
    len(stores[1])
    return stores


_query = st.tuples(
    st.sampled_from(["*", "Server*", "Sink", "Source", "Nobody"]),
    st.one_of(st.just((-np.inf, np.inf)),
              st.tuples(st.integers(-1, 16), st.integers(0, 20)).map(
                  lambda ab: (ab[0] / 4, ab[1] / 4))),
    st.one_of(st.none(), st.integers(0, 12)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_batch, max_size=2), st.lists(_batch, min_size=1, max_size=4),
       st.sampled_from([1.0, 1.0, 0.5]), st.lists(_query, min_size=1, max_size=4),
       st.integers(1, 9))
def test_pending_reads_equal_the_indexed_store(first, second, rate, queries, trace_id):
    for entity, (a, b), limit in queries:
        pending, indexed = _stores(first, second, rate)
        assert pending.between_first(a, b, entity, limit) == indexed.between_first(
            a, b, entity, limit)
    pending, indexed = _stores(first, second, rate)
    assert pending.entities() == indexed.entities()
    assert pending.complete_from(5.0) == indexed.complete_from(5.0)
    assert pending.trace(trace_id) == indexed.trace(trace_id)
    # several reads in a row (the later ones take everything in) change nothing
    for entity, (a, b), limit in queries * 3:
        assert pending.between_first(a, b, entity, limit) == indexed.between_first(
            a, b, entity, limit)
    assert pending.spans() == indexed.spans()
