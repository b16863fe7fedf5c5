"""Cost of breakpoints that never fire, side by side with the same run without them.

M/M/1 (lambda=8, mu=10), default observability, interleaved repeats, medians.

    python benchmarks/bench_breakpoints.py [--customers 100000] [--repeats 5]
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
from happysimulator.observability import (  # noqa: E402
    Breakpoint,
    MetricCondition,
    ObservabilityConfig,
)

VARIANTS = {
    "no breakpoint": lambda: None,
    "time (never reached)": lambda: Breakpoint(time=1e12),
    "metric queue_depth > 1e9": lambda: Breakpoint(
        metric_condition=MetricCondition("Server", "queue_depth", "gt", 1e9)),
    "metric latency > 1e9 for 5s": lambda: Breakpoint(
        metric_condition=MetricCondition("Sink", "latency", "gt", 1e9, for_=5.0)),
    "event_count (never reached)": lambda: Breakpoint(event_count=10**12),
    "event_type 'never'": lambda: Breakpoint(event_type="never"),
}


def run(make_bp, customers: int) -> float:
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=8.0, target=server, limit=customers)
    sim = Simulation(sources=[source], entities=[server, sink], seed=1,
                     observability=ObservabilityConfig.default())
    bp = make_bp()
    if bp is not None:
        sim.control.add_breakpoint(bp)
    gc.collect()
    t0 = time.perf_counter()
    summary = sim.run()
    elapsed = time.perf_counter() - t0
    assert summary.stop_reason == "complete", summary.stop_reason
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    times: dict[str, list[float]] = {k: [] for k in VARIANTS}
    for _ in range(args.repeats):
        for name, make in VARIANTS.items():
            times[name].append(run(make, args.customers))
    base = statistics.median(times["no breakpoint"])
    print(f"M/M/1, {args.customers:,} customers, default observability, "
          f"median of {args.repeats} interleaved runs")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:<30} {args.customers / med:>10,.0f} customers/s  x{med / base:.3f}")


if __name__ == "__main__":
    main()
