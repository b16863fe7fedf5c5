"""The oracle's own behaviour, on cases small enough to compute by hand."""

from __future__ import annotations

import math

import pytest

from tests.oracle.reference import Reference, RefRefusal, window_edges


def _probe(now: float = 4.0) -> Reference:
    # a gauge changing on whole seconds: 0 for 1 s, then 1 (set again, unchanged, twice)
    ref = Reference(now=now)
    for t, v in [(0.0, 0.0), (1.0, 1.0), (2.0, 1.0), (3.0, 1.0)]:
        ref.metric(t, "Probe", "depth", "gauge", v)
    return ref


def _one(ref: Reference, **q):
    rows = ref.answer({"kind": "metrics", **q}).rows
    assert len(rows) == 1
    return rows[0]


def test_time_weighted_percentile_uses_held_seconds():
    row = _one(_probe(), name="depth", start=0.0, end=4.0, aggregates=["p90", "p10", "mean"])
    assert row["p90"] == (1.0, 1.0)  # 3 of 4 seconds at 1
    assert row["p10"] == (0.0, 0.0)
    assert row["mean"] == (0.75, 0.75)


def test_repeated_and_same_instant_sets_are_not_changes():
    ref = _probe()
    ref.metric(3.5, "Probe", "depth", "gauge", 7.0)  # a transient, replaced at once
    ref.metric(3.5, "Probe", "depth", "gauge", 1.0)
    row = _one(ref, name="depth", start=0.0, end=4.0, aggregates=["count", "max", "mean"],
               weighting="time")
    assert row["count"] == (2, 2) and row["max"] == (1.0, 1.0) and row["mean"] == (0.75, 0.75)
    sample = _one(ref, name="depth", start=0.0, end=4.0, aggregates=["mean"],
                  weighting="sample")
    assert sample["mean"] == (0.5, 0.5)  # the changes 0 and 1


def test_ranges_are_half_open_and_carry_the_value_in():
    ref = _probe()
    row = _one(ref, name="depth", start=1.5, end=3.0, aggregates=["count", "first", "mean"])
    assert row["count"] == (0, 0) and row["first"] == (1.0, 1.0) and row["mean"] == (1.0, 1.0)
    row = _one(ref, name="depth", start=0.0, end=1.0, aggregates=["max"])
    assert row["max"] == (0.0, 0.0)  # the change at 1.0 is outside [0, 1)


def test_counter_rate_is_over_the_time_covered_up_to_now():
    ref = Reference(now=100.0)
    for i in range(788):
        ref.metric(50.0 + i * 0.0634, "Server", "arrivals", "counter", 1.0)
    row = _one(ref, name="arrivals", start=50.0, end=5000.0, aggregates=["rate", "count"])
    assert row["count"] == (788, 788)
    assert math.isclose(row["rate"][0], 788 / 50.0)
    future = _one(ref, name="arrivals", start=200.0, end=300.0, aggregates=["rate", "count"])
    assert (future["rate"], future["count"]) == (None, (0, 0))


def test_gauge_held_only_up_to_now():
    row = _one(_probe(now=2.0), name="depth", start=0.0, end=10.0, aggregates=["mean"])
    assert row["mean"] == (0.5, 0.5)


def test_globs_weight_each_series_by_its_own_kind():
    ref = _probe()
    ref.metric(0.5, "Sink", "latency", "sample", 3.0)
    ref.metric(0.7, "Sink", "latency", "sample", 5.0)
    rows = ref.answer({"kind": "metrics", "name": "*", "start": 0.0, "end": 4.0,
                       "group_by": ["name"], "aggregates": ["mean"]}).rows
    assert [(r["name"], r["mean"]) for r in rows] == [("depth", (0.75, 0.75)),
                                                      ("latency", (4.0, 4.0))]
    with pytest.raises(RefRefusal):
        ref.answer({"kind": "metrics", "name": "*", "aggregates": ["mean"]})


def test_first_and_last_by_time_across_series():
    ref = Reference(now=10.0)
    ref.metric(2.0, "B", "lat", "sample", 1.0)
    ref.metric(1.0, "A", "lat", "sample", 2.0)
    ref.metric(3.0, "A", "lat", "sample", 3.0)
    row = _one(ref, name="lat", start=0.0, end=10.0, aggregates=["first", "last", "p50"])
    assert row["first"] == (2.0, 2.0) and row["last"] == (3.0, 3.0)
    assert row["p50"] == (2.0, 2.0)


def test_a_store_that_does_not_record_a_kind_refuses():
    ref = Reference(now=1.0, records=("metrics", "spans"))
    with pytest.raises(RefRefusal):
        ref.answer({"kind": "events", "aggregates": ["count"]})


def test_windows_on_integer_ticks():
    assert window_edges(0.25, 1.0, 0.5) == [(0.25, 0.5), (0.5, 1.0)]
    assert window_edges(0.3, 0.3, 0.1) == []  # an empty range on a boundary: no row
    assert window_edges(0.35, 0.35, 0.1) == [(0.35, 0.35)]


def test_tag_keys_declared_or_carried_are_valid_with_or_without_data():
    # LB.routed declares `backend`; Router.hops carries an undeclared `lane` once observed
    ref = Reference(now=2.0, catalog={("LB", "routed"): "counter", ("R", "hops"): "sample"},
                    declared_tags={("LB", "routed"): ("backend",)})
    q = {"kind": "metrics", "name": "routed", "entity": "LB", "aggregates": ["count"]}
    assert ref.answer({**q, "tags": {"backend": "a"}}).rows[0]["count"] == (0, 0)
    assert ref.answer({**q, "group_by": ["backend"]}).rows == []
    hops = {"kind": "metrics", "name": "hops", "entity": "R", "aggregates": ["count"]}
    for tags in ({"nosuch": "a"}, {"lane": "a"}):  # nothing carries `lane` yet
        with pytest.raises(RefRefusal):
            ref.answer({**hops, "tags": tags})
    with pytest.raises(RefRefusal):
        ref.answer({**q, "tags": {"nosuch": "a"}})
    ref.metric(1.0, "LB", "routed", "counter", 1.0, {"backend": "b"})
    ref.metric(1.0, "R", "hops", "sample", 3.0, {"lane": "a"})
    assert ref.answer({**q, "tags": {"backend": "a"}}).rows[0]["count"] == (0, 0)
    assert ref.answer({**hops, "tags": {"lane": "a"}}).rows[0]["count"] == (1, 1)
    for query in ({**q, "tags": {"nosuch": "a"}}, {**q, "group_by": ["nosuch"]},
                  {**q, "aggregates": [], "tags": {"nosuch": "a"}}):
        with pytest.raises(RefRefusal):  # aggregates, groups and raw rows alike
            ref.answer(query)


def test_a_tag_filter_on_a_gauge_keeps_the_time_held_from_matching_changes():
    # 2 (even) at 1 s, 5 (odd) at 2 s, 0 (even) at 4 s; now 6: even holds 2 for 1 s, 0 for 2 s
    ref = Reference(now=6.0, declared_tags={("P", "g"): ("phase",)})
    for t, v, ph in [(1.0, 2.0, "even"), (2.0, 5.0, "odd"), (4.0, 0.0, "even")]:
        ref.metric(t, "P", "g", "gauge", v, {"phase": ph})
    q = {"name": "g", "entity": "P", "end": 10.0, "aggregates": ["mean", "count", "first"]}
    row = _one(ref, **q, start=0.0, tags={"phase": "even"})
    assert row["mean"] == (2 / 3, 2 / 3) and row["count"] == (2, 2)
    # from 1.5 s: the 2 carried in (set by an even change) holds half a second
    row = _one(ref, **q, start=1.5, tags={"phase": "even"})
    assert row["mean"] == (0.4, 0.4) and row["count"] == (1, 1) and row["first"] == (2.0, 2.0)
    assert _one(ref, **q, start=1.5, tags={"phase": "odd"})["mean"] == (5.0, 5.0)


def test_a_group_by_tag_on_a_gauge_includes_the_segment_carried_in():
    ref = Reference(now=6.0, declared_tags={("P", "g"): ("phase",)})
    for t, v, ph in [(1.0, 2.0, "even"), (2.0, 5.0, "odd")]:
        ref.metric(t, "P", "g", "gauge", v, {"phase": ph})
    q = {"kind": "metrics", "name": "g", "entity": "P", "start": 1.5, "end": 3.0,
         "aggregates": ["mean", "count"], "group_by": ["phase"]}
    rows = {r["phase"]: (r["mean"], r["count"]) for r in ref.answer(q).rows}
    assert rows == {"even": ((2.0, 2.0), (0, 0)), "odd": ((5.0, 5.0), (1, 1))}
    # per sample there is nothing carried in: only the change in the range groups
    rows = ref.answer({**q, "weighting": "sample"}).rows
    assert [r["phase"] for r in rows] == ["odd"]
