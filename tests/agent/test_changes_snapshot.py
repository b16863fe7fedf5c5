"""changes, snapshot, the catalog's topology, utilization and the wait/service split of
spans, held against the stores' raw records (brute force) and queueing facts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from happysim_rx.query import QueryError
from tests.agent.planted import SLOW_AT, SLOWED, build


@pytest.fixture(scope="module")
def planted():
    sim = build(seed=3, observability="full")
    sim.run()
    return sim


def test_changes_ranks_the_slowed_stage_first_with_its_onset(planted) -> None:
    ch = planted.query.changes(before=(100, SLOW_AT), after=(SLOW_AT, 600), limit=5)
    top = ch["series"][0]
    assert top["entity"] == SLOWED, ch["series"]
    assert abs(top["onset"] - SLOW_AT) <= 10
    assert ch["total"] == len(planted.query.catalog()["metrics"])
    assert ch["before"] == [100, SLOW_AT] and ch["after"] == [SLOW_AT, 600]
    # the statistics are what a query of the same window answers
    svc = next(r for r in ch["series"] + planted.query.changes(
        (100, SLOW_AT), (SLOW_AT, 600), limit=100)["series"]
        if r["entity"] == SLOWED and r["name"] == "service_time")
    q = planted.query.metrics("service_time").from_entity(SLOWED).between(SLOW_AT, 600)
    assert svc["after"] == pytest.approx(q.aggregate("mean").execute().scalar)
    assert svc["after"] == pytest.approx(0.09, rel=0.1)
    assert svc["before"] == pytest.approx(0.05, rel=0.1)
    assert svc["delta"] == pytest.approx(svc["after"] - svc["before"])
    assert svc["relative"] == pytest.approx(svc["delta"] / svc["before"])


def test_changes_score_is_the_log_factor_and_weights_each_kind(planted) -> None:
    rows = planted.query.changes((100, SLOW_AT), (SLOW_AT, 600), limit=1000)["series"]
    by = {(r["entity"], r["name"]): r for r in rows}
    depth = by[(SLOWED, "queue_depth")]
    tw = planted.query.metrics("queue_depth").from_entity(SLOWED).between(SLOW_AT, 600)
    assert depth["after"] == pytest.approx(tw.aggregate("mean").execute().scalar)
    assert depth["statistic"] == "time-weighted mean"
    arr = by[("Parse", "arrivals")]
    assert arr["statistic"] == "rate per s" and arr["after"] == pytest.approx(10, rel=0.1)
    # an unchanged series scores near 0, a changed one by its factor
    assert arr["score"] < 0.1
    # the log factor, shrunk toward 0 by the noise floor (never grown by it)
    factor = abs(math.log(depth["after"] / depth["before"]))
    assert 0.5 * factor < depth["score"] <= factor
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)


def test_changes_defaults_and_errors(planted) -> None:
    ch = planted.query.changes()
    assert ch["after"][0] == pytest.approx(540) and ch["before"] == [pytest.approx(480),
                                                                     pytest.approx(540)]
    with pytest.raises(QueryError, match="start < end"):
        planted.query.changes(before=(300, 100))
    with pytest.raises(QueryError, match="limit"):
        planted.query.changes(limit=0)


def test_snapshot_is_exact_against_the_raw_records(planted) -> None:
    at = 321.25
    snap = planted.query.snapshot(at)
    store = planted.query.metric_store
    for entity, parts in snap["entities"].items():
        for name, value in parts.get("gauges", {}).items():
            rows = planted.query.metrics(name).from_entity(entity).between(0, 600).execute()
            held = [r["value"] for r in rows.rows if r["time"] <= at]
            assert value == held[-1], (entity, name)
        for name, total in parts.get("counters", {}).items():
            rows = planted.query.metrics(name).from_entity(entity).between(0, 600).execute()
            assert total == sum(r["value"] for r in rows.rows if r["time"] <= at)
    assert store is not None
    depth = sum(p.get("gauges", {}).get("queue_depth", 0) for p in snap["entities"].values())
    assert snap["requests"]["waiting"] == depth
    assert snap["exact"]
    with pytest.raises(QueryError, match="after now"):
        planted.query.snapshot(10_000)


def test_catalog_topology_in_flow_order(planted) -> None:
    ents = planted.query.catalog()["entities"]
    assert [e["name"] for e in ents] == ["Users", "Parse", "Enrich", "Store", "Sink"]
    assert [e["role"] for e in ents] == ["source", "station", "station", "station", "sink"]
    parse = ents[1]
    assert parse["concurrency"] == 2
    assert parse["service_time"] == {"distribution": "exponential", "mean": 0.08}
    assert ents[0]["rate"] == 10.0 and ents[0]["downstream"] == ["Parse"]
    # a span is recorded when the visit ends: the hop counts the requests Enrich finished
    served = planted.query.metrics("completed").from_entity("Enrich").aggregate(
        "sum").execute().scalar
    assert parse["observed_downstream"] == [{"to": "Enrich", "requests": served}]
    units = {s["name"]: s["unit"] for s in parse["series"]}
    assert units["wait_time"] == "s" and units["utilization"] == "fraction"


def test_catalog_lists_every_series_before_the_run() -> None:
    sim = build(seed=1)
    ents = {e["name"]: e for e in sim.query.catalog()["entities"]}
    names = {s["name"] for s in ents["Enrich"]["series"]}
    assert {"queue_depth", "in_flight", "utilization", "wait_time", "service_time",
            "arrivals", "completed", "dropped"} <= names


def test_utilization_is_in_flight_over_concurrency(planted) -> None:
    for entity in ("Parse", "Enrich"):
        conc = {"Parse": 2, "Enrich": 1}[entity]
        u = planted.query.metrics("utilization").from_entity(entity).between(0, 600)
        f = planted.query.metrics("in_flight").from_entity(entity).between(0, 600)
        assert u.aggregate("mean").execute().scalar == pytest.approx(
            f.aggregate("mean").execute().scalar / conc)
    # a busy fraction: the offered load (rate x mean service / concurrency)
    u = planted.query.metrics("utilization").from_entity("Parse").between(0, 600)
    assert u.aggregate("mean").execute().scalar == pytest.approx(10 * 0.08 / 2, rel=0.1)


def test_utilization_follows_a_concurrency_change() -> None:
    sim = build(seed=2, end=100.0, observability="full")
    sim.control.run_until(50.0)
    parse = next(e for e in sim.entities if e.name == "Parse")
    parse.concurrency = 4
    sim.control.resume()
    u = sim.query.metrics("utilization").from_entity("Parse")
    f = sim.query.metrics("in_flight").from_entity("Parse")
    for (s, e, c) in ((0, 50, 2), (50, 100, 4)):
        assert u.between(s, e).aggregate("mean").execute().scalar == pytest.approx(
            f.between(s, e).aggregate("mean").execute().scalar / c)


def test_spans_split_each_hop_into_wait_and_service(planted) -> None:
    store = planted.query.trace_store
    tid = store.trace_ids()[500]
    spans = [s for s in store.trace(tid) if s.entity in ("Parse", "Enrich", "Store")]
    assert len(spans) == 3
    for s in spans:
        a = s.attributes
        assert a["wait"] >= 0 and a["service"] > 0
        assert a["wait"] + a["service"] == pytest.approx(s.end - s.start, abs=1e-9)
    waits = planted.query.metrics("wait_time").from_entity("Enrich").execute()
    values = np.array([r["value"] for r in waits.rows])
    assert np.min(np.abs(values - spans[1].attributes["wait"])) < 1e-9
