"""The bounded TraceStore keeps the N largest integer trace ids seen, whole: what it
keeps (ids included) must be the brute-force reference's (`_reference`), must not depend
on when it is read, nor on the order in which the traces' spans were interleaved (a
function of the set of spans). Traces with other ids are bounded apart, by arrival
(with a small memory of evicted traces). Its `complete_from` must be true: every span
handed over that starts there or later is kept."""

import random

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
    new, partial trace), the reference's."""
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


def _interleave(traces, picks):
    """The spans of `traces` (lists of spans, each in its trace's order) in the order
    `picks` chooses the next trace to take a span from (each trace's order kept)."""
    queues = [list(t) for t in traces if t]
    out = []
    for pick in picks:
        live = [q for q in queues if q]
        if not live:
            break
        out.append(live[pick % len(live)].pop(0))
    for q in queues:
        out.extend(q)
    return out


_trace = st.lists(st.tuples(st.sampled_from(["Source", "Server", "LB", "Sink"]),
                            st.integers(0, 60), st.integers(0, 8)), min_size=1, max_size=5)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.integers(1, 40), _trace, max_size=14), st.integers(1, 6),
       st.lists(st.integers(0, 30), max_size=80), st.lists(st.integers(0, 30), max_size=80),
       st.lists(st.integers(0, 80), max_size=5), st.lists(st.booleans(), max_size=80))
def test_what_is_kept_does_not_depend_on_the_order_spans_come_in(traces, cap, picks_a,
                                                                 picks_b, reads, lazy):
    """Two interleavings of the same traces' spans (as a station's spans at a flush and
    a component's at its end interleave differently when a run is paused), read at
    random points: the same traces, the same spans, ids and parents, the same
    `complete_from` (T1 of session 11: the store kept the traces whose first span came
    last)."""
    rows = [[(tid, None, None, ent, a / 4, (a + d) / 4, None) for ent, a, d in spans]
            for tid, spans in traces.items()]
    got = []
    for picks in (picks_a, picks_b):
        store = TraceStore(max_traces=cap)
        for i, row in enumerate(_interleave(rows, picks)):
            if i < len(lazy) and lazy[i]:
                _batch_rows(store, [row])
            else:
                store.add_rows([row])
            if i in reads:
                len(store)
        got.append(store)
    a, b = got
    ids = sorted(traces)[-cap:]
    assert sorted(a.trace_ids()) == sorted(b.trace_ids()) == ids
    for tid in ids:
        assert a.trace(tid) == b.trace(tid)
        assert [s.start for s in a.trace(tid)] == sorted(s[4] for s in rows[
            list(traces).index(tid)])
    assert a.complete_from(1e9) == b.complete_from(1e9)
    assert sorted(s.start for s in a.spans()) == sorted(s.start for s in b.spans())


def _batch_rows(store, rows):
    """Rows as one lazy arrays batch."""
    names = ["Source", "Server", "LB", "Sink"]
    arrays = SpanArrays(np.array([r[0] for r in rows], dtype=np.int64),
                        np.array([names.index(r[3]) for r in rows]), names,
                        np.array([r[4] for r in rows]), np.array([r[5] for r in rows]), [])
    store.add_lazy(arrays, lambda r, skip: r, len(rows))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # (constant patches)
@given(st.lists(st.lists(st.one_of(st.integers(1, 12), st.sampled_from("abcdefg")),
                         max_size=30), min_size=1, max_size=4),
       st.integers(1, 4))
def test_other_ids_are_bounded_apart_by_arrival(small_memory, parts, cap):
    """Integer and other trace ids mixed: the integer traces by id, the others by
    arrival with a memory of the last `cap + max(cap, 2)` begun, each kind at most
    `cap` traces, neither evicting the other: the reference's, read at part ends or
    not."""
    read, never = TraceStore(max_traces=cap), TraceStore(max_traces=cap)
    fed = []
    for i, part in enumerate(parts):
        rows = [(tid, None, None, "Server", 10.0 * i + j, 10.0 * i + j + 0.5, None)
                for j, tid in enumerate(part)]
        fed.append(rows)
        for s in (read, never):
            s.add_rows(rows)
        len(read)
    ref, evicted, _ = _reference(fed, cap, remembered=cap + max(cap, 2), hops=_span_ids.HOPS)
    for s in (read, never):
        assert sorted(map(repr, s.trace_ids())) == sorted(map(repr, ref))
        assert sorted(s.spans(), key=repr) == sorted(
            (x for spans in ref.values() for x in spans), key=repr)
        assert s.evicted_traces == evicted


def test_evicted_traces_in_large_shuffled_batches():
    """Batches of more traces than the bound, ids shuffled within windows, some coming
    again after their eviction: `evicted_traces` (each distinct id not kept, once) and
    what is kept by brute force."""
    rnd = random.Random(3)
    ids = list(range(1, 2000))
    for i in range(0, len(ids), 100):
        window = ids[i:i + 100]
        rnd.shuffle(window)
        ids[i:i + 100] = window
    for cap in (5, 300):
        parts = [[(t, None, None, "S", float(i), i + 1.0, None) for i, t in enumerate(part)]
                 for part in (ids[:1000], ids[1000:] + ids[:30])]
        store = TraceStore(max_traces=cap)
        for part in parts:
            store.add_rows(part)
            len(store)
        ref, evicted, _ = _reference(parts, cap)
        assert store.evicted_traces == evicted
        assert store.spans() == [s for spans in ref.values() for s in spans]


def _fed(store, parts):
    for part in parts:
        store.add_rows([(t, None, None, "S", 0.0, 1.0, None) for t in part])
        len(store)  # a take-in


def _distinct_not_kept(parts, cap):
    seen = {t for part in parts for t in part}
    return len(seen) - min(cap, len(seen)), sorted(seen)[len(seen) - min(cap, len(seen)):]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.integers(-40, 200), max_size=60), min_size=1, max_size=6),
       st.integers(0, 6))
def test_evicted_traces_is_the_distinct_ids_seen_not_kept(parts, cap):
    """Against a brute-force count of distinct ids: any order, repeats, any take-in
    split (the runs kept open are far from their limit)."""
    ts = TraceStore(max_traces=cap)
    _fed(ts, parts)
    evicted, kept = _distinct_not_kept(parts, cap)
    assert ts.evicted_traces == evicted
    assert sorted(ts.trace_ids()) == kept


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(1, 4), min_size=1, max_size=120),
       st.lists(st.tuples(st.integers(0, 200), st.floats(0, 1)), max_size=60),
       st.lists(st.integers(0, 200), max_size=5), st.integers(0, 4))
def test_closed_runs_count_exactly_while_new_ids_come_above_them(monkeypatch, gaps, again,
                                                                 cuts, cap):
    """With 4 runs kept open (the lowest closed, counted and forgotten at once): ids
    with gaps (a sampler's) first seen in increasing order, repeats of earlier ones
    anywhere: still the brute-force count (the closed part lies below every new id)."""
    monkeypatch.setattr(_trace_bound, "GONE_RUNS_FACTOR", 0)
    monkeypatch.setattr(_trace_bound, "GONE_RUNS_MIN", 4)
    ids = np.cumsum(gaps).tolist()
    seq = list(ids)
    for at, frac in again:  # a repeat of an id seen before position `at`
        at = min(at, len(seq))
        if at:
            seq.insert(at, seq[int(frac * (at - 1))])
    bounds = sorted({min(c, len(seq)) for c in cuts} | {0, len(seq)})
    parts = [seq[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    ts = TraceStore(max_traces=cap)
    _fed(ts, parts)
    evicted, kept = _distinct_not_kept(parts, cap)
    assert ts.evicted_traces == evicted
    assert sorted(ts.trace_ids()) == kept
