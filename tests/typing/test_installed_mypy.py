"""mypy on a user script, with the package installed the README's way (`pip install -e
.`) and nothing else: no MYPYPATH, the script outside the checkout. Every public
signature must reach it, `sim.control.*` included (a decorator used to erase them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CONTROL = ("get_state", "peek_next", "pause", "add_breakpoint", "remove_breakpoint",
           "list_breakpoints", "clear_breakpoints", "add_observer", "remove_observer",
           "on_event", "find_events", "at_time", "step", "resume", "run_until")

SCRIPT = "\n".join([
    "from happysimulator import Simulation",
    "from happysimulator.experiments import batch_means, compare, replicate, sweep",
    "sim = Simulation(seed=1)",
    *(f"reveal_type(sim.control.{name})" for name in CONTROL),
    "reveal_type(replicate)",
    "reveal_type(sweep)",
    "reveal_type(compare)",
    "reveal_type(batch_means)",
    "sim.control.peek_next('3')",  # must be an error: n is an int
    "",
])


def test_mypy_sees_every_public_signature_of_an_installed_package(
        installed: Path, mypy_cache: Path, tmp_path: Path) -> None:
    script = tmp_path / "user.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--python-executable", str(installed),
         "--no-error-summary", "--cache-dir", str(mypy_cache), str(script)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    lines = out.stdout.splitlines()
    assert not [ln for ln in lines if "import-not-found" in ln or "import-untyped" in ln], \
        out.stdout
    revealed = [ln.split("Revealed type is ", 1)[1] for ln in lines if "Revealed type" in ln]
    assert len(revealed) == len(CONTROL) + 4, out.stdout
    for name, sig in zip(CONTROL, revealed, strict=False):
        assert "*Any, **Any" not in sig and sig.startswith('"def'), (name, sig)
    assert "SimulationState" in revealed[0] and "list[happysimulator.core.event.Event]" in \
        revealed[1]
    assert "precision:" in revealed[len(CONTROL)] and "errors:" in revealed[len(CONTROL) + 1]
    errors = [ln for ln in lines if ": error:" in ln]
    assert len(errors) == 1 and "peek_next" in errors[0] and '"str"' in errors[0], errors
