"""The columnar TraceStore against a brute-force dict-of-lists reference, and the
first ``trace(id)`` (answered from pending batches) against the fully indexed store."""

from fnmatch import fnmatchcase

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from obs_testkit import mm1

from happysim_rx.observation import ObservationKind, Span
from happysim_rx.stores.trace import HOPS, SpanArrays, TraceStore
from happysimulator.observability import ObservabilityConfig


def _reference(parts, cap=None, remembered=None, hops=HOPS):
    """What the store must hold: per trace (in order of first appearance) its spans,
    ids given to id-less spans as `trace_id * HOPS + hop` (hop: by arrival) and then
    dealt again in the order the spans ended (`_by_end`), parent = previous span in
    that order (other ids: previous in arrival); when
    bounded (where the parts end, the store was read: that must not matter): the `cap`
    largest integer trace ids seen, each with all its spans; traces with other ids by
    arrival, span by span, apart (a span of a kept trace is kept, one of a trace
    evicted among the last `remembered` other traces begun is dropped, any other begins
    a trace and evicts the oldest beyond `cap`). Also how many traces were not kept (the
    distinct integer ids seen minus those kept, and the other ones evicted) and when
    each span came (ties in `between` keep that order). A request's
    spans from the `hops`-th on (and every span of another id) get ids ``-(1 + position)``,
    the position counting every span handed over."""
    if cap is not None and remembered is None:
        remembered = cap + max(4 * cap, 1024)
    flat = [item for items in parts for item in items]
    seen = []
    hop: dict = {}  # (trace, id) -> the store gave the id
    for tid, *_ in flat:
        if type(tid) is int and tid not in seen:
            seen.append(tid)
    kept_ids = set(seen if cap is None else sorted(seen)[len(seen) - min(cap, len(seen)):])
    evicted = len(set(seen) - kept_ids)
    traces: dict = {}
    begun: list = []  # other ids in the order their traces began (again when begun anew)
    arrival: dict = {}  # (trace id, span id) -> when it came
    for position, (tid, sid, pid, ent, a, b, at) in enumerate(flat):
        if type(tid) is int:
            if tid not in kept_ids:
                continue
            traces.setdefault(tid, [])
        elif tid not in traces:
            if cap is not None and tid in begun[max(0, len(begun) - remembered):]:
                continue  # its trace was evicted: dropped
            traces[tid] = []
            begun.append(tid)
            others = [t for t in traces if type(t) is not int]
            if cap is not None and len(others) > cap:
                traces.pop(others[0])
                evicted += 1
        spans = traces[tid]
        given = sid is not None
        if sid is None:
            sid = (tid * hops + len(spans) if type(tid) is int and len(spans) < hops
                   else -(1 + position))
            pid = spans[-1].span_id if spans else None
        spans.append(Span(tid, sid, pid, ent, a, b, at))
        arrival[tid, sid] = len(arrival)
        hop[tid, sid] = not given
    for tid, spans in traces.items():
        if type(tid) is int:  # the chain follows the order the spans ended
            traces[tid], new_id = _by_end(spans, [hop[tid, x.span_id] for x in spans])
            came = {x.span_id: arrival.pop((tid, x.span_id)) for x in spans}
            arrival.update({(tid, new_id[k]): v for k, v in came.items()})
    return traces, evicted, arrival


def _by_end(spans, hops):
    """A trace's spans (in arrival order) with the ids the store gave dealt again in
    the order the spans ended (end, start, arrival): ``trace * HOPS + k`` ascending,
    then the overflow ids by position; each such span's parent is the span before it
    in that order. Returns the spans (arrival order) and old id -> new id."""
    order = sorted(range(len(spans)), key=lambda i: (spans[i].end, spans[i].start, i))
    ids = sorted((spans[i].span_id for i in order if hops[i]),
                 key=lambda x: (x < 0, abs(x)))
    dealt = iter(ids)
    new_id, new_pid, prev = {}, {}, None
    for i in order:
        sid = spans[i].span_id
        if hops[i]:
            new_id[sid], new_pid[sid] = next(dealt), prev
        else:
            new_id[sid] = sid
        prev = new_id[sid]
    out = [Span(x.trace_id, new_id[x.span_id],
                new_pid[x.span_id] if h else x.parent_id, x.entity, x.start, x.end,
                x.attributes) for x, h in zip(spans, hops, strict=True)]
    return out, new_id


_item = st.tuples(
    st.integers(1, 12),                          # trace id
    st.sampled_from(["Server", "Sink", "Source"]),
    st.integers(0, 50),                          # start (tenths)
    st.integers(0, 5),                           # duration (tenths)
    st.booleans(),                               # with an attribute
    st.integers(0, 3),                           # 0: row, 1: lazy arrays batch, 2+: row
)


def _feed(store, draws):
    items, batch = [], []

    def flush_batch():
        if not batch:
            return
        cols = list(batch)
        rows = [i for i, c in enumerate(cols) if c[6] is not None]
        arrays = SpanArrays(
            np.array([c[0] for c in cols], dtype=np.int64),
            np.array([["Server", "Sink", "Source"].index(c[3]) for c in cols]),
            ["Server", "Sink", "Source"],
            np.array([c[4] for c in cols]), np.array([c[5] for c in cols]),
            [(np.array(rows, dtype=np.int64), "latency",
              np.array([cols[i][6]["latency"] for i in rows]))] if rows else [])
        store.add_lazy(arrays, lambda r, skip: r, len(cols),
                       of_trace=lambda tid, a=arrays: _one(a, tid))
        batch.clear()

    for tid, ent, a, d, with_attr, how in draws:
        at = {"latency": a / 10 + d} if with_attr else None
        item = (tid, None, None, ent, a / 10, (a + d) / 10, at)
        items.append(item)
        if how == 1:
            batch.append(item)
        else:
            flush_batch()
            store.add_rows([item])
    flush_batch()
    return items


def _one(arrays, tid):
    at = np.flatnonzero(arrays.trace_ids == tid)
    pos = {int(r): i for i, r in enumerate(at.tolist())}
    attrs = []
    for rows, key, values in arrays.attributes:
        keep = [(pos[int(r)], v) for r, v in zip(rows.tolist(), values.tolist(), strict=True)
                if int(r) in pos]
        if keep:
            attrs.append((np.array([k for k, _ in keep], dtype=np.int64), key,
                          np.array([v for _, v in keep])))
    return SpanArrays(arrays.trace_ids[at], arrays.entities[at], arrays.names,
                      arrays.starts[at], arrays.ends[at], attrs)


@settings(max_examples=60, deadline=None)
@given(st.lists(_item, max_size=60), st.lists(_item, max_size=30),
       st.one_of(st.none(), st.integers(1, 6)))
def test_columns_match_a_dict_of_lists(first, second, cap):
    store = TraceStore(max_traces=cap)
    items = _feed(store, first)
    len(store)  # a read between the two parts: ids continue across it
    ref, evicted, arrival = _reference([items, _feed(store, second)], cap)
    assert store.trace_ids() == list(ref)
    assert len(store) == sum(len(v) for v in ref.values())
    assert store.evicted_traces == evicted
    for tid, spans in ref.items():
        assert store.trace(tid) == sorted(spans, key=lambda s: (s.start, s.end))
    flat = [s for spans in ref.values() for s in spans]
    assert store.spans() == flat
    assert sorted(store.durations()) == sorted(
        (max(s.end for s in spans) - min(s.start for s in spans), tid)
        for tid, spans in ref.items())
    arrived = sorted(flat, key=lambda s: arrival[s.trace_id, s.span_id])
    got = store.between(1.0, 3.0, "S*r*")
    # (spans starting at one instant: by trace id, then span id -- not by arrival)
    assert got == sorted([s for s in arrived if 1.0 <= s.start < 3.0
                          and fnmatchcase(s.entity, "S*r*")],
                         key=lambda s: (s.start, s.trace_id, s.span_id))


@settings(max_examples=40, deadline=None)
@given(st.lists(_item, min_size=1, max_size=60), st.integers(1, 12))
def test_first_trace_from_pending_batches_matches_the_indexed_store(draws, tid):
    lazy, indexed = TraceStore(), TraceStore()
    _feed(lazy, [d[:5] + (1,) for d in draws])  # batches only: answered while pending
    _feed(indexed, [d[:5] + (1,) for d in draws])
    len(indexed)
    assert lazy.trace(tid) == indexed.trace(tid)
    assert lazy._pending  # nothing was taken in for that


def test_non_integer_trace_ids_are_kept_beside_the_columns():
    store = TraceStore()
    store.add(Span("a", "a1", None, "Server", 0.0, 1.0))
    store.add(Span(3, 30, None, "Server", 0.5, 1.0))
    store.add_rows([("a", None, None, "Sink", 1.0, 1.5, None)])
    assert [s.entity for s in store.critical_path("a")] == ["Server", "Sink"]
    assert store.trace_ids() == [3, "a"]
    assert [s.trace_id for s in store.between(0.0, 2.0)] == ["a", 3, "a"]


def test_first_trace_after_a_run_equals_the_trace_after_every_read():
    cfg = ObservabilityConfig.full()
    lazy_sim, *_ = mm1(seed=5, stop_after=300.0, config=cfg)
    full_sim, *_ = mm1(seed=5, stop_after=300.0, config=cfg)
    lazy_sim.run()
    full_sim.run()
    full = full_sim.query.trace_store
    ids = full.trace_ids()
    assert len(ids) > 1000
    lazy = lazy_sim.query.trace_store
    first = ids[len(ids) // 2]
    assert lazy.trace(first) == full.trace(first)
    assert lazy._pending  # answered without taking the batches in
    for tid in ids[:: len(ids) // 17]:
        assert lazy.trace(tid) == full.trace(tid)
        assert [s.entity for s in lazy.trace(tid)] == ["Source", "Server", "Sink"]
    assert not lazy._pending  # the second lookup took the batches in
    assert lazy._by_tid is not None  # and further lookups use the index, not scans


def test_spans_through_the_bus_after_a_read_are_kept():
    from happysim_rx.bus import ObservationBus
    from happysim_rx.clock import ManualClock

    bus = ObservationBus(ManualClock())
    store = bus.attach_store(TraceStore())
    topic = bus.topic(ObservationKind.SPAN, "Server", "span")
    topic.emit(0.5, Span(1, 10, None, "Server", 0.0, 0.5))
    assert len(store) == 1
    topic.emit(1.5, Span(2, 20, None, "Server", 1.0, 1.5))  # after the first read
    assert len(store) == 2 and [s.span_id for s in store.trace(2)] == [20]
