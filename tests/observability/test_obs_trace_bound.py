"""The bounded TraceStore leaves out, when it takes in lazy batches, the traces it would
evict right after: what it keeps must be what adding everything and then evicting the
oldest traces keeps (brute-force reference), ids and the overflow counter included."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_obs_trace_columns import _feed, _item, _reference

from happysim_rx.stores import trace as trace_mod
from happysim_rx.stores.trace import SpanArrays, TraceStore


def _lazy(draws):
    return [d[:5] + (1,) for d in draws]  # every span in a lazy arrays batch


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(_item, max_size=40), min_size=1, max_size=4), st.integers(1, 6))
def test_lazy_batches_keep_the_newest_traces(parts, cap):
    store = TraceStore(max_traces=cap)
    fed = []
    for part in parts:
        fed.append(_feed(store, _lazy(part)))
        len(store)  # a read: takes the batches in, evicting
    ref, evicted, _ = _reference(fed, cap)
    assert store.trace_ids() == list(ref)
    assert store.evicted_traces == evicted
    assert store.spans() == [s for spans in ref.values() for s in spans]


def _batch(store, tids, t0):
    tids = np.asarray(tids, dtype=np.int64)
    n = tids.size
    starts = t0 + np.arange(n) / 10
    lat = (np.arange(n) % 3).astype(float)
    arrays = SpanArrays(tids, np.arange(n) % 2, ["Server", "Sink"], starts, starts + 0.05,
                        [(np.arange(0, n, 2, dtype=np.int64), "latency", lat[::2])])
    store.add_lazy(arrays, lambda r, skip: r, n)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.integers(1, 15), max_size=30), min_size=1, max_size=4),
       st.integers(1, 5), st.integers(2, 6))
def test_skipping_equals_adding_then_evicting(parts, cap, hops):
    """Against the same store that builds every span and then evicts (``_drop_doomed``
    off), with few HOPS so that long requests take overflow ids."""
    old = trace_mod.HOPS
    trace_mod.HOPS = hops
    try:
        fast, slow = TraceStore(max_traces=cap), TraceStore(max_traces=cap)
        slow._drop_doomed = lambda blocks: (blocks, 0)
        for i, part in enumerate(parts):
            for s in (fast, slow):
                _batch(s, part, 10.0 * i)
                len(s)
        assert fast.trace_ids() == slow.trace_ids()
        assert fast.spans() == slow.spans()
        assert fast.evicted_traces == slow.evicted_traces
        assert fast._overflow == slow._overflow
    finally:
        trace_mod.HOPS = old
