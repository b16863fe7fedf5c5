"""Shared helpers of the protocol tests: small models and a schema validator."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol import OPS

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "docs" / "schemas" / "session-v1.schema.json"
METASTABLE = f"{ROOT / 'examples' / 'metastable_failure.py'}:build"


def mm1(customers: int = 400, seed: int = 1, rate: float = 8.0,
        observability: str = "full") -> Simulation:
    """A small M/M/1 model factory."""
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=rate, target=server, limit=customers)
    config = getattr(ObservabilityConfig, observability)()
    return Simulation(sources=[source], entities=[server, sink], seed=seed,
                      observability=config)


@cache
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


@cache
def _validator(ref: str) -> jsonschema.Draft202012Validator:
    schema = {"$ref": ref, "$defs": _schema()["$defs"]}
    return jsonschema.Draft202012Validator(schema)


def check_response(request: dict[str, Any] | Any, response: dict[str, Any]) -> None:
    """`response` is valid against the shipped schema of its op (or the error schema)."""
    assert isinstance(response, dict) and isinstance(response.get("ok"), bool), response
    doc = _schema()
    if response["ok"]:
        op = response["op"]
        assert op in OPS
        if isinstance(request, dict) and request.get("op") in OPS:
            assert op == request["op"], (request, response)
        ref = doc["x-operations"][op]["response"]
    else:
        ref = doc["x-error-response"]
    # JSON round trip: what a client on the wire sees
    wire = json.loads(json.dumps(response))
    errors = sorted(_validator(ref).iter_errors(wire), key=str)
    assert not errors, f"{ref}: {errors[0].message} in {json.dumps(wire)[:400]}"
