"""A spans answer from a trace sample (``trace_sample_rate`` < 1) says so -- ``of`` names
the sample, ``exact`` is false -- in Python and over the protocol (schema-valid); a run
tracing every request answers as before (exact, no ``of``); metrics are never affected.
The export summary's traces say the same (sample or bounded store) in its ``of``."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.export import Exporter
from happysimulator.observability.protocol.session import SessionProtocol
from tests.protocol.proto_testkit import check_response


def _build(rate: float, **settings: object) -> Simulation:
    sink = Sink("Sink")
    srv = Server("S", concurrency=1, service_time=ExponentialLatency(0.05), downstream=sink)
    src = Source.poisson(rate=10.0, target=srv, name="Users", limit=300)
    cfg = ObservabilityConfig.full().replace(trace_sample_rate=rate, **settings)
    return Simulation(sources=[src], entities=[srv, sink], seed=3, observability=cfg)


@pytest.mark.parametrize("rate", [0.25, 1.0])
def test_python_answer_states_the_sample(rate: float) -> None:
    sim = _build(rate)
    sim.run()
    spans = sim.query.spans().from_entity("S").aggregate("count", "mean").execute()
    metric = sim.query.metrics("service_time").from_entity("S").aggregate("count").execute()
    assert metric.exact is True and metric.of is None and metric.scalar == 300
    if rate == 1.0:
        assert spans.exact is True and spans.of is None and "of" not in spans.to_dict()
        assert spans.scalar == 300
    else:
        assert spans.exact is False and 0 < spans.scalar < 300
        assert "trace_sample_rate=0.25" in spans.of
        assert spans.to_dict()["of"] == spans.of and "of=" in repr(spans)


@pytest.mark.parametrize("rate", [0.25, 1.0])
def test_protocol_answer_states_the_sample(rate: float) -> None:
    s = SessionProtocol(lambda: _build(rate), default_wait_s=None)
    assert s.handle({"op": "run"})["ok"]
    req = {"op": "query", "query": {"kind": "spans", "entity": "S", "aggregates": ["count"]}}
    resp = s.handle(req)
    check_response(req, resp)
    result = resp["result"]
    if rate == 1.0:
        assert result["exact"] is True and result.get("of") is None
    else:
        assert result["exact"] is False and "trace_sample_rate=0.25" in result["of"]


@pytest.mark.parametrize("cfg, said", [
    ({"trace_sample_rate": 0.25}, "trace_sample_rate=0.25"),
    ({"trace_capacity": 20}, "trace_capacity"),
    ({}, None),
])
def test_export_summary_traces_state_their_population(cfg, said) -> None:
    sim = _build(cfg.pop("trace_sample_rate", 1.0), **cfg)
    sim.run()
    doc = Exporter(sim).summary()
    schema = json.loads((Path(__file__).resolve().parents[2] / "docs" / "schemas"
                         / "summary-v1.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)
    if said is None:
        assert "of" not in doc["traces"] and doc["traces"]["count"] == 300
    else:
        assert said in doc["traces"]["of"] and doc["traces"]["count"] < 300
