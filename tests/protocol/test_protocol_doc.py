"""Every ```python block of docs/protocol.md runs, in order, in one namespace."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.doc_snippets import blocks, run_blocks

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def test_protocol_doc_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    found = blocks(DOC.read_text())
    assert sum(runnable for _, _, runnable in found) >= 6
    run_blocks(DOC, monkeypatch)


def test_mcp_config_block_is_valid_json() -> None:
    import json
    import re

    text = DOC.read_text()
    block = re.search(r"```json\n(.*?)```", text, re.DOTALL).group(1)
    config = json.loads(block)
    server = config["mcpServers"]["happysim"]
    assert server["command"] == "happysim-rx" and server["args"][0] == "mcp"
