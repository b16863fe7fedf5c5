"""Where observability's cost goes: each recording feature alone, side by side.

M/M/1 (lambda=8, mu=10), the same seed for every variant, interleaved repeats, medians.
For each variant: the run (construction excluded) as a ratio to ``disabled()``, and the
first reads after it, which build what recording deferred: three metric queries and the
first read of the trace store (spans are materialized then) or of the event store.

    .venv/bin/python benchmarks/bench_obs_split.py [--customers 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source  # noqa: E402
from happysimulator.observability import ObservabilityConfig as Config  # noqa: E402

VARIANTS = {
    "disabled": Config.disabled,
    "metrics only": lambda: Config.default().replace(traces=False),
    "traces only": lambda: Config.default().replace(metrics=False),
    "events only": lambda: Config.full().replace(metrics=False, traces=False),
    "default": Config.default,
    "full": Config.full,
    "streaming": Config.streaming,
}


def run(config: Config, customers: int) -> tuple[float, float]:
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=8.0, target=server, stop_after=customers / 8.0)
    sim = Simulation(sources=[source], entities=[server, sink], seed=42,
                     observability=config)
    gc.collect()
    t0 = time.perf_counter()
    summary = sim.run()
    elapsed = time.perf_counter() - t0
    assert summary.stop_reason == "complete", summary.stop_reason
    t0 = time.perf_counter()
    if config.enabled and config.metrics:
        for name in ("wait_time", "latency", "queue_depth"):
            sim.query.metrics(name).aggregate("mean", "p99").execute()
    if config.enabled and config.traces:
        len(sim.query.trace_store)
    if config.enabled and config.events:
        len(sim.query.event_store)
    return elapsed, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    runs: dict[str, list[float]] = {k: [] for k in VARIANTS}
    reads: dict[str, list[float]] = {k: [] for k in VARIANTS}
    for _ in range(args.repeats):
        for name, make in VARIANTS.items():
            r, q = run(make(), args.customers)
            runs[name].append(r)
            reads[name].append(q)
    base = statistics.median(runs["disabled"])
    print(f"M/M/1, {args.customers:,} customers, median of {args.repeats} interleaved runs")
    print(f"  {'variant':<14} {'run s':>7} {'x disabled':>10} {'ns/customer':>12} "
          f"{'first reads s':>14} {'run+reads x':>12}")
    for name in VARIANTS:
        r, q = statistics.median(runs[name]), statistics.median(reads[name])
        extra = (r - base) / args.customers * 1e9
        print(f"  {name:<14} {r:>7.3f} {r / base:>10.2f} {extra:>12,.0f} {q:>14.3f} "
              f"{(r + q) / base:>12.2f}")


if __name__ == "__main__":
    main()
