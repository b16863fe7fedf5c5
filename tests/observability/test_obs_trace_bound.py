"""The bounded TraceStore decides span by span, in the order spans came: what it keeps
(ids included) must not depend on when it is read, and must be the rule's brute-force
reference (`_reference`), also when evicted traces are forgotten (a small memory) and
requests take overflow ids (few HOPS). Its `complete_from` must be true: every span
handed over that starts there or later is kept."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_obs_trace_columns import _feed, _item, _reference

from happysim_rx.observation import Span
from happysim_rx.stores import _span_ids, _trace_bound
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
        len(store)  # a read
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


def _state(store):
    return (store.trace_ids(), store.spans(), store.evicted_traces,
            store.complete_from(1e9), store.entities())


@pytest.fixture
def small_memory(monkeypatch):
    """Few HOPS (overflow ids) and a memory of evicted traces that forgets soon."""
    monkeypatch.setattr(_span_ids, "HOPS", 3)
    monkeypatch.setattr(_trace_bound, "REMEMBER_FACTOR", 1)
    monkeypatch.setattr(_trace_bound, "REMEMBER_MIN", 2)


def _row(i, j, tid):
    return (tid, None, None, ("Server", "Sink")[j % 2], 10.0 * i + j / 10,
            10.0 * i + j / 10 + 0.05, {"latency": float(j % 3)} if j % 2 == 0 else None)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # (constant patches)
@given(st.lists(st.lists(st.integers(1, 15), max_size=30), min_size=1, max_size=5),
       st.integers(1, 5), st.lists(st.booleans(), min_size=5, max_size=5),
       st.sampled_from(["arrays", "rows", "spans"]))
def test_reads_do_not_change_what_is_kept(small_memory, parts, cap, reads, how):
    """Read after random batches, after every span, or only at the end: one store (T1:
    a read used to evict, and an evicted in-flight trace's later spans came back as a
    new, partial trace)."""
    read_some, never, each = (TraceStore(max_traces=cap) for _ in range(3))
    for i, part in enumerate(parts):
        if how == "arrays":  # one lazy batch per part; `each` gets one per span
            _batch(read_some, part, 10.0 * i)
            _batch(never, part, 10.0 * i)
        for j, tid in enumerate(part):
            if how == "arrays":
                _batch(each, [tid], 10.0 * i + j / 10)
            else:
                row = _row(i, j, tid)
                for s in (read_some, never, each):
                    s.add_rows([row]) if how == "rows" else s.add(Span(*row))
            len(each)
        if reads[i]:
            len(read_some)
    assert _state(read_some) == _state(never)
    if how == "arrays":  # (the same spans; attributes differ: a span per batch)
        assert [(s.trace_id, s.span_id, s.parent_id, s.start) for s in each.spans()] == [
            (s.trace_id, s.span_id, s.parent_id, s.start) for s in never.spans()]
        return
    assert _state(each) == _state(never)
    # the brute-force reference of the rule, ids included
    fed = [[_row(i, j, tid) for j, tid in enumerate(part)] for i, part in enumerate(parts)]
    ref, evicted, _ = _reference(fed, cap, remembered=cap + max(cap, 2), hops=_span_ids.HOPS)
    assert never.spans() == [s for spans in ref.values() for s in spans]
    assert never.evicted_traces == evicted


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.integers(1, 12), st.sampled_from(["a", "b", "c"])),
                          st.integers(0, 40), st.integers(0, 30)), max_size=60),
       st.integers(1, 4), st.lists(st.integers(0, 60), max_size=6))
def test_complete_from_is_true_and_mixed_ids_do_not_depend_on_reads(spans, cap, read_at):
    """Spans with integer and other trace ids, arbitrary start times (a late span may
    start long before others): every span handed over that starts at or after
    `complete_from` is kept, and reading at random points changes nothing."""
    a, b = TraceStore(max_traces=cap), TraceStore(max_traces=cap)
    handed = []
    for i, (tid, start, dur) in enumerate(spans):
        row = (tid, None, None, "Server", start / 4, (start + dur) / 4, None)
        handed.append(row)
        for s in (a, b):
            s.add_rows([row])
        if i in read_at:
            len(a)
            now = max(r[5] for r in handed)
            cf = a.complete_from(now)
            kept = {(s.trace_id, s.start, s.end) for s in a.spans()}
            must = [(r[0], r[4], r[5]) for r in handed if r[4] >= cf]
            assert all(m in kept for m in must), (cf, must, kept)
    assert _state(a) == _state(b)
    if handed:
        now = max(r[5] for r in handed)
        cf = b.complete_from(now)
        kept = [(s.trace_id, s.start, s.end) for s in b.spans()]
        for r in handed:
            if r[4] >= cf:
                assert (r[0], r[4], r[5]) in kept


def test_settle_returns_the_spans_the_bound_drops_too():
    """Live span streams come through `settle`: a span the bound drops (its trace was
    evicted) is still returned, as handed over (no parent, an id from its position)."""
    store = TraceStore(max_traces=1)
    got = []
    for tid in (1, 2, 1):
        store.add_rows([(tid, None, None, "Server", float(len(got)), len(got) + 0.5, None)])
        got += store.settle()
    assert [(s.trace_id, s.span_id, s.parent_id) for s in got] == [
        (1, 1 * _span_ids.HOPS, None), (2, 2 * _span_ids.HOPS, None), (1, -3, None)]
    assert [s.trace_id for s in store.spans()] == [2]
    # trace 1's spans were evicted or dropped (the last started at 2.0): complete from now
    assert store.complete_from(3.0) == 3.0
