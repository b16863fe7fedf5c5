"""Instructions per customer (callgrind) of the M/M/1 models: the user-written one, the
standard ``Server`` one (both ``disabled()``) and SimPy's.

    python benchmarks/bench_instructions.py [--baseline DIR] [--small 2000 --large 12000]

Each model runs under ``valgrind --tool=callgrind`` twice, with ``--small`` and
``--large`` customers, in fresh processes; the difference of the two totals divided by
the difference of customers is the steady-state cost of one customer (interpreter
start-up, imports and set-up cancel out). Instruction counts do not depend on the
machine's load, so they compare changes that CPU times on a busy machine cannot.
Needs valgrind; SimPy for the peer row.
"""

from __future__ import annotations

import argparse
import os

from _callgrind import callgrind_total  # (benchmarks/ is on sys.path when run as a script)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

WORKER = """
import sys
sys.path[:0] = [{bench!r}, {peers!r}]
model, n = sys.argv[1], int(sys.argv[2])
if model == "simpy":
    from simpy_mm1 import run
    run(n, 42)
else:
    from bench_observers import _config, build_server_model, build_user_model
    build = build_server_model if model == "server" else build_user_model
    sim, _ = build(n, _config("disabled"))
    assert sim.run().stop_reason == "complete"
"""


def instructions(repo: str, model: str, customers: int) -> int:
    """Total instructions of one run of `model` with `customers` customers."""
    bench = os.path.join(repo, "benchmarks")
    code = WORKER.format(bench=bench, peers=os.path.join(bench, "peers"))
    return callgrind_total(repo, code, [model, str(customers)])


def per_customer(repo: str, model: str, small: int, large: int) -> float:
    return (instructions(repo, model, large) - instructions(repo, model, small)) / (large - small)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", metavar="DIR", help="a checkout measured as 'before'")
    p.add_argument("--small", type=int, default=2000)
    p.add_argument("--large", type=int, default=12000)
    args = p.parse_args(argv)
    repos = [("after", REPO)] + ([("before", args.baseline)] if args.baseline else [])
    simpy = per_customer(REPO, "simpy", args.small, args.large)
    print(f"instructions per customer (callgrind, {args.small} -> {args.large} customers)")
    print(f"  {'SimPy':<28} {simpy:>9,.0f}")
    for tag, repo in repos:
        for model in ("user", "server"):
            n = per_customer(repo, model, args.small, args.large)
            print(f"  {model + ' model, ' + tag:<28} {n:>9,.0f}   SimPy / this {simpy / n:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
