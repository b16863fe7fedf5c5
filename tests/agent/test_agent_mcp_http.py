"""``happysim-rx mcp MODEL --http --session per-client|shared``, driven by the MCP SDK's
streamable-HTTP client: per-client, each client's MCP session has its own simulation
session; shared, every client sees the same one; a stateless request (no MCP session)
to a per-client server is refused, not served by a throw-away session."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import Any

import anyio
import pytest

pytest.importorskip("mcp")

from mcp import Client  # noqa: E402

from tests.agent.test_agent_mcp import call  # noqa: E402
from tests.protocol.proto_testkit import ROOT  # noqa: E402


def serve(mode: str) -> tuple[subprocess.Popen, int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ,
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "happysimulator.observability.cli", "mcp",
         "examples/m_m_1_queue.py:build", "--param", "customers=200", "--http",
         "--port", str(port), "--session", mode], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.1)
    proc.terminate()
    raise AssertionError("the server did not start")


@pytest.mark.parametrize("mode,other", [("per-client", "not_started"),
                                        ("shared", "complete")])
def test_session_mode_over_http(mode: str, other: str) -> None:
    proc, port = serve(mode)
    url = f"http://127.0.0.1:{port}/mcp"

    async def main() -> tuple[str, str, dict[str, Any]]:
        with anyio.fail_after(60):
            async with Client(url, mode="legacy") as a, Client(url, mode="legacy") as b:
                await call(a, "run", {"wait_s": 30})
                sa = (await call(a, "state", {}))["state"]["status"]
                sb = (await call(b, "state", {}))["state"]["status"]
            async with Client(url) as stateless:  # single exchanges, no MCP session
                answer = await call(stateless, "state", {})
        return sa, sb, answer

    try:
        sa, sb, stateless = anyio.run(main)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert (sa, sb) == ("complete", other)
    if mode == "shared":
        assert stateless["state"]["status"] == "complete"
    else:
        assert stateless["error"]["kind"] == "state"
        assert "--session shared" in stateless["error"]["message"]
