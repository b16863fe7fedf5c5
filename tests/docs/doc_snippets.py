"""Run the ```python blocks of a docs page, in order, in one namespace.

Blocks fenced as ```python no-run are shown but not executed (they must still compile).
A failing block is reported with its line and first line so the doc is easy to fix.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

_FENCE = re.compile(r"^```python([^\n]*)\n(.*?)^```\s*$", re.DOTALL | re.MULTILINE)


def blocks(text: str) -> list[tuple[int, str, bool]]:
    """[(line number, code, runnable)] of the ```python blocks of `text`."""
    out = []
    for m in _FENCE.finditer(text):
        info = m.group(1).strip()
        line = text.count("\n", 0, m.start()) + 1
        out.append((line, m.group(2), "no-run" not in info.split()))
    return out


def run_blocks(doc: Path, monkeypatch: pytest.MonkeyPatch) -> float:
    """Execute `doc`'s blocks from the repository root; return the seconds they took."""
    monkeypatch.chdir(doc.parents[1])  # the docs' relative paths start at the repo root
    namespace: dict[str, object] = {"__name__": doc.stem + "_doc"}
    t0 = time.perf_counter()
    for line, code, runnable in blocks(doc.read_text()):
        if not runnable:
            compile(code, f"{doc.name}:{line}", "exec")
            continue
        try:
            exec(compile(code, f"{doc.name}:{line}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            first = code.strip().splitlines()[0] if code.strip() else ""
            pytest.fail(f"block at {doc.name}:{line} ({first!r}) raised "
                        f"{type(exc).__name__}: {exc}")
    return time.perf_counter() - t0
