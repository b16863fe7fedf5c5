"""Every ```python block of docs/observability.md runs, in order, in one namespace.

Blocks fenced as ```python no-run are shown but not executed. A failing block is
reported with its number and first line so the doc is easy to fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.doc_snippets import blocks, run_blocks

DOC = Path(__file__).resolve().parents[2] / "docs" / "observability.md"


def test_doc_has_runnable_blocks() -> None:
    found = blocks(DOC.read_text())
    runnable = [b for b in found if b[2]]
    assert len(runnable) >= 15, f"only {len(runnable)} runnable blocks in {DOC.name}"
    assert len(found) - len(runnable) <= 3, "use ```python no-run sparingly"


def test_every_python_block_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    elapsed = run_blocks(DOC, monkeypatch)
    assert elapsed < 20.0, f"the doc's code takes {elapsed:.1f}s; keep examples small"
