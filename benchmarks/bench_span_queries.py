"""Span queries with a limit after a long run (issue 23 item 1), before vs after.

    .venv/bin/python benchmarks/bench_span_queries.py --baseline /path/to/old/checkout

Each checkout runs in a fresh process (``--worker``, ``PYTHONPATH`` at that checkout):
10^5 customers through an M/M/1-ish ``Server`` into a ``LatencyTracker`` under
``ObservabilityConfig.full()``, then the pair ``spans().limit(10)`` +
``spans().from_entity("Sink").limit(1)`` timed ``--repeats`` times (CPU time, each a
fresh query: no reuse between them). The table gives the median per checkout, the
ratio, and whether both answered the same rows (a digest of the answers).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time


def worker(customers: int, repeats: int) -> dict:
    from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
    from happysimulator.observability import ObservabilityConfig

    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=8.0, target=server, limit=customers)
    sim = Simulation(sources=[source], entities=[server, sink], seed=1,
                     observability=ObservabilityConfig.full())
    t0 = time.process_time()
    sim.run()
    run_s = time.process_time() - t0
    times, digest = [], None
    for _ in range(repeats):
        t0 = time.process_time()
        a = sim.query.spans().limit(10).execute()
        b = sim.query.spans().from_entity("Sink").limit(1).execute()
        times.append(time.process_time() - t0)
        d = hashlib.sha256(json.dumps([a.rows, b.rows, a.start, a.end, b.start, b.end],
                                      sort_keys=True, default=repr).encode()).hexdigest()[:12]
        assert digest in (None, d), "answers changed between repeats"
        digest = d
    return {"run_s": run_s, "pair_s": times, "digest": digest}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--baseline", help="a checkout to compare against (e.g. a worktree of main)")
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.customers, args.repeats)))
        return 0
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    checkouts = ([("before", os.path.abspath(args.baseline))] if args.baseline else []) + [
        ("after", here)]
    results = {}
    for name, path in checkouts:  # each in a fresh process, with its own packages
        out = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--worker", "--customers",
             str(args.customers), "--repeats", str(args.repeats)],
            env={**os.environ, "PYTHONPATH": path}, cwd=path, capture_output=True,
            text=True, check=True)
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{args.customers} customers, full(); spans().limit(10) + "
          f"spans().from_entity('Sink').limit(1), CPU time, median of {args.repeats}")
    print(f"{'checkout':<10}{'run s':>10}{'pair ms':>12}  answers digest")
    for name, r in results.items():
        print(f"{name:<10}{r['run_s']:>10.2f}{statistics.median(r['pair_s']) * 1e3:>12.2f}"
              f"  {r['digest']}")
    if len(results) == 2:
        b, a = (statistics.median(results[k]["pair_s"]) for k in ("before", "after"))
        same = results["before"]["digest"] == results["after"]["digest"]
        print(f"before / after: {b / a:.0f}x; same answers: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
