"""Run the public ``happysim`` 0.2.5 examples on this package and on the peer, and show
where their printed results differ (or, with ``--set all``, how many run on each).

Usage::

    python tools/peer_examples.py PEER_CHECKOUT --reference-python PY [--set core|toolkit|all]
        [--brief] [--out FILE]

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

# "all": every example script of the checkout (found at run time; the empty tuple stands
# for "discover"), with ``--no-viz`` where the script takes it.  Scripts that start the
# peer's visual web server at import never end on their own: they are listed, not run.
SETS = {"core": EXAMPLES, "toolkit": TOOLKIT_EXAMPLES, "all": ()}
_NOT_EXAMPLES = {"__init__.py", "common.py"}


def _discover(peer: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    found = []
    for path in sorted((peer / "examples").rglob("*.py")):
        if path.name in _NOT_EXAMPLES:
            continue
        text = path.read_text(encoding="utf-8")
        found.append((path.relative_to(peer).as_posix(),
                      ("--no-viz",) if "--no-viz" in text else ()))
    return tuple(found)


def _serves_at_import(script: Path) -> bool:
    """True when the script calls ``serve(`` outside any function (the web debugger)."""
    return any(line.startswith("serve(") for line in
               script.read_text(encoding="utf-8").splitlines())


def _run(python: str, script: Path, args: tuple[str, ...], pythonpath: Path | None,
         cwd: Path, timeout: float = 600.0) -> tuple[int, str]:
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    if pythonpath is None:
        env.pop("PYTHONPATH", None)
    else:
        env["PYTHONPATH"] = str(pythonpath)
    try:
        p = subprocess.run([python, str(script), *args], cwd=cwd, env=env,
                           capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {timeout:g} s"
    return p.returncode, p.stdout + p.stderr


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("peer", type=Path)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--reference-python", required=True)
    ap.add_argument("--out", type=Path, default=None, help="also write the report here")
    ap.add_argument("--context", type=int, default=0, help="diff context lines")
    ap.add_argument("--set", choices=sorted(SETS), default="core", dest="example_set",
                    help="which of the peer's examples: core (default), toolkit or all")
    ap.add_argument("--brief", action="store_true",
                    help="exit codes only, no diff of the outputs (default for --set all)")
    ap.add_argument("--timeout", type=float, default=600.0,
                    help="seconds one example may run (a timeout counts as not running)")
    args = ap.parse_args(argv)
    brief = args.brief or args.example_set == "all"
    examples = SETS[args.example_set] or _discover(args.peer.resolve())
    lines: list[str] = []
    ran = {"here": [], "peer": [], "both": []}
    served: list[str] = []
    with tempfile.TemporaryDirectory(prefix="peer-examples-") as tmp:
        for rel, ex_args in examples:
            script = args.peer.resolve() / rel
            if _serves_at_import(script):
                served.append(rel)
                lines.append(f"=== {rel}: starts the visual web server at import, not run")
                continue
            ours_rc, ours = _run(args.python, script, ex_args, REPO, Path(tmp), args.timeout)
            peer_rc, peer = _run(args.reference_python, script, ex_args, None, Path(tmp),
                                 args.timeout)
            ran["here"] += [rel] if ours_rc == 0 else []
            ran["peer"] += [rel] if peer_rc == 0 else []
            ran["both"] += [rel] if ours_rc == 0 == peer_rc else []
            lines.append(f"=== {rel} {' '.join(ex_args)}")
            lines.append(f"exit code: this package {ours_rc}, happysim 0.2.5 {peer_rc}")
            if ours_rc or peer_rc:
                for who, rc, out in (("this package", ours_rc, ours), ("0.2.5", peer_rc, peer)):
                    if rc:
                        lines.append(f"--- last lines ({who}):")
                        lines.extend("    " + x for x in out.strip().splitlines()[-3:])
                continue
            if brief:
                continue
            diff = list(difflib.unified_diff(peer.splitlines(), ours.splitlines(),
                                             "happysim 0.2.5", "this package",
                                             n=args.context, lineterm=""))
            lines.extend(diff if diff else ["(identical output)"])
    n = len(examples) - len(served)
    lines.append(f"\nSUMMARY ({args.example_set}): {n} examples run ({len(served)} more start "
                 f"the web server and are not run); exit 0 on happysim 0.2.5: "
                 f"{len(ran['peer'])}; here: {len(ran['here'])}; here among those that run "
                 f"on 0.2.5: {len(ran['both'])}/{len(ran['peer'])}")
    missing = sorted(set(ran["peer"]) - set(ran["here"]))
    if missing:
        lines.append("run on 0.2.5, not here: " + ", ".join(missing))
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
