"""Before/after: the same `bench_observers.py` cases in two or more checkouts, interleaved.

    .venv/bin/python benchmarks/compare_checkouts.py before=/path/to/old after=. \\
        --cases server:disabled,server:full --customers 30000 --rounds 7

Each (checkout, case) pair runs in a fresh process (``bench_observers.py --worker CASE``
of *that* checkout, with ``PYTHONPATH`` set to it), all pairs interleaved for
``--rounds`` rounds (see `_harness.py`); the table gives each case's median run CPU time
per checkout and its ratio to the first checkout, then ``full`` / ``disabled`` per
checkout when both cases were run. An old checkout is e.g. ``git worktree add /tmp/old
<commit>`` or ``git archive <commit> | tar -x -C /tmp/old``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _harness import Contender, run_interleaved  # noqa: E402


def _checkout(spec: str) -> tuple[str, str]:
    name, sep, path = spec.partition("=")
    if not sep or not name or not os.path.isfile(
            os.path.join(path, "benchmarks", "bench_observers.py")):
        raise argparse.ArgumentTypeError(
            f"expected NAME=PATH of a checkout holding benchmarks/bench_observers.py, "
            f"got {spec!r}")
    return name, os.path.abspath(path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkouts", nargs="+", type=_checkout, metavar="NAME=PATH",
                   help="checkouts to compare; ratios are against the first")
    p.add_argument("--cases", default="server:disabled,server:full",
                   help="comma list of bench_observers.py run cases (server:*, user:*)")
    p.add_argument("--customers", type=int, default=30_000)
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args(argv)
    cases = args.cases.split(",")
    bad = [c for c in cases if c.partition(":")[0] not in ("server", "user")]
    if bad:
        p.error(f"only run cases (server:VARIANT, user:VARIANT) are compared, got {bad}")
    contenders = {}
    for case in cases:
        for name, path in args.checkouts:
            contenders[name, case] = Contender.command(
                f"{name} {case}",
                [sys.executable, os.path.join(path, "benchmarks", "bench_observers.py"),
                 "--worker", case, "--customers", str(args.customers)],
                env={"PYTHONPATH": path}, cwd=path, timeout_s=1800)
    run_interleaved(list(contenders.values()), args.rounds,
                    progress=lambda s: print(s, file=sys.stderr, flush=True))
    for name, path in args.checkouts:
        head = subprocess.run(["git", "-C", path, "log", "-1", "--format=%h %s"],
                              capture_output=True, text=True).stdout.strip()
        print(f"{name}: {path} {('at ' + head) if head else '(not a git checkout)'}")
    print(f"{args.customers:,} customers per run; median run CPU time of {args.rounds} "
          "interleaved rounds, each in a fresh process")
    first = args.checkouts[0][0]
    med = {k: c.median("report.run_s") for k, c in contenders.items()}
    for case in cases:
        cells = []
        for name, _ in args.checkouts:
            v, b = med[name, case], med[first, case]
            cells.append(f"{name} {v:.4f} s" + (f" ({v / b:.3f}x)" if v and b else ""))
        print(f"  {case:<18} " + "   ".join(cells))
    for model in ("server", "user"):
        if f"{model}:full" in cases and f"{model}:disabled" in cases:
            print(f"  {model} full()/disabled(): " + "   ".join(
                f"{name} {med[name, f'{model}:full'] / med[name, f'{model}:disabled']:.3f}x"
                for name, _ in args.checkouts))
    failed = [e for c in contenders.values() for e in c.errors()]
    for e in failed:
        print(f"  ! {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
