"""Instructions per call (callgrind) of the toolkit model of ``bench_toolkit.py`` (Poisson
20/s -> Client, 2 s timeout, 3 attempts -> round-robin LoadBalancer -> 4 x M(0.1 s)),
with ``ObservabilityConfig.full()`` and ``.disabled()``, here and, with ``--baseline``, in
another checkout.

    python benchmarks/bench_toolkit_instructions.py [--baseline DIR] [--small 1000 --large 4000]

Each variant runs under ``valgrind --tool=callgrind`` twice, with ``--small`` and
``--large`` calls, in fresh processes; the difference of the two totals divided by the
difference of calls is the steady-state cost of one call (interpreter start-up, imports,
set-up and teardown cancel out). Instruction counts do not depend on the machine's load,
so they compare changes that CPU times on a busy machine cannot (they do not see cache
misses or page faults: confirm with ``bench_toolkit.py``'s interleaved CPU times).
Needs valgrind.
"""

from __future__ import annotations

import argparse
import os
import sys

from _callgrind import callgrind_total  # (benchmarks/ is on sys.path when run as a script)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

WORKER = """
import sys
sys.path.insert(0, {bench!r})
from bench_toolkit import run_happysim
run_happysim(int(sys.argv[2]), 42, sys.argv[1])
"""


def instructions(repo: str, variant: str, calls: int) -> int:
    """Total instructions of one run of the model in `repo` with `calls` calls."""
    # (the worker imports this checkout's bench_toolkit: the model is the same for all)
    code = WORKER.format(bench=HERE)
    return callgrind_total(repo, code, [variant, str(calls)])


def per_call(repo: str, variant: str, small: int, large: int) -> float:
    return (instructions(repo, variant, large) - instructions(repo, variant, small)) / (
        large - small)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", metavar="DIR", default=None,
                    help="another checkout to measure the same way (before/after)")
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--large", type=int, default=4000)
    args = ap.parse_args(argv)
    if args.large <= args.small:
        ap.error(f"--large ({args.large}) must be more than --small ({args.small})")
    repos = [("ours", REPO)] + ([("before", args.baseline)] if args.baseline else [])
    got: dict[tuple[str, str], float] = {}
    for tag, repo in repos:
        for variant in ("full", "disabled"):
            got[(tag, variant)] = per_call(repo, variant, args.small, args.large)
            print(f"{tag:6} {variant:8} {got[(tag, variant)]:>10,.0f} instructions per call")
    for tag, _ in repos:
        print(f"{tag}: full() cost, instructions full / disabled: "
              f"{got[(tag, 'full')] / got[(tag, 'disabled')]:.2f}x")
    if args.baseline:
        for variant in ("full", "disabled"):
            print(f"{variant}: ours / before: "
                  f"{got[('ours', variant)] / got[('before', variant)]:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
