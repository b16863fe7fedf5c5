"""Composing operators on live streams, in simulated time, while the simulation runs.

An M/M/1 server (mu = 10/s) sees a load ramp: 5/s until t=30 s, rising linearly to 12/s
at t=90 s (past capacity), then dropping to 4/s. The service objective (SLO) is "99% of
requests answered within 2 s", i.e. an error budget of 1% slow requests.

Four pipelines watch the live streams; every timer they use (window ends, "sustained
for 5 s") is an entry on the simulation's own event heap, so they run in simulated time:

* p99 latency per 10 s window:
  ``sim.observations.metrics("latency").pipe(ops.tumbling_window(10.0, "p99"))``
* a *custom operator*, ``slo_burn_rate``: a plain function returning
  ``Callable[[Observable], Observable]``, built from reactivex's ``map``/``filter`` and
  the ``operators`` sliding window: how fast the error budget burns (1x = exactly on
  budget; 10x = a 30-day budget gone in 3 days);
* a fast-burn alert on it, with hysteresis: ``ops.threshold(">", 10, clear_at=2)``;
* a "queue stuck" condition: ``ops.sustained(ops.compare(">", 25), 5.0)`` on the queue
  depth gauge.

The alert and the queue condition drive ``Breakpoint(when=observable)``: the run pauses
on each, we look around (live values vs the stores' answers), and resume.

    python examples/custom_operator.py [--seed 2] [--burn-threshold 10]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import reactivex
import reactivex.operators as rx

import operators as ops
from happysimulator import ExponentialLatency, LatencyTracker, Profile, Server, Simulation, Source
from happysimulator.observability import Breakpoint, ObservabilityConfig

MU = 10.0  # service rate of the single server (requests per second)
LOAD = [(0.0, 5.0), (30.0, 5.0), (90.0, 12.0), (100.0, 4.0)]  # linear between points
STOP_ARRIVALS = 180.0
SLO_LATENCY_S = 2.0
SLO_OBJECTIVE = 0.99


# ---- the custom operator --------------------------------------------------------------
def slo_burn_rate(
    latency_slo_s: float,
    objective: float,
    window_s: float = 30.0,
    step_s: float = 5.0,
) -> Callable[[reactivex.Observable], reactivex.Observable]:
    """Error-budget burn rate of a latency stream, over a sliding window.

    burn = (fraction of requests slower than ``latency_slo_s`` in the last ``window_s``
    seconds) / (1 - ``objective``), emitted every ``step_s`` seconds of *simulated* time
    as an ``ops.TimedValue(time=window end, value=burn)``; windows without requests
    are skipped, and so are windows flushed early when the stream completes.

    It is an ordinary function returning ``Observable -> Observable``, so it composes
    with ``.pipe`` like any built-in operator. It needs no clock argument: the sliding
    window picks the simulated clock from the subscription's scheduler (the simulation's
    streams subscribe with it by default); pass-through ``clock=`` is there for other
    sources.
    """
    if not 0.0 < objective < 1.0:
        raise ValueError(f"objective must be in (0, 1), got {objective!r}")
    budget = 1.0 - objective

    def operator(source: reactivex.Observable) -> reactivex.Observable:
        return source.pipe(
            rx.map(lambda o: (o.time, 1.0 if o.value > latency_slo_s else 0.0)),
            ops.sliding_window(window_s, step_s, aggregates=["mean", "count"]),
            rx.filter(lambda w: w.count > 0 and not w.partial),
            rx.map(lambda w: ops.TimedValue(w.end, w["mean"] / budget)),
        )

    return operator


# ---- the model --------------------------------------------------------------------------
def build(seed: int) -> tuple[Simulation, Server]:
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(1 / MU))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.with_profile(Profile(LOAD, interpolation="linear"), target=server,
                                 stop_after=STOP_ARRIVALS)
    sim = Simulation(sources=[source], entities=[server, sink], seed=seed,
                     observability=ObservabilityConfig.default())
    return sim, server


def _fmt(x: Any, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--burn-threshold", type=float, default=10.0,
                        help="fast-burn alert threshold (x budget); clears at 2x")
    parser.add_argument("--queue-limit", type=float, default=25.0,
                        help="'queue stuck': depth above this for 5 s")
    args = parser.parse_args(argv)

    sim, server = build(args.seed)
    latency = sim.observations.metrics("latency", source="Sink")
    depth = sim.observations.metrics("queue_depth", source="Server")

    # 1. windowed p99 in simulated time. No clock is given: the window takes the
    #    simulated clock from the subscription's scheduler (sim.scheduler). The second
    #    pipeline names it explicitly; both must agree window for window.
    p99_windows: list[ops.WindowResult] = []
    p99_explicit: list[ops.WindowResult] = []
    latency.pipe(ops.tumbling_window(10.0, "p99")).subscribe(p99_windows.append)
    latency.pipe(ops.tumbling_window(10.0, "p99", clock=sim.clock)).subscribe(
        p99_explicit.append)

    # 2. the custom operator, and 3. an alert with hysteresis on top of it
    burn = latency.pipe(slo_burn_rate(SLO_LATENCY_S, SLO_OBJECTIVE))
    alert = burn.pipe(ops.threshold(">", args.burn_threshold, clear_at=2.0))
    burn_log: list[ops.TimedValue] = []
    timeline: list[tuple[float, str]] = []
    burn.subscribe(burn_log.append)
    alert.subscribe(lambda e: timeline.append((e.time, (
        f"fast-burn alert RAISED: burn {e.value:.1f}x > {args.burn_threshold:g}x"
        if e.active else f"fast-burn alert cleared: burn {e.value:.1f}x <= 2x"))))

    # 4. a condition that must hold for 5 simulated seconds
    stuck = depth.pipe(ops.sustained(ops.compare(">", args.queue_limit), 5.0))
    stuck.subscribe(lambda e: timeline.append((e.time, (
        f"queue depth > {args.queue_limit:g} for 5 s (since t={e.since:.2f}s)"))))

    # conditions drive breakpoints: pause on the alert's raise, and on a stuck queue
    sim.control.add_breakpoint(Breakpoint(
        when=alert.pipe(rx.filter(lambda e: e.active)), name="fast burn"))
    sim.control.add_breakpoint(Breakpoint(when=stuck, name="queue stuck"))

    print(f"M/M/1, mu={MU:g}/s; load {LOAD} (t s, rate/s, linear); arrivals stop at "
          f"t={STOP_ARRIVALS:g}s; seed {args.seed}")
    print(f"SLO: {SLO_OBJECTIVE:.0%} of requests within {SLO_LATENCY_S:g}s "
          f"(error budget {1 - SLO_OBJECTIVE:.0%})\n")

    summary = sim.run()
    pauses = 0
    while summary.stop_reason == "paused":
        pauses += 1
        state = sim.control.get_state()
        now = state.current_time.to_seconds()
        print(f"{pauses}. t={now:7.2f}s  PAUSED by {state.paused_by}")
        last = burn_log[-1]
        print(f"   live burn rate {last.value:.1f}x over [{last.time - 30:g}, {last.time:g})s; "
              f"live p99 of the last closed 10 s window: "
              f"{_fmt(p99_windows[-1].value if p99_windows else None)}s")
        # the same question answered by the stores (the materialized views)
        q = sim.query.metrics("latency").from_entity("Sink").between(max(0.0, now - 30), now)
        r = q.aggregate("p99", "count").execute()
        print(f"   store: p99 latency over the last 30 s = {_fmt(r.value('p99'))}s "
              f"from {r.value('count'):.0f} requests (exact={r.exact})")
        d = sim.query.metrics("queue_depth").from_entity("Server") \
            .between(max(0.0, now - 10), now).aggregate("mean", "max").execute()
        print(f"   store: queue depth over the last 10 s: mean {d.value('mean'):.1f} "
              f"(time-weighted), max {d.value('max'):g}; right now {server.depth}")
        summary = sim.control.resume()

    print(f"\n{pauses + 1}. {summary.stop_reason} at t={summary.end_time_s:.2f}s after "
          f"{summary.total_events_processed} events "
          f"({summary.wall_clock_s:.2f}s of wall-clock time)\n")

    print("Timeline (simulated time):")
    for t, what in sorted(timeline):
        print(f"   t={t:7.2f}s  {what}")

    agree = [(w.start, w.value) for w in p99_windows] == \
        [(w.start, w.value) for w in p99_explicit]
    print(f"\np99 latency per 10 s window (clock from the scheduler == explicit "
          f"clock=sim.clock: {agree}):")
    peak = max((w.value for w in p99_windows if w.value is not None), default=1.0)
    for w in p99_windows:
        bar = "#" * round(30 * (w.value or 0.0) / peak)
        flag = " > SLO" if (w.value or 0.0) > SLO_LATENCY_S else ""
        tail = " (partial: flushed at the end)" if w.partial else ""
        print(f"   [{w.start:5.0f}, {w.end:5.0f})  {w.count:4d} req  "
              f"p99 {_fmt(w.value):>6}s {bar}{flag}{tail}")

    total = sim.query.metrics("latency").aggregate("count").execute().scalar or 0
    bad = sum(1 for v in sink_latencies(sim) if v > SLO_LATENCY_S)
    spent = bad / total / (1 - SLO_OBJECTIVE) if total else 0.0
    worst = max(burn_log, key=lambda b: b.value)
    print(f"\nError budget: {bad} of {total:.0f} requests slower than {SLO_LATENCY_S:g}s "
          f"-> {spent:.1f}x the budget for the whole run; worst 30 s burn "
          f"{worst.value:.1f}x at t={worst.time:g}s")
    return 0


def sink_latencies(sim: Simulation) -> list[float]:
    rows = sim.query.metrics("latency").from_entity("Sink").execute().rows
    return [r["value"] for r in rows]


if __name__ == "__main__":
    sys.exit(main())
