"""Standard exports, each checked by its real consumer: OTLP JSON parsed by
opentelemetry-proto (protobuf's JSON parser), Parquet queried by DuckDB and read by
Polars (answers equal `sim.query`'s), and the Chrome trace-event rules Perfetto relies on."""

from __future__ import annotations

import base64
import json
import math
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import Exporter, ObservabilityConfig
from tests.models import mm_server


@pytest.fixture(scope="module")
def sim() -> Simulation:
    s = mm_server(seed=3, rate=8.0, mean_service=0.2, concurrency=2, limit=600)
    s.run()
    return s


def _hex_ids_to_base64(doc: dict) -> dict:
    """What an OTLP/JSON receiver does first: ids are hex in OTLP JSON, base64 in
    protobuf's canonical JSON mapping."""
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for span in ss["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    return doc


def test_otlp_json_parses_as_an_export_trace_service_request(sim, tmp_path: Path) -> None:
    pytest.importorskip("opentelemetry.proto")
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    path = tmp_path / "traces.json"
    n = Exporter(sim).to_otlp_json(path)
    doc = json.loads(path.read_text())
    raw = [s for rs in doc["resourceSpans"] for s in rs["scopeSpans"][0]["spans"]]
    assert all(len(s["traceId"]) == 32 and len(s["spanId"]) == 16 for s in raw)
    assert all(isinstance(s["startTimeUnixNano"], str) for s in raw)
    req = json_format.Parse(json.dumps(_hex_ids_to_base64(doc)), ExportTraceServiceRequest())
    spans = [s for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans]
    stored = sim.query.spans().execute().rows
    assert n == len(spans) == len(stored) > 0
    services = {rs.resource.attributes[0].value.string_value for rs in req.resource_spans}
    assert services == {r["entity"] for r in stored}
    by_id = {s.span_id: s for s in spans}
    for s, r in zip(sorted(spans, key=lambda s: (s.start_time_unix_nano, s.span_id)),
                    sorted(stored, key=lambda r: (round(r["start"] * 1e9), r["span_id"])),
                    strict=True):
        assert len(s.trace_id) == 16 and len(s.span_id) == 8
        assert int.from_bytes(s.trace_id, "big") == r["trace_id"]
        assert s.start_time_unix_nano == round(r["start"] * 1e9)
        assert s.end_time_unix_nano - s.start_time_unix_nano == pytest.approx(
            r["duration"] * 1e9, abs=2)
        if r["parent_id"] is None:
            assert s.parent_span_id == b""
        else:  # the parent is in the same trace
            assert by_id[s.parent_span_id].trace_id == s.trace_id


def test_chrome_trace_follows_the_trace_event_rules(sim, tmp_path: Path) -> None:
    path = tmp_path / "timeline.json"
    Exporter(sim).to_chrome_trace(path)
    events = json.loads(path.read_text())["traceEvents"]
    names = {e["pid"]: e["args"]["name"] for e in events if e["name"] == "process_name"}
    slices = [e for e in events if e["ph"] == "X"]
    stored = sim.query.spans().execute().rows
    assert len(slices) == len(stored)
    assert Counter(names[e["pid"]] for e in slices) == Counter(r["entity"] for r in stored)
    # slices on one thread never partly overlap (the format needs proper nesting)
    lanes = defaultdict(list)
    for e in slices:
        assert e["dur"] >= 0 and isinstance(e["ts"], float | int)
        lanes[(e["pid"], e["tid"])].append((e["ts"], e["ts"] + e["dur"]))
    for iv in lanes.values():
        iv.sort()
        assert all(b[0] >= a[1] for a, b in zip(iv, iv[1:], strict=False))
    # counters: every change of every gauge, on its entity's process
    counters = [e for e in events if e["ph"] == "C"]
    depth = sim.query.metrics("queue_depth").from_entity("Server").execute().rows
    mine = [e for e in counters if e["name"] == "queue_depth"]
    assert len(mine) == len(depth) and {names[e["pid"]] for e in mine} == {"Server"}
    assert [e["args"]["queue_depth"] for e in mine] == [r["value"] for r in depth]
    # flows: each start has its finish, and both fall inside a slice of their thread
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    finishes = {e["id"]: e for e in events if e["ph"] == "f"}
    assert starts.keys() == finishes.keys()
    assert len(starts) == sum(r["parent_id"] is not None for r in stored)
    for f in finishes.values():
        assert f["bp"] == "e"
        assert any(a <= f["ts"] <= b for a, b in lanes[(f["pid"], f["tid"])])


def test_parquet_queried_by_duckdb_equals_sim_query(sim, tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    paths = Exporter(sim).to_parquet(tmp_path)
    assert {p.name for p in paths.values()} == {"metrics.parquet", "spans.parquet",
                                                  "events.parquet"}
    m = str(paths["metrics"])
    con = duckdb.connect()
    count, mean, p99 = con.execute(
        f"SELECT count(*), avg(value), quantile_cont(value, 0.99) FROM '{m}' "
        "WHERE source = 'Sink' AND name = 'latency'").fetchone()
    q = sim.query.metrics("latency").from_entity("Sink").aggregate("count", "mean", "p99") \
        .execute()
    assert count == q.value("count")
    assert mean == pytest.approx(q.value("mean"), rel=1e-12)
    assert p99 == pytest.approx(q.value("p99"), rel=1e-12)
    # a gauge's time-weighted mean, in SQL: each value held until the next change
    now = sim.clock.now()
    (tw,) = con.execute(
        f"SELECT sum(value * (coalesce(nxt, {now!r}) - time)) / ({now!r} - min(time)) FROM ("
        f"  SELECT time, value, lead(time) OVER (ORDER BY time) AS nxt FROM '{m}'"
        "   WHERE source = 'Server' AND name = 'queue_depth')").fetchone()
    first = sim.query.metrics("queue_depth").from_entity("Server").execute().rows[0]["time"]
    expect = sim.query.metrics("queue_depth").from_entity("Server").between(first, now) \
        .aggregate("mean").execute().scalar
    assert tw == pytest.approx(expect, rel=1e-9)
    per_entity = dict(con.execute(
        f"SELECT entity, count(*) FROM '{paths['spans']}' GROUP BY entity").fetchall())
    spans = sim.query.spans().group_by("entity").aggregate("count").execute()
    assert per_entity == {r["source"]: r["count"] for r in spans.rows}
    events = dict(con.execute(
        f"SELECT name, count(*) FROM '{paths['events']}' GROUP BY name").fetchall())
    assert events == Counter(r["name"] for r in sim.query.events().execute().rows)


def test_polars_reads_the_parquet_files(sim, tmp_path: Path) -> None:
    pl = pytest.importorskip("polars")
    paths = Exporter(sim).to_parquet(tmp_path)
    metrics = pl.read_parquet(paths["metrics"])
    assert metrics.columns == ["time", "source", "name", "kind", "value", "tags"]
    waits = metrics.filter((pl.col("name") == "wait_time") & (pl.col("source") == "Server"))
    assert waits["value"].sum() == pytest.approx(
        sim.query.metrics("wait_time").from_entity("Server").aggregate("sum").execute().scalar)
    spans = pl.read_parquet(paths["spans"])
    assert spans.schema["trace_id"] == pl.Int64 and spans.height == len(
        sim.query.spans().execute().rows)
    assert np.allclose(spans["duration"].to_numpy(),
                       (spans["end"] - spans["start"]).to_numpy())
    tables = Exporter(sim).to_arrow()
    assert tables["metrics"].num_rows == metrics.height


def test_exports_of_an_unrecorded_kind_and_bad_ranges(tmp_path: Path) -> None:
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    source = Source.poisson(rate=5.0, target=server, limit=20)
    s = Simulation(sources=[source], entities=[server], seed=1,
                   observability=ObservabilityConfig.default().replace(traces=False))
    s.run()
    ex = Exporter(s)
    assert ex.to_otlp_json(tmp_path / "t.json") == 0
    assert json.loads((tmp_path / "t.json").read_text()) == {"resourceSpans": []}
    tables = ex.to_arrow()
    assert tables["spans"].num_rows == 0 and tables["events"].num_rows == 0
    assert tables["metrics"].num_rows > 0
    with pytest.raises(ValueError, match="start must be <= end"):
        ex.to_chrome_trace(tmp_path / "c.json", start=5.0, end=1.0)
    part = ex.to_arrow(start=1.0, end=2.0)["metrics"].column("time").to_pylist()
    assert part and all(1.0 <= t < 2.0 for t in part)
    assert not math.isnan(sum(part))


def test_a_streaming_store_exports_the_samples_it_still_holds(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=8.0, target=server, limit=2000)
    s = Simulation(sources=[source], entities=[server, sink], seed=5,
                   observability=ObservabilityConfig.streaming().replace(raw_samples=300))
    s.run()
    ex = Exporter(s)
    metrics = ex.to_arrow()["metrics"]
    store = s.query.metric_store
    assert metrics.num_rows == sum(len(x.ring()[0]) for x in store.select("*", "*"))
    latency = [v for v, n in zip(metrics.column("value").to_pylist(),
                                 metrics.column("name").to_pylist(), strict=True)
               if n == "latency"]
    assert len(latency) == 300  # the ring's capacity: older samples live in rollups only
    raw = s.query.metrics("latency").execute().rows
    assert latency == [r["value"] for r in raw]
    assert ex.to_chrome_trace(tmp_path / "c.json") > 0
