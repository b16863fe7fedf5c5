"""The snippets of docs/experiments.md and docs/exports.md run, in order, per page."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.doc_snippets import blocks, run_blocks

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("page", ["experiments.md", "exports.md"])
def test_every_python_block_runs(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = DOCS / page
    found = blocks(doc.read_text())
    assert sum(runnable for _, _, runnable in found) >= 4, f"too few runnable blocks in {page}"
    elapsed = run_blocks(doc, monkeypatch)
    # (wall time: the pages start process pools; generous, since a loaded machine doubles
    # it -- the guard is against a page whose examples take minutes)
    assert elapsed < 60.0, f"{page}'s code is slow; keep examples small"
