"""mypy sees the public types: a typed user script checks clean, a wrong one does not,
and the packages ship the PEP 561 marker (py.typed) as package data."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("user_script.py")


def _mypy(path: Path, installed: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    # as a user runs it: the package installed (`pip install -e .`), no MYPYPATH (which
    # once hid that mypy could not find an editable install at all)
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--python-executable", str(installed),
         "--no-error-summary", "--cache-dir", str(cache), str(path)],
        cwd=path.parent, capture_output=True, text=True, timeout=300, env=env)


def test_a_typed_user_script_checks_and_types_are_inferred(installed: Path, mypy_cache: Path,
                                                           tmp_path: Path) -> None:
    script = tmp_path / "user_script.py"  # outside the checkout
    script.write_text(SCRIPT.read_text())
    out = _mypy(script, installed, mypy_cache)
    lines = out.stdout.splitlines()
    errors = [ln for ln in lines if ": error:" in ln]
    assert not errors, out.stdout + out.stderr
    notes = [ln for ln in lines if "Revealed type" in ln]
    assert len(notes) == 2, out.stdout
    assert "happysim_rx.engine.QueryEngine" in notes[0]
    assert "SimulationSummary" in notes[1] and "def (time:" in notes[1]


def test_a_wrong_script_is_caught(tmp_path: Path, installed: Path, mypy_cache: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from happysimulator import Simulation\n"
        "sim = Simulation(seed=1)\n"
        "n: int = sim.query.metrics('latency').execute()\n"
        "sim.control.step('3')\n"
        "sim.run().no_such_field\n")
    errors = [ln for ln in _mypy(bad, installed, mypy_cache).stdout.splitlines() if ": error:" in ln]
    assert len(errors) == 3, errors
    assert "QueryResult" in errors[0] and '"str"' in errors[1]
    assert "no_such_field" in errors[2]


def test_packages_ship_py_typed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = config["tool"]["setuptools"]["package-data"]
    for pkg in ("happysimulator", "happysim_rx", "operators"):
        assert (ROOT / pkg / "py.typed").is_file()
        assert "py.typed" in data.get(pkg, [])


def test_help_names_the_observability_surface() -> None:
    import pydoc

    from happysimulator import Simulation

    text = pydoc.render_doc(Simulation, renderer=pydoc.plaintext)
    for name in ("sim.query", "sim.control", "sim.observations", "Exporter(sim)",
                 "run_until", "progress=True", "replicate"):
        assert name in text, name
