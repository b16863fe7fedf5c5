"""Run the public ``happysim`` 0.2.5 examples on this package and on the peer, and show
where their printed results differ (or, with ``--set all``, how many run on each).

Usage::

    python tools/peer_examples.py PEER_CHECKOUT --reference-python PY [--set core|toolkit|all]
        [--brief] [--out FILE]
    python tools/peer_examples.py PEER_CHECKOUT --reference-python PY --seeds 1 2 3 [--out FILE]

``--seeds`` runs the toolkit examples with each seed on both packages and tabulates their
headline numbers (``HEADLINES``) with the means over the seeds.

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
import re
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

# Headline numbers of the toolkit examples, for ``--seeds``: (label, regex with one group).
# The examples seed the global ``random`` module (0.2.5's source of randomness) or their
# own distributions; this package's simulation stream differs, so numbers are compared
# as means over several seeds, not line by line.
_PHASES = ("Normal", r"\+50ms Latency", "15% Pkt Loss", r"\+100ms & 10% Loss", "Recovery")
_COHORTS = ("Top 1%", "Top 5%", "Top 10%", "Top 20%", "Middle 30%", "Bottom 50%")
HEADLINES: dict[str, tuple[tuple[str, str], ...]] = {
    "examples/distributed/degraded_network.py": (
        ("responses received", r"Responses received:\s+([\d.]+)"),
        ("latency avg ms", r"Overall Latency:\s+Average:\s+([\d.]+)ms"),
        *((f"{p.replace(chr(92), '')} {what}",
           rf"^\s*{p}\s+\d+\s+(\d+)\s+-?[\d.]+%\s+([\d.]+)\s+([\d.]+)$"
           + f"#{k}") for p in _PHASES for k, what in
          ((1, "received"), (2, "avg ms"), (3, "p99 ms"))),
    ),
    "examples/performance/metric_collection_pipeline.py": (
        ("batch duration avg s", r"Avg duration:\s+([\d.]+)s"),
        ("task latency avg s", r"Per-Task Latency:\s+Average:\s+([\d.]+)s"),
        ("task latency p99 s", r"^\s+p99:\s+([\d.]+)s"),
    ),
    "examples/performance/zipf_cache_cohorts.py": (
        ("hit rate %", r"Hit rate:\s+([\d.]+)%"),
        ("evictions", r"Evictions:\s+(\d+)"),
        *((f"{c} hit rate %", rf"^{c}\s+\d+\s+\d+\s+[\d.]+%\s+[\d.]+%\s+\d+\s+\d+\s+"
           r"([\d.]+)%") for c in _COHORTS),
    ),
    "examples/performance/cold_start.py": (
        ("requests completed", r"Requests completed:\s+(\d+)"),
        ("final hit rate %", r"Final hit rate:\s+([\d.]+)%"),
        ("datastore reads", r"Total datastore reads:\s+(\d+)"),
        ("hit rate steady %", r"Steady state \(before reset\):\s+([\d.]+)%"),
        ("hit rate after reset %", r"Immediately after reset:\s+([\d.]+)%"),
        ("hit rate recovery %", r"Recovery \(20-30s post\):\s+([\d.]+)%"),
        ("latency avg ms", r"Latency \(overall\):\s+Average:\s+([\d.]+)ms"),
        ("latency p99 ms", r"^\s+p99:\s+([\d.]+)ms"),
        ("steady avg ms", r"Steady state avg:\s+([\d.]+)ms"),
        ("post-reset avg ms", r"Post-reset avg:\s+([\d.]+)ms"),
    ),
}


# Examples whose plain `QueuedResource` subclass 0.2.5 serves with unlimited concurrency
# (one request at a time here, see docs/compatibility.md): compared also with that
# emulated, by a bootstrap that is a diagnostic of this script, not part of the package.
EMULATE_UNLIMITED = {"examples/performance/cold_start.py"}
_UNLIMITED_BOOTSTRAP = """\
import runpy, sys
import happysimulator.components.queued_resource as qr
_init = qr.QueuedResource.__init__
def _unlimited(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    if kwargs.get("concurrency") is None and type(self).__init__ is not qr.QueuedResource.__init__:
        self._concurrency = qr._UNLIMITED  # 0.2.5: a plain subclass serves all at once
qr.QueuedResource.__init__ = _unlimited
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
"""


def _headline(text: str, pattern: str) -> float | None:
    """The number `pattern` captures in `text` (``#k`` at its end: the k-th group)."""
    group = 1
    if "#" in pattern[-3:]:
        pattern, k = pattern.rsplit("#", 1)
        group = int(k)
    m = re.search(pattern, text, re.MULTILINE)
    return None if m is None else float(m.group(group))


def _compare(args: argparse.Namespace, examples: tuple) -> list[str]:
    """Each example's headline numbers over ``args.seeds`` on both packages: per seed,
    the mean of each, and here's mean relative to 0.2.5's."""
    lines = [f"seeds {' '.join(map(str, args.seeds))}; 'here/0.2.5' is the ratio of the "
             "means over the seeds"]
    with tempfile.TemporaryDirectory(prefix="peer-examples-") as tmp:
        for rel, ex_args in examples:
            heads = HEADLINES.get(rel)
            script = args.peer.resolve() / rel
            if heads is None:  # no randomness to vary (no --seed): one run, compared whole
                here_rc, here = _run(args.python, script, ex_args, REPO, Path(tmp), args.timeout)
                peer_rc, peer = _run(args.reference_python, script, ex_args, None, Path(tmp),
                                     args.timeout)
                same = here_rc == peer_rc == 0 and here == peer
                lines.append(f"\n=== {rel} {' '.join(ex_args)} (takes no seed)\n"
                             + ("identical output on both packages" if same else
                                f"outputs differ (exit codes {here_rc} here, {peer_rc} on "
                                "0.2.5): see --set toolkit"))
                continue
            runs = [("here", args.python, REPO, script, ()),
                    ("0.2.5", args.reference_python, None, script, ())]
            if rel in EMULATE_UNLIMITED:
                boot = Path(tmp) / "_unlimited_bootstrap.py"
                boot.write_text(_UNLIMITED_BOOTSTRAP)
                runs.append(("here, unlimited", args.python, REPO, boot, (str(script),)))
            got: dict[str, dict[str, list[float | None]]] = {r[0]: {} for r in runs}
            for seed in args.seeds:
                for who, py, path, target, pre in runs:
                    run_args = (*pre, *ex_args, "--seed", str(seed))
                    rc, out = _run(py, target, run_args, path, Path(tmp), args.timeout)
                    for label, pattern in heads:
                        value = None if rc else _headline(out, pattern)
                        got[who].setdefault(label, []).append(value)
            lines.append(f"\n=== {rel} {' '.join(ex_args)}")
            width = max(len(label) for label, _ in heads)
            for who in [w for w in got if w != "0.2.5"]:
                if who != "here":
                    lines.append(f"-- {who} (0.2.5's unlimited concurrency emulated for the "
                                 "example's QueuedResource subclass; a diagnostic):")
                lines.append(f"{'':<{width}}  {'0.2.5 per seed':>30}  {'here per seed':>30}  "
                             "mean 0.2.5   mean here  here/0.2.5")
                for label, _ in heads:
                    a, b = got["0.2.5"][label], got[who][label]
                    lines.append(f"{label:<{width}}  {_cells(a):>30}  {_cells(b):>30}  "
                                 f"{_mean_cell(a):>10}  {_mean_cell(b):>10}  "
                                 f"{_ratio(a, b):>10}")
    return lines


def _cells(values: list[float | None]) -> str:
    return " ".join("-" if v is None else f"{v:g}" for v in values)


def _mean(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals and len(vals) == len(values) else None


def _mean_cell(values: list[float | None]) -> str:
    m = _mean(values)
    return "-" if m is None else f"{m:.4g}"


def _ratio(a: list[float | None], b: list[float | None]) -> str:
    ma, mb = _mean(a), _mean(b)
    if ma is None or mb is None:
        return "-"
    return "both 0" if ma == mb == 0 else ("-" if ma == 0 else f"{mb / ma:.3f}")


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
    ap.add_argument("--seeds", type=int, nargs="+", default=None,
                    help="compare the toolkit examples' headline numbers over these seeds "
                         "(means on each package) instead of diffing one run")
    args = ap.parse_args(argv)
    if args.seeds:
        text = "\n".join(_compare(args, TOOLKIT_EXAMPLES))
        print(text)
        if args.out:
            args.out.write_text(text + "\n")
        return 0
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
