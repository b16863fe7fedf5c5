"""mypy sees the public types: a typed user script checks clean, a wrong one does not,
and the packages ship the PEP 561 marker (py.typed) as package data."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("user_script.py")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")  # shared: the second run is incremental


def _mypy(path: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mypy")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--follow-imports=silent", "--ignore-missing-imports",
         "--no-error-summary", "--cache-dir", str(cache), str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={"MYPYPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_a_typed_user_script_checks_and_types_are_inferred(cache: Path) -> None:
    out = _mypy(SCRIPT, cache)
    lines = out.stdout.splitlines()
    errors = [ln for ln in lines if ": error:" in ln]
    assert not errors, out.stdout + out.stderr
    notes = [ln for ln in lines if "Revealed type" in ln]
    assert len(notes) == 2, out.stdout
    assert "happysim_rx.engine.QueryEngine" in notes[0]
    assert "SimulationSummary" in notes[1] and "def (time:" in notes[1]


def test_a_wrong_script_is_caught(tmp_path: Path, cache: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from happysimulator import Simulation\n"
        "sim = Simulation(seed=1)\n"
        "n: int = sim.query.metrics('latency').execute()\n"
        "sim.control.step('3')\n"
        "sim.run().no_such_field\n")
    errors = [ln for ln in _mypy(bad, cache).stdout.splitlines() if ": error:" in ln]
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
