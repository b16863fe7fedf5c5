"""Instructions per customer (callgrind) of one live ``latency`` subscriber: the
`bench_issue23.py` ``sub:`` cases (the Server and the user-written M/M/1 models,
``default()`` config, with and without one subscriber on the Sink's ``latency``).

    python benchmarks/bench_live_instructions.py [--baseline DIR] [--small 1000 --large 6000]
        [--models server,user]

Each case runs under ``valgrind --tool=callgrind`` with ``--small`` and ``--large``
customers in fresh processes (PYTHONHASHSEED=0, OPENBLAS_NUM_THREADS=1: numpy's worker
threads would otherwise add scheduling-dependent counts); the difference of the totals
over the difference of customers is one customer's steady-state cost. Needs valgrind.
"""

from __future__ import annotations

import argparse
import os

from _callgrind import callgrind_total  # (benchmarks/ is on sys.path when run as a script)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

WORKER = """
import sys
sys.path[:0] = [{bench!r}]
model, on, n = sys.argv[1], sys.argv[2] == "on", int(sys.argv[3])
from bench_observers import _config, build_server_model, build_user_model
build = build_server_model if model == "server" else build_user_model
sim, _ = build(n, _config("default"))
got = []
if on:
    sim.observations.metrics("latency", source="Sink").subscribe(got.append)
assert sim.run().stop_reason == "complete"
assert not on or len(got) > n // 2
"""


def instructions(repo: str, model: str, on: bool, customers: int) -> int:
    code = WORKER.format(bench=os.path.join(repo, "benchmarks"))
    return callgrind_total(repo, code, [model, "on" if on else "off", str(customers)])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", metavar="DIR", help="a checkout measured as 'before'")
    p.add_argument("--small", type=int, default=1000)
    p.add_argument("--large", type=int, default=6000)
    p.add_argument("--models", default="server,user")
    args = p.parse_args(argv)
    repos = ([("before", args.baseline)] if args.baseline else []) + [("after", REPO)]
    print(f"instructions per customer (callgrind, {args.small} -> {args.large} customers, "
          "default() config, one `latency` subscriber on the Sink)")
    for model in args.models.split(","):
        for tag, repo in repos:
            n = {on: (instructions(repo, model, on, args.large)
                      - instructions(repo, model, on, args.small)) / (args.large - args.small)
                 for on in (False, True)}
            print(f"  {model:<7} {tag:<7} without {n[False]:>9,.0f}   with {n[True]:>9,.0f}"
                  f"   ratio {n[True] / n[False]:.3f}x", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
