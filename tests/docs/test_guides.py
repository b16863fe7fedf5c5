"""The snippets of docs/experiments.md and docs/exports.md run, in order, per page."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.docs.test_observability_doc import blocks

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("page", ["experiments.md", "exports.md"])
def test_every_python_block_runs(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = DOCS / page
    monkeypatch.chdir(DOCS.parent)
    found = blocks(doc.read_text())
    assert sum(runnable for _, _, runnable in found) >= 4, f"too few runnable blocks in {page}"
    namespace: dict[str, object] = {"__name__": page.removesuffix(".md") + "_doc"}
    t0 = time.perf_counter()
    for line, code, runnable in found:
        if not runnable:
            compile(code, f"{page}:{line}", "exec")
            continue
        try:
            exec(compile(code, f"{page}:{line}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            first = code.strip().splitlines()[0] if code.strip() else ""
            pytest.fail(f"block at {page}:{line} ({first!r}) raised "
                        f"{type(exc).__name__}: {exc}")
    assert time.perf_counter() - t0 < 20.0, f"{page}'s code is slow; keep examples small"
