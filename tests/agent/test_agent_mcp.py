"""The hypothesis tools driven through the MCP SDK's own client (in memory)."""

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
from tests.agent.planted import SLOW_AT, SLOWED  # noqa: E402
from tests.protocol.proto_testkit import check_response  # noqa: E402

PLANTED = f"{Path(__file__).with_name('planted.py')}:build"


async def call(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    answer = result.structured_content
    assert answer is not None and result.is_error == (not answer["ok"]), answer
    check_response({"op": tool, **args}, answer)
    return answer


def test_changes_finds_the_planted_slowdown_over_mcp() -> None:
    async def main() -> dict[str, Any]:
        session = SessionProtocol(PLANTED, params={"seed": 5})
        async with Client(build_server(session)) as client:
            cat = (await call(client, "catalog", {}))["catalog"]
            assert [e["name"] for e in cat["entities"]][:4] == ["Users", "Parse", "Enrich",
                                                                 "Store"]
            await call(client, "run", {"wait_s": 60})
            ch = await call(client, "changes", {"before": [100, SLOW_AT],
                                                "after": [SLOW_AT, 600], "limit": 5})
            snap = await call(client, "snapshot", {"at": 450})
            bad = await call(client, "changes", {"before": [300, 100]})
        session.close()
        return {"changes": ch, "snapshot": snap, "bad": bad}

    got = anyio.run(main)
    top = got["changes"]["series"][0]
    assert top["entity"] == SLOWED and abs(top["onset"] - SLOW_AT) <= 10
    assert got["changes"]["omitted"] == got["changes"]["total"] - 5
    assert got["snapshot"]["requests"]["total"] >= 0 and "Enrich" in got["snapshot"]["entities"]
    assert got["bad"]["error"]["kind"] == "bad_request"
    assert "null" not in json.dumps(got["changes"]) + json.dumps(got["snapshot"])


def test_changes_fits_its_budget_by_dropping_the_least_changed() -> None:
    session = SessionProtocol(PLANTED, params={"seed": 5, "end": 400.0})
    session.handle({"op": "run", "wait_s": 60})
    whole = session.changes(before=[100, 300], after=[300, 400], limit=100)
    small = session.handle({"op": "changes", "before": [100, 300], "after": [300, 400],
                            "limit": 100, "budget_bytes": 1500})
    assert len(json.dumps(small)) <= 1500
    n = len(small["series"])
    assert 0 < n < len(whole["series"])
    assert small["series"] == whole["series"][:n]
    assert small["omitted"] == whole["total"] - n
    session.close()


def test_fork_at_the_metastable_pause_then_compare_in_one_call() -> None:
    from tests.protocol.proto_testkit import METASTABLE

    async def main() -> dict[str, Any]:
        session = SessionProtocol(METASTABLE, default_wait_s=60)
        async with Client(build_server(session)) as client:
            await call(client, "add_breakpoint", {"metric": {
                "source": "Server", "name": "queue_depth", "operator": "gt",
                "threshold": 20}})
            paused = (await call(client, "run", {}))["state"]
            fork = await call(client, "fork", {"set": {"Server.concurrency": 2},
                                               "name": "two-workers"})
            for branch in ("main", "two-workers"):
                await call(client, "resume", {"branch": branch, "ignore_breakpoints": True})
            cmp = await call(client, "compare", {"query": {
                "kind": "metrics", "name": "queue_depth", "entity": "Server",
                "start": paused["current_time"], "end": 150, "aggregates": ["mean", "max"]}})
            listed = await call(client, "branches", {})
            # rewind main to before the pause, then resume: the original run again
            before = await call(client, "query", {"query": {
                "kind": "metrics", "name": "completed", "entity": "Server",
                "aggregates": ["count"]}})
            back = await call(client, "rewind", {"to": 60.0})
            await call(client, "clear_breakpoints", {})
            await call(client, "resume", {})
            after = await call(client, "query", {"query": {
                "kind": "metrics", "name": "completed", "entity": "Server",
                "aggregates": ["count"]}})
        session.close()
        return {"paused": paused, "fork": fork, "cmp": cmp, "listed": listed,
                "before": before, "after": after, "back": back}

    got = anyio.run(main)
    assert got["fork"]["branch"]["forked_at"] == got["paused"]["current_time"]
    assert got["fork"]["applied"] == ["Server.concurrency: 1 -> 2"]
    diffs = {d["aggregate"]: d for d in got["cmp"]["differences"]}
    assert got["cmp"]["branches"] == ["main", "two-workers"]
    mean = diffs["mean"]
    assert mean["values"]["two-workers"] < mean["values"]["main"] / 10  # no collapse
    assert mean["delta"]["two-workers"] < 0
    assert [b["name"] for b in got["listed"]["branches"]] == ["main", "two-workers"]
    assert got["back"]["state"]["current_time"] <= 60.0
    assert got["after"]["result"]["rows"] == got["before"]["result"]["rows"]


PRINTING = '''
print("importing the model prints")
from tests.agent.planted import build as _build


def build(**kw):
    print("building the model prints too")
    return _build(**kw)
'''


def test_print_in_the_model_cannot_corrupt_stdio(tmp_path) -> None:
    import os
    import sys

    from mcp import StdioServerParameters

    from tests.protocol.proto_testkit import ROOT

    model = tmp_path / "printing.py"
    model.write_text(PRINTING)
    env = {"PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "happysimulator.observability.cli", "mcp", f"{model}:build",
              "--param", "end=50.0"], env=env, cwd=str(ROOT))

    async def main() -> dict[str, Any]:
        with anyio.fail_after(120):
            async with Client(params, mode="legacy") as client:
                await call(client, "run", {"wait_s": 30})
                return await call(client, "snapshot", {})

    snap = anyio.run(main)
    assert snap["at"] == 50.0


def test_model_output_goes_to_stderr_not_the_wire(tmp_path) -> None:
    import os
    import subprocess
    import sys

    from tests.protocol.proto_testkit import ROOT

    model = tmp_path / "printing.py"
    model.write_text(PRINTING)
    env = {**os.environ,
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-m", "happysimulator.observability.cli", "mcp", f"{model}:build"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=ROOT, env=env,
        timeout=120)
    assert done.stdout == ""  # the wire carries JSON-RPC only (none: the client left)
    assert "importing the model prints" in done.stderr
    assert "building the model prints too" in done.stderr


def test_per_client_sessions_are_separate_and_shared_is_shared() -> None:
    def new() -> SessionProtocol:
        return SessionProtocol(PLANTED, params={"end": 20.0}, default_wait_s=30)

    async def main(server: Any) -> tuple[str, str]:
        # (JSON-RPC connections, as over HTTP: each client is one connection)
        async with Client(server, mode="legacy") as a, Client(server, mode="legacy") as b:
            await call(a, "run", {})
            sa = (await call(a, "state", {}))["state"]["status"]
            sb = (await call(b, "state", {}))["state"]["status"]
        return sa, sb

    per_client = build_server(new, per_client=True)
    assert anyio.run(main, per_client) == ("complete", "not_started")
    per_client.happysim_sessions.close()
    shared = build_server(new())
    assert anyio.run(main, shared) == ("complete", "complete")
    shared.happysim_sessions.close()
    with pytest.raises(TypeError, match="factory"):
        build_server(new(), per_client=True)
