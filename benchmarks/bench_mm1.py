"""M/M/1 throughput bench: this engine side by side with SimPy, salabim, happysim 0.2.5
and a hand-written heapq floor, plus our observability variants and memory per item.

    .venv/bin/python benchmarks/bench_mm1.py                      # 100k customers, 3 repeats
    .venv/bin/python benchmarks/bench_mm1.py --customers 20000 --repeats 5 --json

Every peer is a subprocess (benchmarks/peers/*.py) printing one JSON line; all of them
run interleaved (A B C A B C ...) in one invocation and are summarised by medians.
See benchmarks/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import subprocess
import sys
import tomllib
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import Contender, format_table, run_interleaved  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PEERS = os.path.join(HERE, "peers")
OBS_VARIANTS = ("none", "disabled", "default", "full", "streaming")
BASELINE = "@baseline"  # variant suffix of the --baseline-repo runs

HAPPYSIM_VENV = os.environ.get("HAPPYSIM_VENV", "/tmp/venv-happysim313")
BENCH313_VENV = os.environ.get("BENCH313_VENV", "/tmp/venv-bench313")
HAPPYSIM_REQ = "happysim==0.2.5"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# interpreters and venvs
# ---------------------------------------------------------------------------------------
def _py_version(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    major, minor = out.stdout.split()
    return int(major), int(minor)


def find_python313() -> str | None:
    """A Python >= 3.13 interpreter: $PYTHON313, python3.13/3.14 on PATH, or pyenv's."""
    candidates = [os.environ.get("PYTHON313", "")]
    for name in ("python3.13", "python3.14"):
        for d in os.environ.get("PATH", "").split(os.pathsep):
            candidates.append(os.path.join(d, name))
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(glob.glob(os.path.join(root, "versions", "3.1[3-9]*", "bin", "python")))
    candidates.append(sys.executable)
    for c in candidates:
        if c and os.path.exists(c) and (_py_version(c) or (0, 0)) >= (3, 13):
            return c
    return None


def _pip_install(venv: str, base_python: str, packages: list[str], check_import: str) -> str | None:
    """Create ``venv`` from ``base_python`` if needed and install ``packages``.

    Returns the venv's python, or None (with a logged reason) on failure.
    """
    py = os.path.join(venv, "bin", "python")
    if (
        os.path.exists(py)
        and subprocess.run([py, "-c", check_import], capture_output=True).returncode == 0
    ):
        return py
    log(f"creating {venv} ({' '.join(packages)}) ...")
    steps = [[base_python, "-m", "venv", venv], [py, "-m", "pip", "install", "-q", *packages]]
    for step in steps:
        r = subprocess.run(step, capture_output=True, text=True)
        if r.returncode != 0:
            tail = (r.stderr.strip().splitlines() or ["?"])[-1]
            log(f"  failed: {' '.join(step)}: {tail}")
            return None
    if subprocess.run([py, "-c", check_import], capture_output=True).returncode != 0:
        log(f"  {venv}: `{check_import}` still fails after install")
        return None
    return py


def happysim_python(base313: str | None) -> tuple[str | None, str]:
    if base313 is None:
        return (
            None,
            "skipped happysim 0.2.5: it needs Python >= 3.13 and none was found "
            "(set PYTHON313=/path/to/python3.13)",
        )
    check = (
        "import happysimulator, importlib.metadata as m; assert m.version('happysim') == '0.2.5'"
    )
    py = _pip_install(HAPPYSIM_VENV, base313, [HAPPYSIM_REQ], check)
    if py is None:
        return None, f"skipped happysim 0.2.5: could not set up {HAPPYSIM_VENV}"
    return py, f"happysim 0.2.5 from {HAPPYSIM_VENV}"


def bench313_python(base313: str | None) -> tuple[str | None, str]:
    """A 3.13 venv with this project's runtime deps + simpy (the repo via PYTHONPATH)."""
    if base313 is None:
        return None, "skipped the Python 3.13 runs of floor/SimPy/ours: no Python >= 3.13"
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        deps = list(tomllib.load(f)["project"].get("dependencies", []))
    py = _pip_install(
        BENCH313_VENV, base313, [*deps, "simpy>=4.1"], "import simpy, reactivex, numpy, msgspec"
    )
    if py is None:
        return None, f"skipped the Python 3.13 runs: could not set up {BENCH313_VENV}"
    return py, f"floor/SimPy/ours also on Python 3.13 from {BENCH313_VENV}"


def probe_ok(python: str, code: str, env: dict[str, str] | None = None) -> tuple[bool, str]:
    r = subprocess.run(
        [python, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=PEERS,
    )
    tail = (r.stderr.strip().splitlines() or [""])[-1]
    return r.returncode == 0, tail


# ---------------------------------------------------------------------------------------
# contenders
# ---------------------------------------------------------------------------------------
@dataclass
class Peer:
    contender: Contender
    kind: str  # floor | simpy | salabim | ours | happysim
    python: str  # "3.11" ...
    variant: str = ""


def make_peers(args) -> tuple[list[Peer], list[str], dict[str, str]]:
    notes: list[str] = []
    interpreters: dict[str, str] = {}
    main_py = sys.executable
    main_ver = "{}.{}".format(*sys.version_info[:2])
    interpreters[f"py{main_ver} (this venv)"] = f"{main_py} ({platform.python_version()})"
    common = ["--customers", str(args.customers), "--seed", str(args.seed)]
    ours_env = {"PYTHONPATH": REPO}
    peers: list[Peer] = []

    def add(
        kind: str,
        python: str,
        ver: str,
        script: str,
        extra: list[str] = (),
        env: dict[str, str] | None = None,
        variant: str = "",
    ) -> None:
        label = {
            "floor": "heapq floor",
            "simpy": "SimPy",
            "salabim": "salabim",
            "ours": "ours",
            "happysim": "happysim 0.2.5",
        }[kind]
        name = f"{label}{' ' + variant if variant else ''} [py{ver}]"
        argv = [python, os.path.join(PEERS, script), *common, *extra]
        c = Contender.command(name, argv, env=env, cwd=PEERS, timeout_s=args.timeout)
        peers.append(Peer(c, kind, ver, variant))

    def ours_variants(python: str, ver: str) -> list[str]:
        ok, why = probe_ok(
            python,
            "import happysimulator.core.simulation; "
            "from happysimulator import Simulation, Source, Server, "
            "LatencyTracker, ExponentialLatency",
            ours_env,
        )
        if not ok:
            notes.append(f"skipped ours [py{ver}]: engine not importable yet ({why})")
            return []
        obs_ok, why = probe_ok(
            python, "from happysimulator.observability import ObservabilityConfig", ours_env
        )
        if not obs_ok:
            notes.append(
                f"ours [py{ver}]: observability layer not importable ({why}); "
                "only --observability none runs"
            )
            return ["none"]
        return [v for v in args.variants if v in OBS_VARIANTS]

    add("floor", main_py, main_ver, "heapq_floor.py")
    if probe_ok(main_py, "import simpy")[0]:
        add("simpy", main_py, main_ver, "simpy_mm1.py")
    else:
        notes.append(f"skipped SimPy [py{main_ver}]: simpy not installed (pip install simpy)")
    if not args.no_salabim:
        # benchmark-only peer, deliberately not a project dependency (pyproject.toml)
        sal_ok, why = probe_ok(main_py, "import salabim")
        if sal_ok:
            add("salabim", main_py, main_ver, "salabim_mm1.py")
        else:
            notes.append(
                f"skipped salabim [py{main_ver}]: not importable ({why}); it is a "
                f"benchmark-only peer: {main_py} -m pip install salabim"
            )
    for v in ours_variants(main_py, main_ver):
        add("ours", main_py, main_ver, "ours_mm1.py", ["--observability", v], ours_env, v)
        if args.baseline_repo:  # the same run from an older checkout, interleaved
            add("ours", main_py, main_ver, "ours_mm1.py", ["--observability", v],
                {"PYTHONPATH": args.baseline_repo}, v + BASELINE)

    base313 = None if (args.no_happysim and args.no_py313) else find_python313()
    if not args.no_py313 and main_ver != "3.13":
        py, note = bench313_python(base313)
        notes.append(note)
        if py is not None:
            ver = "{}.{}".format(*_py_version(py))
            interpreters[f"py{ver} (floor/SimPy/ours)"] = py
            add("floor", py, ver, "heapq_floor.py")
            add("simpy", py, ver, "simpy_mm1.py")
            for v in ours_variants(py, ver):
                if v in ("none", "disabled", "full"):
                    add("ours", py, ver, "ours_mm1.py", ["--observability", v], ours_env, v)
    if not args.no_happysim:
        py, note = happysim_python(base313)
        notes.append(note)
        if py is not None:
            ver = "{}.{}".format(*_py_version(py))
            interpreters[f"py{ver} (happysim 0.2.5)"] = py
            add("happysim", py, ver, "happysim_mm1.py", ["--variant", "plain"], variant="plain")
            add(
                "happysim",
                py,
                ver,
                "happysim_mm1.py",
                ["--variant", "probe", "--probe-interval", str(args.probe_interval)],
                variant="probe+tracker",
            )
    return peers, notes, interpreters


# ---------------------------------------------------------------------------------------
# memory
# ---------------------------------------------------------------------------------------
def memory_rows(args, interpreters: dict[str, str], peers: list[Peer]) -> list[dict]:
    rows = []
    targets = []
    if any(p.kind == "ours" for p in peers):
        targets.append(("ours", sys.executable, {"PYTHONPATH": REPO}))
    happy = next((p for p in peers if p.kind == "happysim"), None)
    if happy is not None:
        targets.append(("happysim 0.2.5", happy.contender.argv[0], None))
    for label, py, env in targets:
        r = subprocess.run(
            [py, os.path.join(PEERS, "mem_probe.py"), "--n", str(args.mem_n), "--label", label],
            capture_output=True,
            text=True,
            cwd=PEERS,
            env={**os.environ, **(env or {})},
            timeout=600,
        )
        if r.returncode != 0:
            tail = (r.stderr.strip().splitlines() or ["?"])[-1]
            rows.append({"label": label, "error": tail})
            continue
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
    return rows


# ---------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------
def _median_report(p: Peer, key: str) -> float | None:
    return p.contender.median(f"report.{key}")


def build_results(peers: list[Peer]) -> dict:
    by = {(p.kind, p.python, p.variant): p for p in peers}
    rows = []
    for p in peers:
        cps = _median_report(p, "customers_per_s")
        simpy = by.get(("simpy", p.python, ""))
        floor = by.get(("floor", p.python, ""))
        simpy_cps = _median_report(simpy, "customers_per_s") if simpy else None
        floor_cps = _median_report(floor, "customers_per_s") if floor else None
        rep = p.contender.last_report() or {}
        rows.append(
            {
                "name": p.contender.name,
                "kind": p.kind,
                "variant": p.variant,
                "python": p.python,
                "customers": rep.get("customers"),
                "customers_per_s_median": cps,
                "customers_per_s_min_max": [
                    p.contender.min("report.customers_per_s"),
                    p.contender.max("report.customers_per_s"),
                ],
                "run_wall_s_median": _median_report(p, "wall_s"),
                "process_wall_s_median": p.contender.median("wall_s"),
                "vs_simpy": (cps / simpy_cps) if cps and simpy_cps else None,
                "of_floor": (cps / floor_cps) if cps and floor_cps else None,
                "mean_wait": rep.get("mean_wait"),
                "mean_sojourn": rep.get("mean_sojourn"),
                "peak_rss_mb": p.contender.median("max_rss_mb"),
                "ok_runs": f"{len(p.contender.ok_runs())}/{len(p.contender.runs)}",
                "errors": p.contender.errors(),
                "report": rep,
            }
        )
    # observability overhead: run wall-time ratios against ours-disabled (same python)
    overhead = {}
    before_after = {}
    for (kind, ver, variant), p in by.items():
        if kind != "ours":
            continue
        tag = BASELINE if variant.endswith(BASELINE) else ""
        base = by.get(("ours", ver, "disabled" + tag)) or by.get(("ours", ver, "none" + tag))
        if base is not None and base is not p:
            a, b = _median_report(p, "wall_s"), _median_report(base, "wall_s")
            if a and b:
                overhead[f"{variant}/{base.variant} [py{ver}]"] = a / b
        old = None if tag else by.get(("ours", ver, variant + BASELINE))
        if old is not None:
            a, b = _median_report(p, "wall_s"), _median_report(old, "wall_s")
            if a and b:
                before_after[f"{variant} [py{ver}]"] = a / b
    return {"rows": rows, "observability_wall_ratio": overhead,
            "this_over_baseline": before_after}


def print_report(
    results: dict, mem: list[dict], notes: list[str], interpreters: dict[str, str], args
) -> None:
    print(
        f"\nM/M/1 lambda=8 mu=10, {args.customers:,} customers, seed {args.seed}, "
        f"{args.repeats} interleaved repeats, medians "
        f"(theory: mean wait 0.400 s, mean sojourn 0.500 s)\n"
    )
    rows = []
    for r in results["rows"]:
        rows.append(
            [
                r["name"],
                r["customers_per_s_median"],
                r["vs_simpy"],
                r["of_floor"],
                r["run_wall_s_median"],
                r["mean_wait"],
                r["mean_sojourn"],
                r["peak_rss_mb"],
                r["ok_runs"],
            ]
        )
    print(
        format_table(
            [
                "peer",
                "customers/s",
                "x SimPy",
                "of floor",
                "run s",
                "mean wait",
                "sojourn",
                "RSS MB",
                "ok",
            ],
            rows,
        )
    )
    errs = [(r["name"], e) for r in results["rows"] for e in r["errors"]]
    for name, e in errs:
        print(f"  ! {name}: {e}")
    if results["observability_wall_ratio"]:
        print("\nObservability cost (ours, median run wall time / disabled):")
        for k, v in results["observability_wall_ratio"].items():
            print(f"  {k:<32} {v:6.2f}x")
    if results["this_over_baseline"]:
        print(f"\nThis checkout / --baseline-repo {args.baseline_repo} (median run wall time):")
        for k, v in results["this_over_baseline"].items():
            print(f"  {k:<32} {v:6.3f}x")
    if mem:
        print(f"\nMemory (tracemalloc, n={args.mem_n:,}):")
        mrows = []
        for m in mem:
            if "error" in m:
                mrows.append([m["label"], None, None, f"error: {m['error']}"])
            else:
                mrows.append(
                    [
                        f"{m['label']} [py{m['python'][:4]}]",
                        m["bytes_per_pending_event"],
                        m["bytes_per_data_sample"],
                        "",
                    ]
                )
        print(format_table(["engine", "B / pending event", "B / Data sample", ""], mrows))
    print("\nPython:")
    for label, py in interpreters.items():
        print(f"  {label}: {py}")
    for n in notes:
        print(f"  note: {n}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=0, help="discarded rounds before timing")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--variants",
        default=",".join(OBS_VARIANTS),
        help=f"our observability variants (comma list of {','.join(OBS_VARIANTS)})",
    )
    p.add_argument(
        "--probe-interval",
        type=float,
        default=0.1,
        help="happysim probe+tracker variant: Probe interval (simulated s)",
    )
    p.add_argument("--no-happysim", action="store_true", help="skip happysim 0.2.5")
    p.add_argument(
        "--no-salabim", action="store_true", help="skip salabim (slow: ~15-20 s per 100k run)"
    )
    p.add_argument(
        "--no-py313", action="store_true", help="skip the Python 3.13 runs of floor/SimPy/ours"
    )
    p.add_argument("--no-memory", action="store_true", help="skip the tracemalloc probes")
    p.add_argument("--baseline-repo", metavar="PATH", default=None,
                   help="also run our variants from this older checkout, interleaved, and "
                        "report this/baseline (e.g. a `git worktree` of the commit before)")
    p.add_argument("--mem-n", type=int, default=100_000)
    p.add_argument("--timeout", type=float, default=900.0, help="per-run timeout (s)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--json-out", metavar="PATH", help="also write the JSON document to PATH")
    args = p.parse_args(argv)
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if args.baseline_repo:
        args.baseline_repo = os.path.abspath(args.baseline_repo)
        if not os.path.isdir(os.path.join(args.baseline_repo, "happysimulator")):
            p.error(f"--baseline-repo {args.baseline_repo}: no happysimulator package there")
    bad = sorted(set(args.variants) - set(OBS_VARIANTS))
    if bad:
        p.error(f"unknown variant(s) {bad}; valid: {', '.join(OBS_VARIANTS)}")

    peers, notes, interpreters = make_peers(args)
    for n in notes:
        log(f"note: {n}")
    log(f"running {len(peers)} contenders x {args.repeats} (interleaved) ...")
    run_interleaved([q.contender for q in peers], args.repeats, warmup=args.warmup, progress=log)
    results = build_results(peers)
    mem = [] if args.no_memory else memory_rows(args, interpreters, peers)
    doc = {
        "customers": args.customers,
        "repeats": args.repeats,
        "seed": args.seed,
        "host_python": platform.python_version(),
        "interpreters": interpreters,
        "notes": notes,
        **results,
        "memory": mem,
    }
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(doc, f, indent=2)
    if args.json:
        json.dump(doc, sys.stdout, indent=2)
        print()
    else:
        print_report(results, mem, notes, interpreters, args)
    return 0 if all(q.contender.ok_runs() for q in peers) else 1


if __name__ == "__main__":
    sys.exit(main())
