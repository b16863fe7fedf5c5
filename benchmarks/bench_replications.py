"""Replications at scale: wall time of N replications of an M/M/1 with 1 and 2 workers,
and the engine's overhead per replication (pool start-up, sending the task, shipping the
summary back).

    python benchmarks/bench_replications.py                   # 64 x 100k customers
    python benchmarks/bench_replications.py --n 16 --customers 20000 --out results/x.txt

Measured side by side in one invocation (the machine is shared): the 1- and 2-worker
pools run alternately ``--repeats`` times. The model is ``examples/m_m_1_queue.py:build``
(ObservabilityConfig.full()); each replication returns its summaries (scalars and
sketches), whose pickled size is reported.

Overhead per replication, two ways:
- *tiny model*: ``--n`` replications of a 10-customer model through a 1-worker pool:
  its wall time minus the pool start-up and minus the time the replications spent
  inside the worker, per replication (dispatch + pickling + result shipping);
- *big model*: the pool's wall time minus the replications' own compute time (measured
  inside the workers) divided by the worker count, per replication.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from happysimulator.experiments import replicate  # noqa: E402
from happysimulator.experiments.executors import _mp_context  # noqa: E402

MODEL = f"{ROOT / 'examples' / 'm_m_1_queue.py'}:build"


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def pool_startup(workers: int) -> float:
    """Seconds from creating a pool to the first result of a trivial task."""
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context()) as pool:
        pool.submit(os.getpid).result()
        return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=64, help="replications (default 64)")
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--out", type=Path, help="also write the report here")
    args = ap.parse_args(argv)
    lines: list[str] = []

    def say(s: str = "") -> None:
        print(s, flush=True)
        lines.append(s)

    say(f"bench_replications: {args.n} replications of M/M/1 (lambda=8, mu=10), "
        f"{args.customers:,} customers each, ObservabilityConfig.full(); "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    params = {"customers": args.customers}

    # -- overhead per replication, tiny model -------------------------------------------------
    tiny = {"customers": 10}
    startup = statistics.median(pool_startup(1) for _ in range(3))
    serial_t, _ = timed(lambda: replicate(MODEL, n=args.n, seed=1, executor="serial",
                                          params=tiny, progress=False))
    pool_t, tiny_reps = timed(lambda: replicate(MODEL, n=args.n, seed=1, workers=1,
                                                params=tiny, progress=False))
    inside = sum(r.wall_s for r in tiny_reps.runs)  # build + run + summarize, in the worker
    per_rep_ms = (pool_t - startup - inside) / args.n * 1e3
    say()
    say("Overhead (10-customer model, 1 worker):")
    say(f"  pool start-up to first result      {startup * 1e3:8.1f} ms (once per call)")
    say(f"  {args.n} replications in this process   {serial_t:8.3f} s")
    say(f"  {args.n} replications in a 1-worker pool {pool_t:8.3f} s, of which "
        f"{inside:.3f} s inside the worker")
    say(f"  -> per replication (dispatch, pickling, shipping back): {per_rep_ms:.2f} ms")

    # -- the big runs, 1 and 2 workers interleaved --------------------------------------------
    walls: dict[int, list[float]] = {1: [], 2: []}
    computes: dict[int, list[float]] = {1: [], 2: []}
    payload = 0
    for _ in range(args.repeats):
        for w in (1, 2):
            wall, reps = timed(lambda w=w: replicate(MODEL, n=args.n, seed=1, workers=w,
                                                     params=params, progress=False))
            walls[w].append(wall)
            computes[w].append(sum(r.wall_s for r in reps.runs))
            payload = max(len(pickle.dumps(r)) for r in reps.runs)
            est = reps.estimate("wait_time", entity="Server")
    say()
    say(f"{args.n} replications x {args.customers:,} customers (median of {args.repeats}):")
    say(f"  {'workers':>7} {'wall s':>9} {'reps/s':>8} {'compute s':>10} "
        f"{'overhead/rep ms':>16} {'speed-up':>9}")
    base = statistics.median(walls[1])
    for w in (1, 2):
        wall = statistics.median(walls[w])
        comp = statistics.median(computes[w])
        over = (wall - comp / w) / args.n * 1e3
        say(f"  {w:>7} {wall:>9.2f} {args.n / wall:>8.2f} {comp:>10.2f} {over:>16.1f} "
            f"{base / wall:>8.2f}x")
    say(f"  summary shipped back per replication: {payload / 1024:.1f} kB pickled "
        f"(scalars + sketches; no raw samples)")
    say(f"  (tiny-model payload: {max(len(pickle.dumps(r)) for r in tiny_reps.runs) / 1024:.1f}"
        f" kB)")
    say(f"  check: mean wait {est.mean:.4f} s +- {est.half_width:.4f} (95% CI) vs theory 0.4")
    say(f"  load average at end {os.getloadavg()[0]:.1f}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
