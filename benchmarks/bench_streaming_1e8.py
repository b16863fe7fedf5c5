"""A 10^8-event `streaming()` run: memory stays flat, and how many events per second.

    .venv/bin/python benchmarks/bench_streaming_1e8.py                 # 10^8 events (minutes)
    .venv/bin/python benchmarks/bench_streaming_1e8.py --events 2e6    # a quick look

The model is the M/M/1 of the other benchmarks (``Source.poisson -> Server ->
LatencyTracker``, lambda = 8/s, mu = 10/s, seed 42; about 4 events per customer) under
``ObservabilityConfig.streaming()`` (bounded stores). The run is cut into ``--samples``
stretches of equal simulated time with ``sim.control.run_until``; after each stretch the
resident set size (RSS, from /proc) and the events processed so far are printed, so the
memory of the whole run is on one screen. At the end: events/s (CPU and wall), the RSS
at the first and last samples and the peak, the growth from the 10 % mark to the end
(after the stores have filled their bounded windows), and a few queries that must still
answer (the latency p99 over the whole run, a span and an event query over the newest
10 s). Samples go to stdout as they are taken (``--json-out`` writes them all).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

LAMBDA, MU, SEED = 8.0, 10.0, 42
EVENTS_PER_CUSTOMER = 4.0  # measured: 3.97 (arrival, service start, completion, sink)


def rss_mb() -> float:
    """Current resident set size (MB), from /proc (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def build(customers: int):
    from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
    from happysimulator.observability import ObservabilityConfig

    server = Server("Server", concurrency=1, service_time=ExponentialLatency(1 / MU))
    # a bounded tracker: the sink's own list would otherwise grow by design
    sink = LatencyTracker("Sink", max_samples=1000)
    server.downstream = sink
    source = Source.poisson(rate=LAMBDA, target=server, limit=customers)
    return Simulation(sources=[source], entities=[server, sink], seed=SEED,
                      observability=ObservabilityConfig.streaming())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=float, default=1e8, help="events to run (1e8)")
    p.add_argument("--samples", type=int, default=40, help="RSS samples over the run (40)")
    p.add_argument("--json-out", metavar="PATH")
    args = p.parse_args(argv)
    customers = int(args.events / EVENTS_PER_CUSTOMER)
    horizon = customers / LAMBDA
    rss_start = rss_mb()
    sim = build(customers)
    print(f"streaming() M/M/1, {customers:,} customers (~{args.events:.3g} events), "
          f"{horizon:,.0f} s simulated, RSS sampled {args.samples} times "
          f"(Python {sys.version.split()[0]})", flush=True)
    print(f"{'sim time s':>14} {'events':>13} {'RSS MB':>8} {'CPU s':>8} {'ev/s (CPU)':>11}",
          flush=True)
    samples = []
    c0, w0 = time.process_time(), time.perf_counter()
    for i in range(1, args.samples + 1):
        until = horizon * i / args.samples
        summary = sim.control.run_until(until) if i < args.samples else sim.run()
        cpu = time.process_time() - c0
        s = {"sim_time_s": sim.now.to_seconds(), "events": sim.events_processed,
             "rss_mb": rss_mb(), "cpu_s": cpu, "wall_s": time.perf_counter() - w0}
        samples.append(s)
        print(f"{s['sim_time_s']:>14,.0f} {s['events']:>13,} {s['rss_mb']:>8.1f} "
              f"{cpu:>8.1f} {s['events'] / cpu:>11,.0f}", flush=True)
    assert summary.stop_reason == "complete", summary.stop_reason
    cpu, wall = samples[-1]["cpu_s"], samples[-1]["wall_s"]
    events = sim.events_processed
    tenth = samples[max(0, args.samples // 10 - 1)]["rss_mb"]
    q = sim.query
    t0 = time.process_time()
    p99 = q.metrics("latency").from_entity("Sink").aggregate("p99", "count").execute()
    end = q.now()
    spans = q.spans().from_entity("Server").between(end - 10.0, end).execute()
    evs = q.events().between(end - 10.0, end).execute()
    reads_s = time.process_time() - t0
    row = p99.rows[0]
    out = {"events": events, "customers": customers, "cpu_s": cpu, "wall_s": wall,
           "events_per_cpu_s": events / cpu, "events_per_wall_s": events / wall,
           "rss_before_build_mb": rss_start, "rss_first_mb": samples[0]["rss_mb"],
           "rss_at_10pct_mb": tenth, "rss_last_mb": samples[-1]["rss_mb"],
           "rss_min_mb": min(s["rss_mb"] for s in samples),
           "rss_max_mb": max(s["rss_mb"] for s in samples), "peak_rss_mb": peak_rss_mb(),
           "latency_p99": row.get("p99"), "latency_count": row.get("count"),
           "latency_p99_exact": p99.exact, "spans_last_10s": len(spans.rows),
           "events_last_10s": len(evs.rows), "reads_cpu_s": reads_s}
    print(f"\n{events:,} events in {cpu:,.1f} s CPU ({out['events_per_cpu_s']:,.0f} ev/s), "
          f"{wall:,.1f} s wall ({out['events_per_wall_s']:,.0f} ev/s)")
    print(f"RSS: first sample {out['rss_first_mb']:.1f} MB, at 10 % {tenth:.1f} MB, last "
          f"{out['rss_last_mb']:.1f} MB (min {out['rss_min_mb']:.1f}, max "
          f"{out['rss_max_mb']:.1f}, peak incl. the reads {out['peak_rss_mb']:.1f}); from 10 % "
          f"to the end: {out['rss_last_mb'] - tenth:+.1f} MB")
    print(f"reads after the run: latency p99 {row.get('p99')} over {row.get('count'):,} "
          f"samples (exact={p99.exact}, bound {p99.error_bound}); {len(spans.rows)} spans and "
          f"{len(evs.rows)} events in the newest 10 s; {reads_s * 1e3:.0f} ms CPU")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"summary": out, "samples": samples}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
