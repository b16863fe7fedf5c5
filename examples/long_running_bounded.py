"""A long run with flat memory: 10 million events on bounded (streaming) stores.

An M/M/1 queue at rho = 0.8 (lambda = 8/s, mu = 10/s) runs for ``--events`` model
events (default 10^7, about 2.5 million requests and 300,000 s of simulated time) with
``ObservabilityConfig.streaming()``: every metric goes into a bounded store (a ring of
recent raw samples plus rollups of mergeable quantile sketches), and the span and event
stores keep only the most recent entries. Memory does not depend on the run length.

The run advances in chunks (``sim.run(max_events=...)``); after each one a progress line
shows simulated time, events, events per wall-clock second and the resident memory (RSS,
from /proc/self/statm). At the end the stores answer queries over the whole run (whose
quantiles are approximate, with the error bound the result reports) and over the recent
past (exact: the raw ring still covers it), next to M/M/1 theory; and the RSS growth
between 10% and 100% of the run is printed.

    python examples/long_running_bounded.py [--events 10000000] [--progress 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.observability import ObservabilityConfig

LAMBDA, MU = 8.0, 10.0


def rss_mb() -> float:
    """Resident set size in MB (Linux /proc; falls back to the peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):  # pragma: no cover - not Linux
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (2**20 if sys.platform == "darwin" else 2**10)


def build(seed: int) -> tuple[Simulation, Sink]:
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(1 / MU))
    sink = Sink("Sink")
    server.downstream = sink
    source = Source.poisson(rate=LAMBDA, target=server)  # open-ended: we stop it
    sim = Simulation(sources=[source], entities=[server, sink], seed=seed,
                     observability=ObservabilityConfig.streaming())
    return sim, sink


def theory() -> dict[str, float]:
    """M/M/1: the sojourn time is Exp(mu - lambda), so its q-quantile is -ln(1-q)/(mu-lambda)."""
    rho, gap = LAMBDA / MU, MU - LAMBDA
    return {"p50": math.log(2) / gap, "p99": math.log(100) / gap, "p999": math.log(1000) / gap,
            "mean": 1 / gap, "Lq": rho**2 / (1 - rho), "rho": rho}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000,
                        help="model events to process (default 10^7)")
    parser.add_argument("--progress", type=int, default=20,
                        help="progress lines over the run (one every events/progress events)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-sink-data", action="store_true",
                        help="keep Sink's legacy exact latency list (grows with the run)")
    args = parser.parse_args(argv)
    if args.events < 10 or args.progress < 1:
        parser.error("--events must be >= 10 and --progress >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sim, sink = build(args.seed)
    if args.keep_sink_data:
        # streaming() bounds Sink's legacy latency list to recent samples; this keeps all
        sink.max_samples = None
    cfg = sim.observability
    print(f"M/M/1 rho={LAMBDA / MU:g} (lambda={LAMBDA:g}/s, mu={MU:g}/s), {args.events:,} "
          f"events on ObservabilityConfig.streaming(): {cfg.raw_samples} raw samples per "
          f"series, {cfg.rollup_s:g}s rollups, quantile sketches +-{cfg.relative_accuracy:.1%}")
    print(f"{'sim time (s)':>14} {'events':>12} {'events/s':>10} {'RSS MB':>8}")

    chunk = max(1, args.events // args.progress)
    rss_at_10pct: float | None = None
    rss_after_10pct: list[tuple[int, float]] = []  # (events, RSS MB)
    rss_start = rss_mb()
    t0 = time.perf_counter()
    while sim.events_processed < args.events:
        sim.run(max_events=min(chunk, args.events - sim.events_processed))
        done = sim.events_processed
        rss = rss_mb()
        if rss_at_10pct is None and done >= args.events // 10:
            rss_at_10pct = rss
        if rss_at_10pct is not None:
            rss_after_10pct.append((done, rss))
        rate = done / max(time.perf_counter() - t0, 1e-9)
        print(f"{sim.now.to_seconds():>14,.0f} {done:>12,} {rate:>10,.0f} {rss:>8.1f}",
              flush=True)
        if sim.control.is_complete:
            break
    wall = time.perf_counter() - t0
    rss_end = rss_mb()
    now = sim.now.to_seconds()

    th = theory()
    q = sim.query
    whole = q.metrics("latency").from_entity("Sink").aggregate(
        "count", "mean", "p50", "p99", "p999").execute()
    recent_from = now - 200.0
    recent = q.metrics("latency").from_entity("Sink").between(recent_from, now) \
        .aggregate("count", "p50", "p99").execute()
    depth = q.metrics("queue_depth").from_entity("Server").aggregate("mean").execute()
    busy = q.metrics("in_flight").from_entity("Server").aggregate("mean").execute()

    print(f"\nDone: {sim.events_processed:,} events, {now:,.0f} simulated seconds, "
          f"{wall:.1f}s wall clock ({sim.events_processed / wall:,.0f} events/s)")
    print(f"\nLatency over the whole run ({whole.value('count'):,.0f} requests): "
          f"exact={whole.exact}, error_bound={whole.error_bound} (relative, quantiles)")
    print(f"   {'':>6}{'measured':>10}{'theory':>10}{'error':>9}")
    for name in ("mean", "p50", "p99", "p999"):
        got, want = whole.value(name), th[name]
        print(f"   {name:>6}{got:>10.3f}{want:>10.3f}{(got - want) / want:>+9.1%}")
    print("   (the far tail converges slowly: slow requests come in correlated busy periods)")
    print(f"Latency over the last 200 s [{recent_from:,.0f}, {now:,.0f}): "
          f"{recent.value('count'):.0f} requests, p50 {recent.value('p50'):.3f}s, "
          f"p99 {recent.value('p99'):.3f}s, exact={recent.exact} (still in the raw ring)")
    print(f"Queue depth (time-weighted mean): {depth.scalar:.3f} vs Lq {th['Lq']:.3f}; "
          f"utilization {busy.scalar:.3f} vs rho {th['rho']:.3f} "
          f"(weighting={depth.weighting}, exact={depth.exact})")
    store = q.metric_store
    print(f"Stores: metrics {type(store).__name__}, spans kept "
          f"{len(q.trace_store):,} (the last {cfg.trace_capacity:,} traces), "
          f"events kept {len(q.event_store):,} (capacity {cfg.event_capacity:,})")
    # what the stores hold is deterministic (same seed, same bytes), unlike the RSS below
    print(f"Metric store: {store.nbytes() / 1024:,.0f} kB in {len(store.select('*', '*'))} "
          f"series (raw rings of {cfg.raw_samples} samples plus rollups)")

    base = rss_at_10pct if rss_at_10pct is not None else rss_start
    growth = rss_end - base
    print(f"\nRSS: {rss_start:.1f} MB after setup, {base:.1f} MB at 10% of the run, "
          f"{rss_end:.1f} MB at 100% -> growth over the last 90%: {growth:+.1f} MB")
    if len(rss_after_10pct) >= 3:
        # single readings swing with flush batches; the trend is what would show a leak
        ev = np.array([e for e, _ in rss_after_10pct], dtype=float)
        mb = np.array([r for _, r in rss_after_10pct])
        slope = np.polyfit(ev / 1e6, mb, 1)[0]
        print(f"RSS over the last 90%: {mb.min():.1f} to {mb.max():.1f} MB, trend "
              f"{slope:+.2f} MB per million events (least squares)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
