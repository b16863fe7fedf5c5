"""The model's structure and one instant of it, through the MCP SDK's client: the
catalog's topology (types, configuration, wired and observed edges, units, a utilization
gauge per server) before the run, a snapshot equal to the in-process one, a trace whose
hops split into wait and service; and rewind then resume equals the original run record
for record. A trace lists each span once (the tree and the critical path name span
ids)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip("mcp")

from mcp import Client  # noqa: E402

from happysimulator.observability.mcp_server import build_server  # noqa: E402
from happysimulator.observability.protocol import SessionProtocol  # noqa: E402
from tests.agent.test_agent_mcp import call  # noqa: E402

PLANTED = f"{Path(__file__).with_name('planted.py')}:build"
SERIES = ("queue_depth", "in_flight", "utilization", "wait_time", "service_time",
          "completed", "generated", "latency")


def test_topology_snapshot_and_trace_over_mcp() -> None:
    session = SessionProtocol(PLANTED, params={"end": 120.0, "observability": "full"},
                              default_wait_s=60)

    async def main() -> dict[str, Any]:
        async with Client(build_server(session)) as client:
            before = (await call(client, "catalog", {}))["catalog"]
            await call(client, "run", {})
            after = (await call(client, "catalog", {}))["catalog"]
            snap = await call(client, "snapshot", {"at": 60.0})
            spans = await call(client, "query", {"query": {
                "kind": "spans", "entity": "Enrich", "limit": 1, "start": 50}})
            tid = spans["result"]["rows"][0]["trace_id"]
            trace = await call(client, "trace", {"trace_id": tid})
            prompt = await client.get_prompt("investigate", {})
        return {"before": before, "after": after, "snap": snap, "trace": trace,
                "prompt": prompt.messages[0].content.text}

    got = anyio.run(main)
    local = session.sim.query.snapshot(60.0)
    session.close()
    entities = {e["name"]: e for e in got["before"]["entities"]}
    assert list(entities)[:4] == ["Users", "Parse", "Enrich", "Store"]  # flow order
    assert entities["Users"]["type"] == "Source" and entities["Users"]["rate"] == 10.0
    parse = entities["Parse"]
    assert parse["type"] == "Server" and parse["concurrency"] == 2
    assert parse["service_time"] == {"distribution": "exponential", "mean": 0.08}
    assert parse["downstream"] == ["Enrich"]
    units = {s["name"]: (s["kind"], s["unit"]) for s in parse["series"]}
    assert units["utilization"] == ("gauge", "fraction")
    assert units["wait_time"] == ("sample", "s")
    # every series is listed before the run (none recorded yet)
    listed = {(m["source"], m["name"]) for m in got["before"]["metrics"]}
    assert {("Enrich", "utilization"), ("Sink", "latency")} <= listed
    seen = {e["name"]: e for e in got["after"]["entities"]}["Parse"]["observed_downstream"]
    (edge,) = seen
    assert edge["to"] == "Enrich" and edge["requests"] > 1000
    # the snapshot over MCP is the in-process one (numbers as JSON numbers)
    for name, ent in local["entities"].items():
        for part in ("gauges", "counters"):
            assert got["snap"]["entities"][name].get(part, {}) == ent.get(part, {})
    assert got["snap"]["requests"] == local["requests"]
    # the investigate prompt speaks the model's own entity names
    assert "Parse" in got["prompt"] and "Enrich" in got["prompt"]
    spans = got["trace"]["spans"]
    ids = [s["span_id"] for s in spans]
    assert len(set(ids)) == len(ids) and json.dumps(got["trace"]).count('"start"') == len(ids)
    hops = [s for s in got["trace"]["spans"] if s["entity"] in ("Parse", "Enrich", "Store")]
    assert len(hops) == 3
    for s in hops:
        a = s["attributes"]
        assert a["wait"] + a["service"] == pytest.approx(s["end"] - s["start"], abs=1e-9)


def test_rewind_then_resume_equals_the_original_run_over_mcp() -> None:
    session = SessionProtocol(PLANTED, params={"seed": 9, "end": 150.0, "slow_at": 60.0},
                              default_wait_s=60)

    async def records(client: Client) -> list[tuple]:
        out = []
        for name in SERIES:
            r = await call(client, "query", {"budget_bytes": 4_000_000, "query": {
                "kind": "metrics", "name": name, "entity": "*"}})
            out += [(x["time"], x["source"], x["name"], x["value"])
                    for x in r["result"]["rows"]]
        return out

    async def main() -> dict[str, Any]:
        async with Client(build_server(session)) as client:
            await call(client, "add_breakpoint", {"time": 40.0})
            await call(client, "run", {})
            await call(client, "resume", {})
            original = await records(client)
            back = await call(client, "rewind", {"to": 90.0})
            prefix = await records(client)
            await call(client, "resume", {})
            again = await records(client)
            await call(client, "rewind", {"to": 10.0})
            await call(client, "run", {})  # the breakpoint (history before 10 s) again
            state = await call(client, "state", {})
        return {"original": original, "back": back, "prefix": prefix, "again": again,
                "state": state}

    got = anyio.run(main)
    session.close()
    assert len(got["original"]) > 5000
    assert got["back"]["replayed"]["to_time"] == 90.0
    assert got["prefix"] == [r for r in got["original"] if r[0] <= 90.0]
    assert got["again"] == got["original"]
    assert got["state"]["state"]["current_time"] == 40.0
