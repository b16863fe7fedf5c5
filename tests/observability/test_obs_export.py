"""Export: JSON / CSV / DataFrame round trips carry every row of the answer."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from obs_testkit import mm1

from happysimulator.observability import Exporter, Query


@pytest.fixture(scope="module")
def ran():
    sim, source, server, sink = mm1(seed=21, stop_after=60.0)
    sim.run()
    return sim, source, server, sink


def _queries(sim):
    q = sim.query
    return {
        "raw_latency": q.metrics("latency").from_entity("Sink"),
        "windowed": q.metrics("queue_depth").window(5.0).aggregate("mean", "p99", "max"),
        "grouped": q.metrics("*").group_by("name").aggregate("count"),
        "spans": q.spans().from_entity("Server").between(10.0, 20.0),
        "events": q.events("service.done").between(0.0, 5.0),
        "scalar": q.metrics("wait_time").aggregate("p50", "mean"),
    }


def test_to_json_round_trips_and_contains_every_row(ran):
    sim, *_ = ran
    ex = Exporter(sim.query)
    for label, query in _queries(sim).items():
        result = query.execute()
        doc = json.loads(ex.to_json(query))
        assert doc["rows"] == json.loads(json.dumps(result.to_records())), label
        assert len(doc["rows"]) == len(result.rows) > 0, label
        assert doc["weighting"] == result.weighting and doc["exact"] == result.exact
        assert doc["query"] == json.loads(query.to_json())
        # the same query, reloaded from its JSON form, gives the same answer
        again = Query.from_json(query.to_json(), engine=sim.query).execute()
        assert again.to_json() == result.to_json(), label
    raw = json.loads(ex.to_json(_queries(sim)["raw_latency"]))["rows"]
    _, sink = ran[2], ran[3]
    assert [r["value"] for r in raw] == sink.data.raw_values()
    assert [r["time"] for r in raw] == sink.data.times()


def test_span_and_event_rows_are_complete(ran):
    sim, *_ = ran
    ts = sim.query.trace_store
    rows = json.loads(Exporter(sim.query).to_json(_queries(sim)["spans"]))["rows"]
    brute = [s for s in ts._spans if s.entity == "Server" and 10.0 <= s.start < 20.0]
    assert sorted(r["span_id"] for r in rows) == sorted(s.span_id for s in brute)
    for r in rows:
        assert {"trace_id", "span_id", "parent_id", "entity", "start", "end", "duration"} <= set(r)
    ev = json.loads(Exporter(sim.query).to_json(_queries(sim)["events"]))["rows"]
    brute_ev = [r for r in sim.query.event_store.between(0.0, 5.0) if r["name"] == "service.done"]
    assert len(ev) == len(brute_ev) > 0


def test_to_csv_has_a_header_and_every_row(ran, tmp_path):
    sim, *_ = ran
    ex = Exporter(sim.query)
    for label, query in _queries(sim).items():
        result = query.execute()
        path = tmp_path / f"{label}.csv"
        text = ex.to_csv(query, path)
        assert path.read_text() == text
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == len(result.rows), label
        rec = result.to_records()
        for key in rec[0]:
            if isinstance(rec[0][key], float):
                got = [float(r[key]) if r[key] != "" else None for r in rows]
                want = [x[key] for x in rec]
                assert got == want, (label, key)


def test_to_dataframe(ran):
    sim, *_ = ran
    ex = Exporter(sim.query)
    for label, query in _queries(sim).items():
        result = query.execute()
        df = ex.to_dataframe(query)
        assert len(df) == len(result.rows), label
        assert list(df.columns) == list(result.to_records()[0])
    df = ex.to_dataframe(_queries(sim)["windowed"])
    series = _queries(sim)["windowed"].execute().series
    np.testing.assert_array_equal(df["start"].to_numpy(), [s for s, _ in series])
    np.testing.assert_array_equal(df["mean"].to_numpy(), [v for _, v in series])


def test_catalog_json_lists_what_can_be_asked(ran):
    sim, *_ = ran
    cat = json.loads(Exporter(sim.query).catalog_json())
    names = {(m["source"], m["name"]) for m in cat["metrics"]}
    assert {
        ("Server", "queue_depth"),
        ("Server", "in_flight"),
        ("Server", "wait_time"),
        ("Server", "service_time"),
        ("Server", "arrivals"),
        ("Server", "completed"),
        ("Server", "dropped"),
        ("Sink", "latency"),
        ("Source", "generated"),
    } <= names
    kinds = {m["name"]: m["series_kind"] for m in cat["metrics"]}
    assert kinds["queue_depth"] == kinds["in_flight"] == "gauge"
    assert kinds["wait_time"] == kinds["latency"] == "sample"
    assert kinds["arrivals"] == kinds["generated"] == "counter"
