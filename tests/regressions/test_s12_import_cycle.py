"""Importing a module of the query engine first, in a fresh interpreter, crashes on a
circular import: ``import happysim_rx.engine`` (or ``happysim_rx.engine_metrics``, or
``happysimulator.observability.changes``, the module behind ``changes``) raises
``ImportError: cannot import name 'QueryEngine' from partially initialized module
'happysim_rx.engine'``, even after ``import happysimulator`` or ``import happysim_rx``;
it works only when ``happysim_rx.query`` was imported before. A script or a tool that imports the function it uses
(``from happysimulator.observability.changes import changes``) fails.

Repro (session 12, rev4): ``python -c "import happysim_rx.engine"`` -> ImportError.
Expected: every module imports on its own. Area: happysim_rx/engine.py,
engine_metrics.py, query.py (query.py imports engine at its end, engine imports
engine_metrics, which imports query).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", ["happysim_rx.engine", "happysim_rx.engine_metrics",
                                    "happysimulator.observability.changes",
                                    "happysimulator, happysimulator.observability.changes"])
def test_each_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", f"import {module}"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-300:]
