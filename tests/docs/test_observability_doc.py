"""Every ```python block of docs/observability.md runs, in order, in one namespace.

Blocks fenced as ```python no-run are shown but not executed. A failing block is
reported with its number and first line so the doc is easy to fix.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "observability.md"
_FENCE = re.compile(r"^```python([^\n]*)\n(.*?)^```\s*$", re.DOTALL | re.MULTILINE)


def blocks(text: str) -> list[tuple[int, str, bool]]:
    """[(line number, code, runnable)] of the ```python blocks of `text`."""
    out = []
    for m in _FENCE.finditer(text):
        info = m.group(1).strip()
        line = text.count("\n", 0, m.start()) + 1
        out.append((line, m.group(2), "no-run" not in info.split()))
    return out


def test_doc_has_runnable_blocks() -> None:
    found = blocks(DOC.read_text())
    runnable = [b for b in found if b[2]]
    assert len(runnable) >= 15, f"only {len(runnable)} runnable blocks in {DOC.name}"
    assert len(found) - len(runnable) <= 3, "use ```python no-run sparingly"


def test_every_python_block_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DOC.parents[1])  # the doc's relative paths start at the repo root
    namespace: dict[str, object] = {"__name__": "observability_doc"}
    t0 = time.perf_counter()
    for line, code, runnable in blocks(DOC.read_text()):
        if not runnable:
            compile(code, f"{DOC.name}:{line}", "exec")  # still valid Python
            continue
        try:
            exec(compile(code, f"{DOC.name}:{line}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            first = code.strip().splitlines()[0] if code.strip() else ""
            pytest.fail(f"block at {DOC.name}:{line} ({first!r}) raised "
                        f"{type(exc).__name__}: {exc}")
    elapsed = time.perf_counter() - t0
    assert elapsed < 20.0, f"the doc's code takes {elapsed:.1f}s; keep examples small"
