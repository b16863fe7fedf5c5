"""Every ```python block of AGENTS.md runs, in order, in one namespace (from the
repository root); CLAUDE.md points to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.doc_snippets import blocks

ROOT = Path(__file__).resolve().parents[2]


def test_agents_md_snippets_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    doc = ROOT / "AGENTS.md"
    found = blocks(doc.read_text())
    assert len(found) >= 2
    namespace: dict[str, object] = {"__name__": "agents_md"}
    for line, code, _ in found:
        exec(compile(code, f"AGENTS.md:{line}", "exec"), namespace)


def test_claude_md_points_to_agents_md() -> None:
    assert "AGENTS.md" in (ROOT / "CLAUDE.md").read_text()
