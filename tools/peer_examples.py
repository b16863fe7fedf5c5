"""Run the public ``happysim`` 0.2.5 single-file core examples on this package and on the
peer, and show where their printed results differ.

Usage::

    python tools/peer_examples.py PEER_CHECKOUT --reference-python PY [--out FILE]

``PEER_CHECKOUT`` is a checkout of the peer project (tag ``v0.2.5``); ``PY`` a Python
>= 3.13 with the peer's package installed (``pip install happysim==0.2.5``). The examples
run unchanged, from a scratch directory (they write plots under ``output/``); this script
fetches nothing. Differences expected from the bugs this project fixes are explained in
``docs/compatibility.md``.
"""

from __future__ import annotations

import argparse
import difflib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# (example, arguments): the peer's examples that use only the core engine
EXAMPLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("examples/queuing/m_m_1_queue.py", ("--no-viz",)),
    ("examples/queuing/dual_path_queue_latency.py", ("--no-viz",)),
    ("examples/queuing/increasing_queue_depth.py", ("--no-viz",)),
    ("examples/queuing/metastable_state.py", ("--no-viz",)),
    ("examples/industrial/elevator_system.py", ()),
)

# the peer's examples built on the component toolkit (and the core) that run on 0.2.5
TOOLKIT_EXAMPLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("examples/performance/metric_collection_pipeline.py", ("--no-viz",)),  # rate_limiter
    ("examples/load-balancing/vnodes_analysis.py", ("--no-viz",)),  # strategies, datastore
    # queue_policies / network / faults / sync / datastore
    ("examples/distributed/degraded_network.py", ("--no-viz",)),
    ("examples/performance/zipf_cache_cohorts.py", ("--no-viz",)),
    ("examples/performance/cold_start.py", ("--no-viz",)),
)

SETS = {"core": EXAMPLES, "toolkit": TOOLKIT_EXAMPLES}


def _run(python: str, script: Path, args: tuple[str, ...], pythonpath: Path | None,
         cwd: Path) -> tuple[int, str]:
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    if pythonpath is None:
        env.pop("PYTHONPATH", None)
    else:
        env["PYTHONPATH"] = str(pythonpath)
    p = subprocess.run([python, str(script), *args], cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=900, check=False)
    return p.returncode, p.stdout + p.stderr


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("peer", type=Path)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--reference-python", required=True)
    ap.add_argument("--out", type=Path, default=None, help="also write the report here")
    ap.add_argument("--context", type=int, default=0, help="diff context lines")
    ap.add_argument("--set", choices=sorted(SETS), default="core", dest="example_set",
                    help="which of the peer's examples: core (default) or toolkit")
    args = ap.parse_args(argv)
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="peer-examples-") as tmp:
        for rel, ex_args in SETS[args.example_set]:
            script = args.peer.resolve() / rel
            ours_rc, ours = _run(args.python, script, ex_args, REPO, Path(tmp))
            peer_rc, peer = _run(args.reference_python, script, ex_args, None, Path(tmp))
            lines.append(f"=== {rel} {' '.join(ex_args)}")
            lines.append(f"exit code: this package {ours_rc}, happysim 0.2.5 {peer_rc}")
            if ours_rc or peer_rc:
                for who, rc, out in (("this package", ours_rc, ours), ("0.2.5", peer_rc, peer)):
                    if rc:
                        lines.append(f"--- last lines ({who}):")
                        lines.extend("    " + x for x in out.strip().splitlines()[-3:])
                continue
            diff = list(difflib.unified_diff(peer.splitlines(), ours.splitlines(),
                                             "happysim 0.2.5", "this package",
                                             n=args.context, lineterm=""))
            lines.extend(diff if diff else ["(identical output)"])
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
