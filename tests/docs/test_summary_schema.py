"""docs/schemas/summary-v1.schema.json describes Exporter(sim).summary() exactly.

Summaries of several simulations (complete, paused on an anomaly, streaming stores,
no traces, a bare QueryEngine) validate against the schema, round-trip
through JSON, fit every budget, and name what was cut in `truncated`.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import (
    Breakpoint,
    Exporter,
    MetricCondition,
    ObservabilityConfig,
)

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "docs" / "schemas" / "summary-v1.schema.json"
BUDGETS = [1024, 2048, 4096, 8192, 16384, 32768]
CUTS = ("trace samples", "trend resolution", "trends", "series", "anomalies")


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json.loads(SCHEMA_PATH.read_text())
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema)
    return cls(schema)


def _mm1(config: ObservabilityConfig, customers: int = 1500, seed: int = 3) -> Simulation:
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=8.0, target=server, limit=customers)
    return Simulation(sources=[source], entities=[server, sink], seed=seed,
                      observability=config)


def _metastable() -> Simulation:
    """examples/metastable_failure.py, paused by its anomaly breakpoint."""
    spec = importlib.util.spec_from_file_location(
        "metastable_for_schema", ROOT / "examples" / "metastable_failure.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    sim, _client, _server, detector = module.build_parts(7, 150.0, ObservabilityConfig.full())
    sim.control.add_breakpoint(Breakpoint(anomaly=detector))
    sim.control.add_breakpoint(Breakpoint(event_type="never-happens"))
    sim.run()
    assert sim.control.is_paused and detector.reports
    return sim


def _simulations() -> dict[str, Any]:
    complete = _mm1(ObservabilityConfig.full())
    complete.run()
    paused = _mm1(ObservabilityConfig.default(), customers=3000)
    paused.control.add_breakpoint(Breakpoint(
        metric_condition=MetricCondition("Server", "queue_depth", "gt", 8)))
    paused.run()
    streaming = _mm1(ObservabilityConfig.streaming().replace(raw_samples=256), customers=4000)
    streaming.run()
    untraced = _mm1(ObservabilityConfig.default().replace(traces=False))
    untraced.run()
    return {
        "complete": complete,
        "paused on a metric": paused,
        "paused on an anomaly": _metastable(),
        "streaming": streaming,
        "no traces": untraced,
        "bare query engine": complete.query,  # Exporter(QueryEngine)
    }


@pytest.fixture(scope="module")
def simulations() -> dict[str, Any]:
    return _simulations()


def _compact_size(doc: dict[str, Any]) -> int:
    return len(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode())


def test_schema_is_valid_draft_2020_12(validator: Any) -> None:
    schema = validator.schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "happysim-rx.summary/1"
    assert schema["properties"]["schema"]["const"] == "happysim-rx.summary/1"


@pytest.mark.parametrize("budget", BUDGETS)
def test_summaries_validate_round_trip_and_fit(
    validator: Any, simulations: dict[str, Any], budget: int
) -> None:
    for label, sim in simulations.items():
        doc = Exporter(sim).summary(budget_bytes=budget)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        assert not errors, f"{label} @ {budget}: " + "; ".join(
            f"{list(e.path)}: {e.message}" for e in errors[:5])
        text = json.dumps(doc)
        assert json.loads(text) == doc, f"{label}: does not round-trip"
        assert json.loads(Exporter(sim).summary_json(budget_bytes=budget)) == doc
        assert doc["budget_bytes"] == budget
        assert doc["size_bytes"] <= budget, f"{label}: {doc['size_bytes']} > {budget}"
        # the real size may exceed size_bytes by the size_bytes field itself (see below)
        assert _compact_size(doc) <= budget + len(',"size_bytes":') + 6, label


def test_size_bytes_is_the_real_size_and_within_budget(simulations: dict[str, Any]) -> None:
    sim = simulations["complete"]
    for budget in range(512, 4096, 7):
        doc = Exporter(sim).summary(budget_bytes=budget)
        assert doc["size_bytes"] == _compact_size(doc), budget
        assert _compact_size(doc) <= budget, budget


def test_small_budgets_say_what_was_cut(simulations: dict[str, Any]) -> None:
    for label, sim in simulations.items():
        exporter = Exporter(sim)
        full = exporter.summary(budget_bytes=1_000_000)
        assert full["truncated"] == [], f"{label}: cut with a huge budget"
        engine = sim if hasattr(sim, "catalog") else sim.query
        recorded = {(m["source"], m["name"]) for m in engine.catalog()["metrics"]
                    if engine.metrics(m["name"]).from_entity(m["source"]).limit(1)
                    .execute().rows}
        # every series with data, and only those (declared-but-empty ones are left out)
        assert {(e["source"], e["name"]) for e in full["series"]} == recorded, label
        for budget in BUDGETS:
            doc = exporter.summary(budget_bytes=budget)
            cut = doc["truncated"]
            assert len(set(cut)) == len(cut) and set(cut) <= set(CUTS)
            if _compact_size(full) <= budget:
                assert cut == [], f"{label} @ {budget}: nothing needed cutting"
                assert doc["series"] == full["series"]
                continue
            assert cut, f"{label} @ {budget}: over budget but `truncated` is empty"
            # what is listed was really cut, and what is not listed was not
            n_samples = len(full["traces"]["samples"])
            if "trace samples" in cut:
                assert len(doc["traces"]["samples"]) < n_samples
            else:
                assert doc["traces"] == full["traces"]
            if "series" in cut:
                assert len(doc["series"]) < len(full["series"])
                assert "trends" in cut  # trends go before whole series
            else:
                assert len(doc["series"]) == len(full["series"])
            if "trends" in cut:
                assert any("trend" in f and "trend" not in d
                           for f, d in zip(full["series"], doc["series"], strict=False)) \
                    or len(doc["series"]) < len(full["series"])
            if "trend resolution" not in cut and "trends" not in cut:
                assert [s.get("trend") for s in doc["series"]] == \
                    [s.get("trend") for s in full["series"][:len(doc["series"])]]
            if "anomalies" in cut:
                assert len(doc["anomalies"]) < len(full["anomalies"])
            else:
                assert doc["anomalies"] == full["anomalies"]
            # priorities: run metadata and breakpoints are never cut
            assert doc["run"] == full["run"] and doc["breakpoints"] == full["breakpoints"]


def test_bigger_budgets_keep_more(simulations: dict[str, Any]) -> None:
    for label, sim in simulations.items():
        exporter = Exporter(sim)
        sizes = [exporter.summary(budget_bytes=b) for b in BUDGETS]
        kept = [(len(d["series"]), sum("trend" in s for s in d["series"]),
                 len(d["traces"]["samples"])) for d in sizes]
        assert kept == sorted(kept), f"{label}: {kept}"


def test_contents_match_the_run(simulations: dict[str, Any]) -> None:
    doc = Exporter(simulations["paused on an anomaly"]).summary(budget_bytes=32_768)
    assert doc["run"]["is_paused"] and doc["run"]["paused_by"].startswith("anomaly")
    assert {b["kind"] for b in doc["breakpoints"]} == {"anomaly", "event_type"}
    assert doc["anomalies"] and doc["anomalies"][0]["metric"] == "queue_depth"
    names = {(s["source"], s["name"]) for s in doc["series"]}
    assert {("Server", "queue_depth"), ("Client", "retries")} <= names

    streaming = Exporter(simulations["streaming"]).summary(budget_bytes=32_768)
    latency = next(s for s in streaming["series"] if s["name"] == "latency")
    assert latency["exact"] is False and latency["kind"] == "sample"
    depth = next(s for s in streaming["series"] if s["name"] == "queue_depth")
    assert depth["weighting"] == "time"

    untraced = Exporter(simulations["no traces"]).summary(budget_bytes=4096)
    assert untraced["traces"] == {"count": 0, "samples": []}

    # Exporter(sim.query) finds the simulation through the engine's clock
    bare = Exporter(simulations["bare query engine"]).summary(budget_bytes=4096)
    assert bare == Exporter(simulations["complete"]).summary(budget_bytes=4096)


def test_summary_before_the_run_starts(validator: Any) -> None:
    fresh = Exporter(_mm1(ObservabilityConfig.default())).summary(budget_bytes=4096)
    assert not list(validator.iter_errors(fresh))
    assert fresh["run"]["events_processed"] == 0 and fresh["traces"]["count"] == 0


def test_budget_below_minimum_is_refused(simulations: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="512"):
        Exporter(simulations["complete"]).summary(budget_bytes=100)
