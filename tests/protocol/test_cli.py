"""``happysim-rx`` (``python -m happysimulator.observability.cli``) as a user runs it:
a subprocess, with the example factories."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.protocol.proto_testkit import ROOT

MM1 = "examples/m_m_1_queue.py:build"


def cli(*args: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "happysimulator.observability.cli", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_run_prints_summary_and_writes_exports(tmp_path: Path) -> None:
    query = {"kind": "metrics", "name": "latency", "window": 100, "aggregates": ["count", "p99"]}
    out = cli("run", MM1, "--param", "customers=3000", "--seed", "5", "--progress",
              "--summary-out", str(tmp_path / "summary.json"),
              "--query", json.dumps(query), "--query", json.dumps({**query, "window": 50}),
              "--out-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "complete at t=" in out.stdout and "12,000 events" in out.stdout
    assert "Sink.latency (sample)" in out.stdout and "seed 5" in out.stdout
    assert "events" in out.stderr and "ev/s" in out.stderr  # the progress line
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["run"]["seed"] == 5 and summary["run"]["is_complete"]
    rows = list(csv.DictReader((tmp_path / "query-1.csv").open()))
    assert sum(float(r["count"]) for r in rows) == 3000
    assert (tmp_path / "query-2.csv").exists()


def test_run_json_and_until() -> None:
    out = cli("run", MM1, "-p", "customers=2000", "--until", "50", "--json", "--no-progress")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["schema"] == "happysim-rx.summary/1"
    assert doc["run"]["current_time_s"] == 50.0 and doc["run"]["is_paused"]
    assert out.stderr == ""  # no progress bar when asked not to


def test_bad_input_is_named() -> None:
    out = cli("run", "examples/m_m_1_queue.py:biuld")
    assert out.returncode == 2 and "build" in out.stderr and "Traceback" not in out.stderr
    out = cli("run", MM1, "--param", "custmers=10")
    assert out.returncode != 0 and "customers" in out.stderr and "Traceback" not in out.stderr
    out = cli("run", "no/such/file.py:build")
    assert out.returncode == 2 and "no model file" in out.stderr
    out = cli("run", MM1, "-p", "customers=100", "--query", '{"kind": "metrics", "name": "x"}',
              "--no-progress")
    assert out.returncode == 2 and "unknown_name" in out.stderr and "latency" in out.stderr


@pytest.mark.parametrize("args", [[], ["run"], ["mcp"]])
def test_help_is_complete(args: list[str]) -> None:
    out = cli(*args, "--help")
    assert out.returncode == 0
    text = out.stdout
    if not args:
        assert "run a model" in text and "serve a model to an MCP client" in text
    elif args == ["run"]:
        for flag in ("--param", "--seed", "--until", "--progress", "--json", "--summary-out",
                     "--query", "--format", "--out-dir", "path/to/file.py:factory"):
            assert flag in text, flag
    else:
        for flag in ("--param", "--seed", "--http", "--host", "--port", "--wait-s",
                     "--allow-load", "mcpServers"):
            assert flag in text, flag


def test_console_script_is_declared() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert 'happysim-rx = "happysimulator.observability.cli:main"' in text
