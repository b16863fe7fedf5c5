"""The MCP server, driven by the official SDK's own client: in memory (JSON-RPC over the
SDK's in-memory transport) and as a stdio subprocess started by ``happysim-rx mcp``.

The session: open the metastable-failure model, set a breakpoint on queue growth, run to
it, query the last 10 s, step, resume to the end, read the summary resource.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import anyio
import pytest

mcp = pytest.importorskip("mcp")

from mcp import Client, StdioServerParameters  # noqa: E402

from happysimulator.observability.mcp_server import build_server  # noqa: E402
from happysimulator.observability.protocol import OPS, SessionProtocol  # noqa: E402
from tests.protocol.proto_testkit import METASTABLE, ROOT, check_response  # noqa: E402


async def call(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    answer = result.structured_content
    assert answer is not None and result.is_error == (not answer["ok"])
    assert json.loads(result.content[0].text) == answer  # text and structure agree
    check_response({"op": tool, **args}, answer)
    return answer


async def investigate(client: Client) -> dict[str, Any]:
    """The scripted investigation; returns what it saw."""
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == set(OPS)
    assert "metric" in tools["add_breakpoint"].input_schema["properties"]
    assert "op" not in tools["run"].input_schema["properties"]

    bp = await call(client, "add_breakpoint", {"metric": {
        "source": "Server", "name": "queue_depth", "operator": "gt", "threshold": 20}})
    assert bp["ok"], bp
    paused = (await call(client, "run", {"wait_s": 60}))["state"]
    assert paused["status"] == "paused" and "queue_depth gt 20" in paused["paused_by"]
    now = paused["current_time"]
    recent = await call(client, "query", {"query": {
        "kind": "metrics", "name": "queue_depth", "entity": "Server", "last_s": 10,
        "aggregates": ["mean", "max", "last"]}})
    row = recent["result"]["rows"][0]
    assert row["start"] == pytest.approx(now - 10) and row["max"] >= 21 and row["last"] >= 21
    bad = await call(client, "query", {"query": {"kind": "metrics", "name": "queue_dept"}})
    assert bad["error"]["kind"] == "unknown_name" and "queue_depth" in bad["error"]["valid"]
    stepped = await call(client, "step", {"n": 5})
    n = len(stepped["events"])
    # five events, or fewer when the breakpoint fired again on the way (the queue went
    # back up past 20): a step stops at a breakpoint like a run does
    assert n == 5 or (0 < n < 5 and "queue_depth gt 20" in stepped["state"]["paused_by"])
    assert stepped["state"]["events_processed"] == paused["events_processed"] + n
    await call(client, "clear_breakpoints", {})
    done = (await call(client, "resume", {"wait_s": 60}))["state"]
    assert done["status"] == "complete" and done["current_time"] == 150.0

    resources = {str(r.uri) for r in (await client.list_resources()).resources}
    assert {"happysim://summary", "happysim://catalog", "happysim://schema"} <= resources
    summary = json.loads((await client.read_resource("happysim://summary")).contents[0].text)
    assert summary["schema"] == "happysim-rx.summary/1" and summary["run"]["is_complete"]
    depth = next(s for s in summary["series"]
                 if s["source"] == "Server" and s["name"] == "queue_depth")
    assert depth["stats"]["max"] >= 21

    # a cut answer's rest is a resource
    cut = await call(client, "query", {"query": {"kind": "metrics", "name": "wait_time"},
                                       "budget_bytes": 1000})
    handle = cut["truncated"]["uri"]
    whole = json.loads((await client.read_resource(handle)).contents[0].text)
    assert len(whole["items"]) == cut["truncated"]["total"] > len(cut["result"]["rows"])
    prompt = await client.get_prompt("investigate", {"symptom": "queue growth"})
    assert "queue growth" in prompt.messages[0].content.text
    return {"paused_at": now, "summary": summary}


def test_mcp_in_memory() -> None:
    session = SessionProtocol(METASTABLE, default_wait_s=30)
    server = build_server(session)

    async def main() -> dict[str, Any]:
        async with Client(server, mode="legacy") as client:  # JSON-RPC, in-memory streams
            return await investigate(client)

    seen = anyio.run(main)
    assert 70.0 < seen["paused_at"] < 150.0  # the blow-up starts at 70 s


def test_mcp_stdio_subprocess() -> None:
    env = {"PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "happysimulator.observability.cli", "mcp", METASTABLE, "--seed", "7"],
        env=env, cwd=str(ROOT))

    async def main() -> dict[str, Any]:
        with anyio.fail_after(120):
            async with Client(params, mode="legacy") as client:
                return await investigate(client)

    seen = anyio.run(main)
    assert seen["summary"]["run"]["seed"] == 7


def test_mcp_streamable_http_subprocess() -> None:
    import socket
    import subprocess
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ,
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "happysimulator.observability.cli", "mcp",
         "examples/m_m_1_queue.py:build", "--param", "customers=500", "--http",
         "--port", str(port)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)

        async def main() -> dict[str, Any]:
            with anyio.fail_after(60):
                async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                    await call(client, "run", {"wait_s": 30})
                    return await call(client, "query", {"query": {
                        "kind": "metrics", "name": "latency", "aggregates": ["count"]}})

        answer = anyio.run(main)
        assert answer["result"]["rows"][0]["count"] == 500
    finally:
        proc.terminate()
        proc.wait(timeout=10)
