"""The first reads after a `full()` run, one by one, this checkout beside another.

Each round runs, for each checkout in turn, a fresh process: the M/M/1 `Server` model of
`bench_observers.build_server_model` (100k customers, `full()`), then, CPU-timed one
after the other, the reads of `bench_observers.first_reads` (a metric, a 10 s span range
of one entity, a 10 s event range, one trace), the span pair of issue 23
(``spans().limit(10)`` + ``spans().from_entity("Sink").limit(1)``) and
``events().limit(1)``; also a `disabled()` run for the ratio. Medians of the rounds.

    python benchmarks/bench_first_reads.py --baseline /tmp/base8 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
READS = ("run_full", "metric", "spans_range", "events_range", "trace", "span_pair",
         "events_limit1", "reads_total", "run_disabled")


def worker(customers: int) -> dict:
    import gc

    sys.path.insert(0, os.path.join(os.getcwd(), "benchmarks"))
    from bench_observers import _config, build_server_model

    out = {}
    sim, _ = build_server_model(customers, _config("disabled"))
    gc.collect()
    c = time.process_time()
    sim.run()
    out["run_disabled"] = time.process_time() - c
    sim, _ = build_server_model(customers, _config("full"))
    gc.collect()
    c = time.process_time()
    sim.run()
    out["run_full"] = time.process_time() - c
    q = sim.query
    mid = (q.now() or 0.0) / 2
    reads = {
        "metric": lambda: q.metrics("latency").aggregate("mean", "p99").execute(),
        "spans_range": lambda: q.spans().from_entity("Server").between(mid, mid + 10).execute(),
        "events_range": lambda: q.events().between(mid, mid + 10).execute(),
        "trace": lambda: q.trace_store.trace(customers // 2),
        "span_pair": lambda: (q.spans().limit(10).execute(),
                              q.spans().from_entity("Sink").limit(1).execute()),
        "events_limit1": lambda: q.events().limit(1).execute(),
    }
    for name, read in reads.items():
        c = time.process_time()
        read()
        out[name] = time.process_time() - c
    out["reads_total"] = sum(out[k] for k in reads)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--baseline", metavar="REPO", help="another checkout, run interleaved")
    args = p.parse_args()
    if args.worker:
        print(json.dumps(worker(args.customers)))
        return 0
    repos = [("after", REPO)] + ([("before", os.path.abspath(args.baseline))]
                                 if args.baseline else [])
    got: dict[str, list[dict]] = {tag: [] for tag, _ in repos}
    for r in range(args.rounds):
        for tag, repo in (repos if r % 2 == 0 else repos[::-1]):
            env = {**os.environ, "PYTHONPATH": repo}
            res = subprocess.run(
                [sys.executable, __file__, "--worker", "--customers", str(args.customers)],
                cwd=repo, env=env, capture_output=True, text=True, check=True)
            got[tag].append(json.loads(res.stdout.strip().splitlines()[-1]))
            print(f"  [{r + 1}/{args.rounds}] {tag}", file=sys.stderr)
    print(f"first reads after a full() run, {args.customers:,} customers, CPU seconds, "
          f"medians of {args.rounds} interleaved rounds (fresh processes)")
    head = "".join(f"{tag:>12}" for tag, _ in repos)
    print(f"{'':16}{head}" + ("  after/before" if len(repos) == 2 else ""))
    for k in READS:
        meds = [statistics.median(x[k] for x in got[tag]) for tag, _ in repos]
        ratio = f"{meds[0] / meds[1]:>13.2f}x" if len(meds) == 2 and meds[1] else ""
        print(f"{k:16}" + "".join(f"{m:>12.4f}" for m in meds) + ratio)
    for tag, _ in repos:
        full = statistics.median(x["run_full"] + x["reads_total"] for x in got[tag])
        dis = statistics.median(x["run_disabled"] for x in got[tag])
        print(f"{tag}: (full() run + first reads) / disabled() run = {full / dis:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
