"""Brute-force reference for 0.2.5's ``metric_collection_pipeline`` example.

A batch of ``n`` tasks arrives at once at a station of ``c`` FIFO servers with exponential
service (mean ``m1``), then at a second such station (mean ``m2``). Printed: the mean
batch duration (last task out) and the mean task latency over many replications. It is
plain heapq code with no simulator, to check what the example's executors should give.

    python benchmarks/batch_tandem_reference.py [--reps 2000] [--seed 1]
"""

from __future__ import annotations

import argparse
import heapq
import random


def one_batch(rng: random.Random, n: int = 100, c: int = 10, m1: float = 0.05,
              m2: float = 0.1) -> tuple[float, float]:
    """(batch duration, mean task latency) of one batch."""
    free = [0.0] * c  # when each server of station 1 is next free
    out1 = []
    for _ in range(n):  # all arrive at 0: FIFO order = start order
        start = heapq.heappop(free)
        end = start + rng.expovariate(1 / m1)
        heapq.heappush(free, end)
        out1.append(end)
    free = [0.0] * c
    ends = []
    for arrival in sorted(out1):  # station 2 serves in arrival order
        start = max(arrival, heapq.heappop(free))
        end = start + rng.expovariate(1 / m2)
        heapq.heappush(free, end)
        ends.append(end)
    return max(ends), sum(ends) / n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    runs = [one_batch(rng) for _ in range(args.reps)]
    print(f"mean batch duration {sum(d for d, _ in runs) / len(runs):.3f} s, "
          f"mean task latency {sum(x for _, x in runs) / len(runs):.3f} s "
          f"({args.reps} batches of 100 tasks, 10 x exp(0.05 s) then 10 x exp(0.1 s))")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
