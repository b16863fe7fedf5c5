"""The typing tests' environment: the checkout installed the README's way."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment with the checkout installed editable by pip (the project's
    own build backend writes the .pth file). Its dependencies come from this venv."""
    pytest.importorskip("mypy")
    env_dir = tmp_path_factory.mktemp("user-venv")
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.check_output(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True).strip())
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--prefix",
           str(env_dir), "-e", str(ROOT)]
    if importlib.util.find_spec("wheel") is not None:
        cmd[4:4] = ["--no-build-isolation", "--no-index"]  # (fast; same backend)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=env_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    # numpy, reactivex & co. as the user's venv has them (not this checkout's packages)
    (site / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")  # shared: later runs are incremental
