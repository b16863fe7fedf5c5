"""CPU of live span intakes: a `TraceStore` settled after every span (what a live span
subscriber makes it do), N spans, this checkout beside another; and a simulation where
a user entity records a span per request with a span subscriber. Each measurement in a
fresh process, variants interleaved, medians of the rounds; the ratio across N shows
the scaling (4x the spans: ~4x the CPU when linear).

    python benchmarks/bench_live_span_intake.py --baseline /tmp/base12 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def store(n: int) -> float:
    from happysim_rx.observation import Span
    from happysim_rx.stores.trace import TraceStore

    ts = TraceStore()
    t = time.process_time()
    for i in range(n):
        ts.add(Span(i // 3 + 1, None, None, "E", float(i), i + 0.5))
        ts.settle()
    return time.process_time() - t


def sim(n: int) -> float:
    from happysimulator import Simulation, Source
    from happysimulator.core.observed import ObservedEntity
    from happysimulator.observability import ObservabilityConfig

    class Gate(ObservedEntity):
        def handle_event(self, event):
            start = self._sim.now.to_seconds()
            yield 0.001
            self.record_span(event, start)

    g = Gate("G")
    src = Source.poisson(rate=100.0, target=g, stop_after=n / 100.0, name="Users")
    s = Simulation(sources=[src], entities=[g], seed=1,
                   observability=ObservabilityConfig.full())
    s.observations.spans().subscribe(lambda o: None)
    t = time.process_time()
    s.run()
    return time.process_time() - t


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    p.add_argument("--baseline", metavar="REPO")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--sizes", default="2000,8000,32000")
    args = p.parse_args()
    if args.worker:
        kind, n = args.worker
        print((store if kind == "store" else sim)(int(n)))
        return
    repos = {"after": REPO, **({"before": args.baseline} if args.baseline else {})}
    sizes = [int(x) for x in args.sizes.split(",")]
    res: dict = {}
    for _ in range(args.rounds):
        for kind in ("store", "sim"):
            for n in sizes:
                for name, repo in repos.items():
                    out = subprocess.run(
                        [sys.executable, os.path.abspath(__file__), "--worker", kind, str(n)],
                        env={**os.environ, "PYTHONPATH": repo}, cwd="/tmp",
                        capture_output=True, text=True, check=True)
                    res.setdefault((kind, n, name), []).append(float(out.stdout))
    print(f"live span intakes, CPU s, medians of {args.rounds} interleaved rounds")
    for kind in ("store", "sim"):
        for n in sizes:
            row = {name: statistics.median(res[kind, n, name]) for name in repos}
            cells = "  ".join(f"{k} {v:7.3f}" for k, v in row.items())
            ratio = (f"  after/before {row['after'] / row['before']:.2f}x"
                     if "before" in row else "")
            print(f"{kind:5s} {n:6d} spans/requests: {cells}{ratio}")
        for name in repos:
            a, b = (statistics.median(res[kind, n, name]) for n in (sizes[0], sizes[-1]))
            print(f"{kind:5s} {name}: {sizes[-1]}/{sizes[0]} = {b / a:.2f}x CPU "
                  f"for {sizes[-1] / sizes[0]:.0f}x the work")


if __name__ == "__main__":
    main()
