"""One callgrind measurement, shared by the instruction-count benchmarks.

    from _callgrind import callgrind_total
    n = callgrind_total("/path/to/checkout", "import sys; ...", ["4000", "full"])

The worker `code` runs as a script in a temporary directory (nothing there shadows the
checkout) with ``PYTHONPATH`` at `repo`, ``PYTHONHASHSEED=0`` (dict and set layouts, hence
the counts, repeat from run to run), one OpenBLAS thread (its idle threads spin after
numpy's import and callgrind counts every thread) and, where ``setarch`` exists, address
randomization off. Counts do not depend on the machine's load.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

__all__ = ["callgrind_total"]


def callgrind_total(repo: str, code: str, args: list[str]) -> int:
    """Total instructions callgrind counts for one run of `code` with `args`."""
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "worker.py")
        with open(script, "w") as f:
            f.write(code)
        env = dict(os.environ, PYTHONPATH=repo, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1")
        fixed = ["setarch", os.uname().machine, "-R"] if shutil.which("setarch") else []
        out = subprocess.run(
            [*fixed, "valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out",
             sys.executable, script, *args],
            capture_output=True, text=True, env=env, cwd=tmp)
    m = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode or m is None:
        raise RuntimeError(f"callgrind run {args} failed: {out.stderr[-800:]}")
    return int(m.group(1))
