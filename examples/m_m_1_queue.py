"""An M/M/1 queue, observed end to end, with the answers next to queueing theory.

Poisson arrivals (lambda = 8/s) into one server with exponential service (mu = 10/s).
The run pauses on a breakpoint, we query while paused, step, resume, then compare what
the observation stores say with the closed-form M/M/1 results.

    python examples/m_m_1_queue.py [--customers 20000] [--seed 42] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import (
    Breakpoint,
    Exporter,
    MetricCondition,
    ObservabilityConfig,
)

LAMBDA, MU = 8.0, 10.0


def build(customers: int = 20_000, seed: int = 42, arrival_rate: float = LAMBDA,
          service_rate: float = MU) -> Simulation:
    """The model factory (also for ``happysim-rx run|mcp examples/m_m_1_queue.py:build``,
    ``--param customers=5000``): Poisson arrivals into one exponential server."""
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(1 / service_rate))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=arrival_rate, target=server, limit=customers)
    return Simulation(sources=[source], entities=[server, sink], seed=seed,
                      observability=ObservabilityConfig.full())


def theory() -> dict[str, float]:
    rho = LAMBDA / MU
    return {
        "utilization": rho,
        "mean queue depth (Lq)": rho**2 / (1 - rho),
        "mean wait in queue (Wq)": rho / (MU - LAMBDA),
        "mean latency (W)": 1 / (MU - LAMBDA),
        "p99 latency": math.log(100) / (MU - LAMBDA),  # sojourn ~ Exp(mu - lambda)
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="M/M/1 queue, observed")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true", help="print the AI summary as JSON")
    args = parser.parse_args(argv)

    sim = build(args.customers, args.seed)
    sim.control.add_breakpoint(Breakpoint(
        metric_condition=MetricCondition("Server", "queue_depth", "gt", 25), one_shot=True))

    print(f"M/M/1: lambda={LAMBDA:g}/s, mu={MU:g}/s, {args.customers} customers, seed {args.seed}")
    summary = sim.run()
    state = sim.control.get_state()
    if state.is_paused:
        now = state.current_time.to_seconds()
        print(f"\n1. Paused at t={now:.2f}s after {state.events_processed} events: "
              f"{state.paused_by}")
        window = sim.query.metrics("queue_depth").from_entity("Server") \
            .between(max(0.0, now - 10.0), now).aggregate("mean", "max").execute()
        print(f"   queue depth over the last 10 s: mean {window.value('mean'):.2f} "
              f"(time-weighted), max {window.value('max'):g}")
        nxt = sim.control.peek_next(3)
        print("   next events:", [(round(e.time.to_seconds(), 3), e.event_type) for e in nxt])
        stepped = sim.control.step(3)
        print("   stepped:    ", [(round(e.time.to_seconds(), 3), e.event_type) for e in stepped])
        summary = sim.control.resume()
    print(f"\n2. {summary.stop_reason}: t={summary.end_time_s:.1f}s, "
          f"{summary.total_events_processed} events, "
          f"{summary.wall_events_per_second:,.0f} events/s wall clock")

    q = sim.query
    measured = {
        "utilization": q.metrics("in_flight").from_entity("Server").aggregate("mean")
        .execute().scalar,
        "mean queue depth (Lq)": q.metrics("queue_depth").from_entity("Server")
        .aggregate("mean").execute().scalar,
        "mean wait in queue (Wq)": q.metrics("wait_time").aggregate("mean").execute().scalar,
        "mean latency (W)": q.metrics("latency").aggregate("mean").execute().scalar,
        "p99 latency": q.metrics("latency").aggregate("p99").execute().scalar,
    }
    print("\n3. Queries vs theory (at rho = 0.8 busy periods are long, so means converge "
          "slowly: try --customers 200000)")
    print(f"   {'quantity':<26}{'measured':>10}{'theory':>10}{'error':>9}")
    for name, expected in theory().items():
        got = measured[name]
        print(f"   {name:<26}{got:>10.3f}{expected:>10.3f}{(got - expected) / expected:>+9.1%}")

    trace_id = q.spans().limit(1).execute().rows[0]["trace_id"]
    path = sim.query.trace_store.critical_path(trace_id)
    print(f"\n4. Request {trace_id}'s trace: "
          + " -> ".join(f"{s.entity} [{s.start:.3f}, {s.end:.3f}]" for s in path))
    p99 = q.metrics("latency").window(max(1.0, summary.end_time_s / 10)).aggregate("p99") \
        .execute()
    print("   p99 latency per window:", [round(r["p99"], 2) for r in p99.rows
                                        if r["p99"] is not None])

    brief = Exporter(sim).summary(budget_bytes=6_000)
    print(f"\n5. AI summary: {len(json.dumps(brief))} bytes, {len(brief['series'])} series, "
          f"schema {brief['schema']}")
    if args.json:
        print(json.dumps(brief, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
