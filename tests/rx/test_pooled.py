"""Pooled aggregates (no from_entity) have one documented meaning, checked against a
brute force over the raw data: samples pool into one population; a pooled gauge is the
mixture "a series at a random instant" (each held value weighs its seconds); first/last
are by time across series, ties broken by (source, name)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happysim_rx import ManualClock, MetricStore, ObservationBus, QueryEngine, QueryError

SOURCES = ("A", "B", "C")
points = st.lists(st.tuples(st.integers(0, 30), st.integers(-4, 9)), max_size=25).map(sorted)


def feed(series, kind, now):
    clock = ManualClock()
    bus = ObservationBus(clock)
    bus.attach_store(MetricStore())
    topics = {src: bus.metric(src, "x", kind) for src in SOURCES}
    # record in time order across series, like a simulation would
    allp = sorted((t, i, src, v) for src, pts in zip(SOURCES, series, strict=True)
                  for i, (t, v) in enumerate(pts))
    for t, _, src, v in allp:
        topics[src].emit(float(t), float(v))
    clock.advance_to(float(now))
    return QueryEngine(bus)


def brute_samples(series, a, b):
    rows = [(t, k, i, float(v)) for k, pts in enumerate(series)
            for i, (t, v) in enumerate(pts) if a <= t < b]
    rows.sort()
    v = np.array([r[3] for r in rows])
    if not rows:
        return {"count": 0.0, "sum": None, "mean": None, "min": None, "max": None,
                "first": None, "last": None, "p50": None}
    return {"count": float(v.size), "sum": v.sum(), "mean": v.mean(), "min": v.min(),
            "max": v.max(), "first": rows[0][3], "last": rows[-1][3],
            "p50": float(np.quantile(v, 0.5))}


def settle(pts):
    """A gauge's records as its points: one per instant, the instant's last value; an
    instant ending where it began (several records netting to nothing, or one setting the
    value held) is no change (docs/design.md, "Decisions at the seams")."""
    out, prev = [], None
    for t in sorted({t for t, _ in pts}):
        at = [v for u, v in pts if u == t]
        if at[-1] == prev:
            continue
        out.append((t, at[-1]))
        prev = at[-1]
    return out


def brute_gauge(series, a, b, now):
    """Walk each series' step function over [a, min(b, now))."""
    held, weights, firsts, lasts = [], [], [], []
    stop = min(b, now)
    for k, pts in enumerate(series):
        pts = settle(pts)
        segs = []  # (time, value)
        before = [(t, v) for t, v in pts if t < a]
        inside = [(t, v) for t, v in pts if a <= t < b]
        if before and not any(t == a for t, _ in inside):
            segs.append((a, before[-1][1]))
        segs += inside
        if not segs:
            continue
        for j, (t, v) in enumerate(segs):
            end = segs[j + 1][0] if j + 1 < len(segs) else max(stop, t)
            held.append(float(v))
            weights.append(end - t)
        firsts.append((segs[0][0], k, float(segs[0][1])))
        lasts.append((segs[-1][0], k, float(segs[-1][1])))
    if not held:
        return None
    h, w = np.array(held), np.array(weights, dtype=float)
    mean = float((h * w).sum() / w.sum()) if w.sum() > 0 else max(lasts)[2]
    return {"mean": mean, "min": h.min(), "max": h.max(), "first": min(firsts)[2],
            "last": max(lasts)[2]}


@settings(max_examples=80, deadline=None)
@given(st.tuples(points, points, points), st.integers(0, 30), st.integers(0, 30))
def test_pooled_samples_equal_brute_force(series, x, y):
    a, b = sorted((x, y))
    eng = feed(series, "sample", 40)
    aggs = ("count", "sum", "mean", "min", "max", "first", "last", "p50")
    row = eng.metrics("x").between(a, b).aggregate(*aggs).execute().rows[0]
    want = brute_samples(series, a, b)
    for g in aggs:
        assert row[g] == pytest.approx(want[g]), g


@settings(max_examples=80, deadline=None)
@given(st.tuples(points, points, points), st.integers(0, 30), st.integers(0, 30),
       st.integers(0, 35))
def test_pooled_gauges_equal_brute_force(series, x, y, now_extra):
    a, b = sorted((x, y))
    last_t = max((t for pts in series for t, _ in pts), default=0)
    now = max(last_t, now_extra)
    if a > now:
        return
    eng = feed(series, "gauge", now)
    r = eng.metrics("x").between(a, b).aggregate("mean", "min", "max", "first", "last") \
        .execute()
    assert r.weighting == "time"
    want = brute_gauge(series, a, b, now)
    row = r.rows[0]
    if want is None:
        assert all(row[g] is None for g in ("mean", "min", "max", "first", "last"))
        return
    for g in ("mean", "min", "max", "first", "last"):
        assert row[g] == pytest.approx(want[g]), g


def test_pooled_last_is_by_time_not_by_listing_order():
    eng = feed(([(0, 1), (10, 5)], [(0, 2), (3, 7)], []), "gauge", 20)
    r = eng.metrics("x").aggregate("first", "last").execute()
    assert (r.value("first"), r.value("last")) == (1.0, 5.0)  # tie at 0: A before B


def test_mixed_kinds_refuse_meaningless_aggregates():
    clock = ManualClock()
    bus = ObservationBus(clock)
    bus.attach_store(MetricStore())
    bus.metric("S", "latency", "sample").emit(1.0, 0.5)
    bus.metric("S", "depth", "gauge").emit(1.0, 4.0)
    bus.metric("S", "done", "counter").emit(2.0, 1.0)
    clock.advance_to(4.0)
    eng = QueryEngine(bus)
    with pytest.raises(QueryError, match=r"different kinds.*group_by\('name'\)"):
        eng.metrics("*").aggregate("mean").execute()
    assert eng.metrics("*").between(0, 4).aggregate("count", "rate").execute().rows[0][
        "count"] == 3.0
    g = eng.metrics("*").group_by("name").aggregate("mean").execute().groups()
    assert {k: rows[0]["mean"] for k, rows in g.items()} == {
        "depth": pytest.approx(4.0), "done": 1.0, "latency": 0.5}
