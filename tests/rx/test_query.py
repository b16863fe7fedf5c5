"""Queries over the exact store equal numpy over the raw data; errors are helpful."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happysim_rx import (
    EventStore,
    Exporter,
    ManualClock,
    MetricStore,
    ObservationBus,
    ObservationKind,
    Query,
    QueryEngine,
    QueryError,
    Span,
    TraceStore,
)


class Instantish:
    """Anything with .to_seconds() is accepted (no happysimulator import)."""

    def __init__(self, s):
        self.s = s

    def to_seconds(self):
        return self.s


def make(points, kind="sample", source="S", name="x", now=100.0):
    """A store fed with `points`, its clock at `now` (by default the end of the time
    domain the strategies draw from: a gauge is known up to the clock, not beyond)."""
    clock = ManualClock()
    bus = ObservationBus(clock)
    bus.attach_store(MetricStore())
    t = bus.metric(source, name, kind)
    for tt, v in points:
        t.emit(tt, v)
    if now is not None:
        clock.advance_to(max(now, max((tt for tt, _ in points), default=0.0)))
    return bus, QueryEngine(bus)


pts = st.lists(
    st.tuples(st.floats(min_value=0, max_value=100), st.floats(min_value=-1e3, max_value=1e3)),
    min_size=1,
    max_size=80,
).map(lambda p: sorted(p, key=lambda x: x[0]))
rng_st = st.tuples(
    st.floats(min_value=0, max_value=100), st.floats(min_value=0, max_value=100)
).map(sorted)


@settings(max_examples=60, deadline=None)
@given(pts, rng_st)
def test_sample_range_aggregates_equal_numpy(points, rng):
    t1, t2 = rng
    _, eng = make(points)
    r = (
        eng.metrics("x")
        .between(t1, t2)
        .aggregate("count", "mean", "p99", "max", "stddev")
        .execute()
    )
    sel = np.array([v for t, v in points if t1 <= t < t2])
    assert r.exact and r.weighting == "sample"
    row = r.rows[0]
    assert row["count"] == len(sel)
    if len(sel) == 0:
        assert row["mean"] is None and row["p99"] is None and r.scalar == 0.0
    else:
        assert row["mean"] == pytest.approx(sel.mean(), rel=1e-9, abs=1e-9)
        assert row["p99"] == pytest.approx(np.quantile(sel, 0.99), rel=1e-9, abs=1e-9)
        assert row["max"] == sel.max()
        assert row["stddev"] == pytest.approx(sel.std(), rel=1e-9, abs=1e-6)


def brute_force_gauge_mean(points, t1, t2):
    """Walk the step function: value before t1 carries in; last value holds to t2."""
    area = dur = 0.0
    cur = None
    last_t = t1
    for t, v in points:
        if t < t1:
            cur = v
            continue
        if t >= t2:
            break
        if cur is not None:
            area += cur * (t - last_t)
            dur += t - last_t
        cur, last_t = v, t
    if cur is not None:
        area += cur * (t2 - last_t)
        dur += t2 - last_t
    return None if cur is None else (area / dur if dur > 0 else cur)


@settings(max_examples=80, deadline=None)
@given(pts, rng_st)
def test_gauge_mean_is_time_weighted(points, rng):
    t1, t2 = rng
    _, eng = make(points, kind="gauge")
    r = eng.metrics("x").between(t1, t2).aggregate("mean").execute()
    assert r.weighting == "time"
    want = brute_force_gauge_mean(points, t1, t2)
    if want is None:
        assert r.scalar is None
    else:
        assert r.scalar == pytest.approx(want, rel=1e-9, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(pts, st.sampled_from([0.5, 1.0, 7.0, 25.0]))
def test_windows_equal_numpy_per_window(points, w):
    _, eng = make(points)
    r = eng.metrics("x").between(0, 100).window(w).aggregate("sum", "p50").execute()
    k = math.ceil(100 / w)
    assert len(r.rows) == k
    for i, row in enumerate(r.rows):
        a, b = i * w, min((i + 1) * w, 100)
        assert (row["start"], row["end"]) == (a, b)
        sel = np.array([v for t, v in points if a <= t < b])
        if sel.size:
            assert row["sum"] == pytest.approx(sel.sum(), rel=1e-9, abs=1e-6)
            assert row["p50"] == pytest.approx(np.median(sel), rel=1e-9, abs=1e-9)
        else:
            assert row["sum"] is None and row["p50"] is None


def test_gauge_carries_in_and_holds_until_now():
    _, eng = make([(0.0, 0.0), (10.0, 10.0), (15.0, 20.0)], kind="gauge", now=20.0)
    q = eng.metrics("x")
    assert q.between(12, 20).aggregate("mean").execute().scalar == pytest.approx(16.25)
    assert q.aggregate("mean").execute().scalar == pytest.approx((0 * 10 + 10 * 5 + 20 * 5) / 20)
    assert q.between(12, 14).aggregate("p50", "min", "count").execute().rows[0]["p50"] == 10.0
    r = q.between(Instantish(0.0), Instantish(20.0)).aggregate("p50").execute()
    assert r.scalar == 0.0 and r.weighting == "time"
    assert q.weighting("sample").between(0, 20).aggregate("mean").execute().scalar == 10.0


def test_group_by_entity_and_tags():
    clock = ManualClock()
    bus = ObservationBus(clock)
    bus.attach_store(MetricStore())
    a, b = bus.metric("A", "lat", "sample"), bus.metric("B", "lat", "sample")
    for i in range(10):
        a.emit(float(i), 1.0, {"region": "eu" if i % 2 else "us"})
        b.emit(float(i), 3.0)
    eng = QueryEngine(bus)
    r = eng.metrics("lat").group_by("entity").aggregate("mean").execute()
    assert {k: rows[0]["mean"] for k, rows in r.groups().items()} == {"A": 1.0, "B": 3.0}
    assert eng.metrics("lat").aggregate("mean").execute().scalar == 2.0
    r = eng.metrics("lat").from_entity("A").group_by("region").aggregate("count").execute()
    assert {k: rows[0]["count"] for k, rows in r.groups().items()} == {"eu": 5.0, "us": 5.0}
    assert eng.metrics("lat").where(region="eu").aggregate("count").execute().scalar == 5.0
    raw = eng.metrics("lat").from_entity("A").limit(2).execute()
    assert raw.series == [(0.0, 1.0), (1.0, 1.0)] and raw.rows[0]["tags"] == {"region": "us"}


def test_errors_name_valid_choices():
    bus, eng = make([(0.0, 1.0)], source="Server", name="queue_depth", kind="gauge")
    bus.metric("Server", "declared_only", "sample")
    with pytest.raises(QueryError, match="did you mean 'queue_depth'"):
        eng.metrics("queue_dept").execute()
    with pytest.raises(QueryError, match="did you mean 'Server'"):
        eng.metrics("queue_depth").from_entity("Servr").execute()
    with pytest.raises(QueryError, match="start <= end"):
        eng.metrics("queue_depth").between(5, 1)
    with pytest.raises(QueryError, match="positive"):
        eng.metrics("queue_depth").window(0)
    with pytest.raises(QueryError, match="positive"):
        eng.metrics("queue_depth").window(-1.0)
    with pytest.raises(QueryError, match="valid: count, sum, mean"):
        eng.metrics("queue_depth").aggregate("p99x")
    with pytest.raises(QueryError, match="NaN"):
        eng.metrics("queue_depth").between(float("nan"), 1)
    assert isinstance(QueryError("x"), ValueError)
    r = eng.metrics("declared_only").between(0, 10).aggregate("p99").execute()
    assert r.scalar is None  # declared, no data: None, never a made-up 0.0
    assert eng.metrics("declared_only").aggregate("mean").execute().scalar is None
    with pytest.raises(QueryError, match="ambiguous"):
        _ = eng.metrics("queue_depth").window(1.0).aggregate("mean").execute().scalar


def test_serialization_round_trip_and_export(tmp_path):
    _, eng = make([(i * 0.5, float(i)) for i in range(40)])
    q = eng.metrics("x").from_entity("S").between(0, 10).window(2.0).aggregate("mean", "p99")
    q2 = Query.from_json(q.to_json(), eng)
    assert q2.to_dict() == q.to_dict()
    r1, r2 = q.execute(), eng.execute(q.to_json())
    assert r1.to_json() == r2.to_json()
    doc = json.loads(r1.to_json())
    assert doc["weighting"] == "sample" and doc["exact"] is True and len(doc["rows"]) == 5
    ex = Exporter(eng)
    path = tmp_path / "out.csv"
    text = ex.to_csv(q, path)
    assert text.splitlines()[0] == "metric,start,end,mean,p99" and path.read_text() == text
    df = ex.to_dataframe(q)
    assert list(df["mean"]) == [row["mean"] for row in r1.rows]
    assert ex.to_records(q) == r1.to_records()
    with pytest.raises(QueryError, match="unknown query fields"):
        Query.from_dict({"kind": "metrics", "nme": "x"})


def test_spans_and_events_queries():
    clock = ManualClock()
    bus = ObservationBus(clock)
    ts, _ = bus.attach_store(TraceStore()), bus.attach_store(EventStore())
    sp = bus.topic(ObservationKind.SPAN, "Server", "span")
    ev = bus.topic(ObservationKind.EVENT, "Server", "Request")
    for i in range(20):
        sp.emit(i + 0.5, Span(i, 2 * i, None, "Server", float(i), i + 0.5))
        sp.emit(i + 0.6, Span(i, 2 * i + 1, 2 * i, "Sink", i + 0.5, i + 0.6))
        ev.emit(float(i), {"n": i})
    eng = QueryEngine(bus)
    r = eng.spans().from_entity("Server").between(0, 10).aggregate("count", "p99").execute()
    assert r.rows[0]["count"] == 10 and r.rows[0]["p99"] == pytest.approx(0.5)
    assert len(eng.spans().between(0, 2).execute().rows) == 4
    g = eng.spans().group_by("entity").aggregate("mean").execute().groups()
    assert g["Sink"][0]["mean"] == pytest.approx(0.1)
    assert [s.entity for s in ts.critical_path(3)] == ["Server", "Sink"]
    assert ts.tree(3)[0]["children"][0]["entity"] == "Sink"
    assert eng.events("Request").between(0, 10).aggregate("count").execute().scalar == 10
    assert eng.events().from_entity("Server").limit(3).execute().rows[2]["value"] == {"n": 2}
    with pytest.raises(QueryError, match="did you mean 'Request'"):
        eng.events("Reqest").execute()
    with pytest.raises(QueryError, match="did you mean 'Server'"):
        eng.spans().from_entity("Srver").execute()
    cat = eng.catalog()
    assert cat["span_entities"] == ["Server", "Sink"] and cat["events"][0]["name"] == "Request"


def test_live_view_emits_per_window_and_flushes_on_complete():
    clock = ManualClock()
    bus = ObservationBus(clock)
    bus.attach_store(MetricStore())
    x = bus.metric("S", "x", "sample")
    eng = QueryEngine(bus)
    out, done = [], []
    eng.metrics("x").window(1.0).aggregate("count").observe().subscribe(
        lambda r: out.append((r.rows[0]["start"], r.rows[0]["count"])),
        on_completed=lambda: done.append(True),
    )
    for i in range(25):
        clock.advance_to(i * 0.1)
        x.emit(i * 0.1, 1.0)
    clock.advance_to(2.45)
    bus.complete()
    assert out == [(0.0, 10.0), (1.0, 10.0), (2.0, 5.0)] and done == [True]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(
    st.tuples(st.just("one"), st.floats(0, 1e6), st.booleans()),
    st.tuples(st.just("many"), st.lists(st.floats(0, 1e6), max_size=5), st.just(False)),
    st.tuples(st.just("read"), st.just(0.0), st.just(False)),
), max_size=30))
def test_metric_series_interleaved_appends_extends_and_reads(ops):
    """Single appends (some tagged), batches and reads in any order: the series holds every
    sample in order (time-sorted, stable), and tags stay on their samples."""
    from happysim_rx.stores.metric import MetricSeries

    series = MetricSeries("src", "m")
    expected = []  # (t, v, tags)
    for kind, x, tagged in ops:
        if kind == "one":
            tags = {"i": len(expected)} if tagged else None
            series.append(x, float(len(expected)), tags)
            expected.append((x, float(len(expected)), tags))
        elif kind == "many":
            base = len(expected)
            vals = [float(base + k) for k in range(len(x))]
            series.extend(np.array(x), np.array(vals))
            expected.extend((t, v, None) for t, v in zip(x, vals, strict=True))
        else:
            series.arrays()
        assert len(series) == len(expected)
    order = sorted(range(len(expected)), key=lambda k: expected[k][0])
    t, v = series.arrays()
    assert t.tolist() == [expected[k][0] for k in order]
    assert v.tolist() == [expected[k][1] for k in order]
    assert [series.tags_at(i) for i in range(len(order))] == [expected[k][2] for k in order]
