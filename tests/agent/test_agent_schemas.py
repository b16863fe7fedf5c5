"""Schemas an LLM can use with no other docs: every field described, in plain words
(no Python or reStructuredText), the tools annotated read-only or destructive, and
catalog/state/help cut to their budgets."""

from __future__ import annotations

import json
import re

import pytest

from happysimulator.observability.protocol import OPS, SessionProtocol
from happysimulator.observability.protocol.schema import session_schema
from tests.agent.test_agent_mcp import PLANTED

_MARKUP = re.compile(r"`|:class:|:func:|:meth:|\bNone\b|\bTrue\b|\bFalse\b|\bself\b")


def _described(doc: dict, p: dict) -> bool:
    if "description" in p:
        return True
    refs = [p.get("$ref")] + [x.get("$ref") for x in p.get("anyOf", [])] + [
        p.get("items", {}).get("$ref")]
    refs = [r for r in refs if r]
    return bool(refs) and all("description" in doc["$defs"][r.rsplit("/", 1)[1]]
                              for r in refs)


def test_every_field_is_described_in_plain_words() -> None:
    doc = session_schema()
    undescribed, markup = [], []
    for name, d in doc["$defs"].items():
        if d.get("type") == "object" and "description" not in d:
            undescribed.append(name)
        texts = [d.get("description", "")]
        for field, p in d.get("properties", {}).items():
            if field != "op" and not _described(doc, p):
                undescribed.append(f"{name}.{field}")
            texts.append(p.get("description", ""))
        markup += [(name, t) for t in texts if _MARKUP.search(t)]
    assert not undescribed
    assert not markup


def test_tools_are_annotated() -> None:
    from happysimulator.observability.mcp_server import DESTRUCTIVE, READ_ONLY, _tools

    tools = {t.name: t for t in _tools()}
    assert set(tools) == set(OPS)
    assert tools["query"].annotations.read_only_hint
    assert tools["changes"].annotations.read_only_hint
    assert not tools["fork"].annotations.read_only_hint
    assert tools["rewind"].annotations.destructive_hint
    assert tools["reset"].annotations.destructive_hint
    assert not READ_ONLY & DESTRUCTIVE
    for t in tools.values():
        assert not _MARKUP.search(t.description or ""), t.name


@pytest.mark.parametrize("op,budget", [("catalog", 1500), ("state", 1200), ("help", 9000)])
def test_catalog_state_and_help_fit_their_budget(op: str, budget: int) -> None:
    session = SessionProtocol(PLANTED, params={"end": 30.0})
    for i in range(12):
        session.handle({"op": "add_breakpoint", "time": 10.0 + i})
    whole = session.handle({"op": op})
    cut = session.handle({"op": op, "budget_bytes": budget})
    size = len(json.dumps(cut, separators=(",", ":")))
    assert cut["ok"] and size <= budget < len(json.dumps(whole, separators=(",", ":")))
    assert cut["omitted"]
    session.close()


def test_the_summary_cuts_its_breakpoints_too() -> None:
    session = SessionProtocol(PLANTED, params={"end": 30.0})
    for i in range(60):
        session.handle({"op": "add_breakpoint", "metric": {
            "source": "Enrich", "name": "queue_depth", "operator": "gt",
            "threshold": 100 + i}})
    doc = session.handle({"op": "export", "what": "summary", "budget_bytes": 2000})
    assert doc["size_bytes"] <= 2000
    assert "breakpoints" in doc["content"]["truncated"]
    session.close()
