"""Every ```python block of docs/protocol.md runs, in order, in one namespace."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.test_observability_doc import blocks

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def test_protocol_doc_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DOC.parents[1])
    found = blocks(DOC.read_text())
    assert sum(runnable for _, _, runnable in found) >= 6
    namespace: dict[str, object] = {"__name__": "protocol_doc"}
    for line, code, runnable in found:
        if not runnable:
            compile(code, f"{DOC.name}:{line}", "exec")
            continue
        try:
            exec(compile(code, f"{DOC.name}:{line}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            first = code.strip().splitlines()[0] if code.strip() else ""
            pytest.fail(f"block at {DOC.name}:{line} ({first!r}) raised "
                        f"{type(exc).__name__}: {exc}")


def test_mcp_config_block_is_valid_json() -> None:
    import json
    import re

    text = DOC.read_text()
    block = re.search(r"```json\n(.*?)```", text, re.DOTALL).group(1)
    config = json.loads(block)
    server = config["mcpServers"]["happysim"]
    assert server["command"] == "happysim-rx" and server["args"][0] == "mcp"
