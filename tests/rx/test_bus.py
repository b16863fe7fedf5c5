"""Bus topics: emit swaps implementation; pattern subscriptions; lean subject."""

import tracemalloc

import pytest
import reactivex
import reactivex.operators as ops

from happysim_rx import (
    LeanSubject,
    ManualClock,
    MetricStore,
    ObservationBus,
    ObservationKind,
    Span,
    TraceStore,
)
from happysim_rx.topic import _noop


def test_nobody_listening_is_a_noop_without_allocation():
    bus = ObservationBus(ManualClock())
    t = bus.metric("S", "x", "gauge")
    assert t.emit is _noop and not t.active
    emit = t.emit
    for i in range(100):  # warm up
        emit(float(i), float(i))
    tracemalloc.start()
    snap0 = tracemalloc.take_snapshot()
    for _ in range(100_000):
        emit(1.0, 2.0)
    snap1 = tracemalloc.take_snapshot()
    tracemalloc.stop()
    # Nothing per call: 100k emits may not leave even one byte per emit behind.
    grown = sum(s.size_diff for s in snap1.compare_to(snap0, "filename") if "bus.py" in str(s))
    assert grown < 100


def test_store_only_topic_appends_columns_directly():
    bus = ObservationBus(ManualClock())
    store = bus.attach_store(MetricStore())
    t = bus.metric("S", "x", "sample")
    series = store.series_for("S", "x")
    assert t.emit == series.append  # no Observation built
    t.emit(1.0, 5.0)
    assert len(series) == 1


def test_subscribers_get_observations_and_swap_back_on_dispose():
    bus = ObservationBus(ManualClock())
    store = bus.attach_store(MetricStore())
    t = bus.metric("Server", "queue_depth", "gauge")
    seen = []
    d = bus.metrics("queue_*", source="Serv*").subscribe(seen.append)
    t.emit(1.0, 3)
    d.dispose()
    t.emit(2.0, 4)
    assert [(o.time, o.kind, o.source, o.name, o.value) for o in seen] == [
        (1.0, ObservationKind.METRIC, "Server", "queue_depth", 3)
    ]
    assert t.emit == store.series_for("Server", "queue_depth").append
    assert len(store.series_for("Server", "queue_depth")) == 2


def test_topics_created_later_reach_existing_pattern_subscriptions():
    bus = ObservationBus(ManualClock())
    seen = []
    bus.metrics("lat*", source="Sink*").subscribe(lambda o: seen.append(o.source))
    bus.all().subscribe(lambda o: seen.append("all"))
    bus.metric("Sink2", "latency").emit(0.0, 1.0)
    bus.metric("Other", "latency").emit(0.0, 1.0)
    assert seen == ["Sink2", "all", "all"]


def test_spans_events_state_streams_and_trace_store():
    bus = ObservationBus(ManualClock())
    ts = bus.attach_store(TraceStore())
    spans, events, states = [], [], []
    bus.spans(source="Server").subscribe(lambda o: spans.append(o.value))
    bus.events("Req*").subscribe(lambda o: events.append(o.name))
    bus.state("up").subscribe(lambda o: states.append(o.value))
    span = Span(trace_id=1, span_id=10, parent_id=None, entity="Server", start=0.0, end=0.5)
    bus.topic(ObservationKind.SPAN, "Server", "span").emit(0.5, span)
    bus.topic("event", "Server", "Request").emit(0.5, None)
    bus.topic("state", "Server", "up").emit(0.5, True)
    assert spans == [span] and events == ["Request"] and states == [True]
    assert ts.trace(1) == [span]


def test_series_kind_declaration_rules():
    bus = ObservationBus(ManualClock())
    t = bus.metric("S", "x")
    assert bus.metric("S", "x", "gauge") is t and t.series_kind == "gauge"
    with pytest.raises(ValueError, match="already declared as 'gauge'"):
        bus.metric("S", "x", "sample")
    with pytest.raises(ValueError, match="series_kind must be one of"):
        bus.metric("S", "y", "histogram")
    assert [i.series_kind for i in bus.catalog()] == ["gauge"]


def test_complete_and_error_reach_each_subscriber_once():
    bus = ObservationBus(ManualClock())
    bus.metric("A", "x")
    bus.metric("B", "x")
    done = []
    bus.metrics("x").subscribe(on_completed=lambda: done.append(1))
    bus.complete()
    assert done == [1]
    late = []
    bus.metrics("x").subscribe(on_completed=lambda: late.append(1))
    assert late == [1]
    bus2 = ObservationBus(ManualClock())
    errs = []
    bus2.metrics().subscribe(on_error=errs.append)
    bus2.error(RuntimeError("boom"))
    assert len(errs) == 1


def test_lean_subject_behaves_like_subject():
    s = LeanSubject()
    a, b = [], []
    d = s.pipe(ops.map(lambda v: v + 1)).subscribe(a.append)
    s.subscribe(b.append, on_error=lambda e: None)
    s.on_next(1)
    d.dispose()
    s.on_next(2)
    assert a == [2] and b == [1, 2]
    errs = []
    s.subscribe(on_error=errs.append)
    s.on_error(ValueError("x"))
    s.on_next(3)
    assert b == [1, 2] and len(errs) == 1
    late = []
    s.subscribe(on_error=late.append)
    assert len(late) == 1


def test_lean_subject_reentrant_dispose_and_composition():
    s = LeanSubject()
    got = []
    box = {}

    def once(v):
        got.append(v)
        box["d"].dispose()

    box["d"] = s.subscribe(once)
    s.on_next(1)
    s.on_next(2)
    assert got == [1]
    out = []
    reactivex.merge(s, reactivex.of(9)).subscribe(out.append)
    s.on_next(5)
    s.on_completed()
    assert out == [9, 5]
