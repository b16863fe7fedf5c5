"""docs/schemas/session-v1.schema.json is what the protocol's types generate, and it
describes the protocol: a change to a request or response type without regenerating the
file (``python -m happysimulator.observability.protocol.schema``) fails here."""

from __future__ import annotations

import json

import jsonschema
import msgspec
import pytest

from happysimulator.observability.protocol import OPS, schema
from happysimulator.observability.protocol import messages as m
from tests.protocol.proto_testkit import SCHEMA_PATH


def test_shipped_schema_matches_the_types() -> None:
    shipped = SCHEMA_PATH.read_text()
    assert shipped == schema.render(), (
        "docs/schemas/session-v1.schema.json is stale: run "
        "python -m happysimulator.observability.protocol.schema")


def test_schema_is_valid_and_covers_every_op() -> None:
    doc = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(doc)
    assert set(doc["x-operations"]) == set(OPS)
    for op, refs in doc["x-operations"].items():
        for ref in (refs["request"], refs["response"]):
            assert ref.rsplit("/", 1)[1] in doc["$defs"], (op, ref)


def test_drift_is_detected() -> None:
    """A field added to a type changes the generated schema (so the file test fails)."""

    class RunRequest(m.RunRequest, tag="run"):
        surprise: int = 0

    before = msgspec.json.schema(m.RunRequest)
    after = msgspec.json.schema(RunRequest)
    assert "surprise" not in json.dumps(before) and "surprise" in json.dumps(after)


@pytest.mark.parametrize("op", sorted(OPS))
def test_requests_validate_both_ways(op: str) -> None:
    """A request the schema rejects is also refused by the session's decoder."""
    doc = json.loads(SCHEMA_PATH.read_text())
    validator = jsonschema.Draft202012Validator(
        {"$ref": doc["x-operations"][op]["request"], "$defs": doc["$defs"]})
    bogus = {"op": op, "no_such_field": 1}
    assert list(validator.iter_errors(bogus))
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(bogus, OPS[op][0], strict=True)
