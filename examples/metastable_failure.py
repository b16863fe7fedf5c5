"""A metastable failure, caught while it happens.

Users call a server through a `Client` with a 2 s timeout and up to 3 retries (exponential
backoff). Two short load bursts are absorbed; a longer one pushes the queue
past the timeout, every timeout adds a retry, and the retries alone keep the server
overloaded long after the burst has ended: the system is stuck in a bad but stable state
(a *metastable failure*).

An online anomaly detector (river's PageHinkley on the time-weighted queue depth, with
confirmation) watches the stream and pauses the simulation. We then ask the client's own
series (attempts, timeouts, retries, wasted answers) what happened, follow one request's
attempts in its trace, step through the next events, resume, and write a compact JSON
export for an AI model.

    python examples/metastable_failure.py [--seed 7] [--export out/metastable.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from happysimulator import ExponentialLatency, Profile, Server, Simulation, Source
from happysimulator.components.client import Client, ExponentialBackoff
from happysimulator.observability import (
    AnomalyDetector,
    Breakpoint,
    Exporter,
    ObservabilityConfig,
)

BASE_RATE = 6.0  # calls per second; the server serves 10 per second
BURSTS = [(20.0, 2.0, 14.0), (40.0, 2.0, 14.0)]  # (start, length, rate): absorbed
BLOW_UP = (70.0, 10.0, 20.0)  # long enough to tip the system over
TIMEOUT = 2.0  # seconds the client waits for each attempt
ATTEMPTS = 4  # the first try and 3 retries


def make_client(server: Server) -> Client:
    """The users' client: 2 s timeout, 3 retries after 50 ms, 100 ms and 200 ms."""
    policy = ExponentialBackoff(max_attempts=ATTEMPTS, initial_delay=0.05, max_delay=1.0)
    return Client("Client", target=server, timeout=TIMEOUT, retry_policy=policy)


def load_profile() -> Profile:
    points = [(0.0, BASE_RATE)]
    for start, length, rate in [*BURSTS, BLOW_UP]:
        points += [(start, rate), (start + length, BASE_RATE)]
    return Profile.step(points)


def build_parts(seed: int = 7, end_time: float = 150.0,
                config: ObservabilityConfig | None = None):
    """The model: (simulation, client, server, detector); the detector is not armed."""
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    client = make_client(server)
    source = Source.with_profile(load_profile(), target=client, event_type="call",
                                 name="Users", stop_after=end_time)
    sim = Simulation(sources=[source], entities=[client, server], seed=seed,
                     end_time=end_time, observability=config or ObservabilityConfig.default())
    detector = AnomalyDetector("Server", "queue_depth", window=1.0, confirm_after=8.0)
    return sim, client, server, detector


def build(seed: int = 7, end_time: float = 150.0, observability: str = "default") -> Simulation:
    """The model factory for ``happysim-rx run|mcp examples/metastable_failure.py:build``
    (``--param seed=3``): the simulation alone, nothing armed. `observability` names an
    `ObservabilityConfig` preset: default, full, streaming or disabled."""
    presets = {"default": ObservabilityConfig.default, "full": ObservabilityConfig.full,
               "streaming": ObservabilityConfig.streaming,
               "disabled": ObservabilityConfig.disabled}
    if observability not in presets:
        raise ValueError(f"unknown observability preset {observability!r}; valid: "
                         f"{', '.join(presets)}")
    return build_parts(seed, end_time, presets[observability]())[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end-time", type=float, default=150.0)
    parser.add_argument("--export", type=Path, default=None,
                        help="write the AI export here (default: print its size only)")
    args = parser.parse_args(argv)

    sim, client, server, detector = build_parts(args.seed, args.end_time)
    sim.control.add_breakpoint(Breakpoint(anomaly=detector))
    print(f"Load: {BASE_RATE:g}/s with bursts {BURSTS} and a blow-up {BLOW_UP} "
          "(start s, length s, rate/s); the server does 10/s.")

    sim.run()
    state = sim.control.get_state()
    now = state.current_time.to_seconds()
    if not state.is_paused:
        print("The detector never fired; the run completed.")
        return 1
    report = detector.reports[-1]
    print(f"\nPaused at t={now:.1f}s by: {state.paused_by}")
    print(f"  onset seen at t={report.onset:.1f}s; baseline depth {report.baseline:.2f}, "
          f"now {report.value:.1f} (blow-up began at t={BLOW_UP[0]:g}s: "
          f"detection delay {report.time - BLOW_UP[0]:.1f}s)")

    q = sim.query
    before = q.metrics("queue_depth").from_entity("Server").between(0, BLOW_UP[0]) \
        .aggregate("mean", "max").execute()
    recent = q.metrics("queue_depth").from_entity("Server").between(now - 5, now) \
        .aggregate("mean", "max").execute()
    print(f"  queue depth before the blow-up: mean {before.value('mean'):.2f}, "
          f"max {before.value('max'):g}; last 5 s: mean {recent.value('mean'):.1f}")
    # the client's own series say where the extra work comes from
    def total(name: str, **where: str) -> int:
        qq = q.metrics(name).from_entity("Client").between(0, now)
        return int((qq.where(**where) if where else qq).aggregate("sum").execute().scalar or 0)

    calls = q.metrics("generated").from_entity("Users").between(0, now) \
        .aggregate("sum").execute().scalar
    print(f"  client so far: {int(calls)} calls -> {total('requests')} attempts, "
          f"{total('timeouts')} timeouts, {total('retries')} retries, "
          f"{total('failures', reason='timeout')} given up, "
          f"{total('wasted')} answers nobody waited for")
    retries = q.metrics("retries").from_entity("Client").window(10.0).between(0, now) \
        .aggregate("count").execute()
    print("  retries per 10 s window:", [int(r["count"] or 0) for r in retries.rows])
    lat = q.metrics("latency").from_entity("Client").between(now - 10, now) \
        .aggregate("p50", "p99").execute()
    print(f"  answered calls in the last 10 s: latency p50 {lat.value('p50') or 0:.2f}s, "
          f"p99 {lat.value('p99') or 0:.2f}s (timeout {TIMEOUT:g}s per attempt)")
    retried = [s for s in q.trace_store.between(now - 20, now, "Client")
               if (s.attributes or {}).get("attempt", 1) > 1]
    if retried:
        attempts = [s for s in q.trace_store.trace(retried[-1].trace_id)
                    if s.entity == "Client"]
        print(f"  one retried call (trace {retried[-1].trace_id}): " + "; ".join(
            f"attempt {s.attributes['attempt']} at {s.start:.2f}s {s.attributes['outcome']}"
            for s in sorted(attempts, key=lambda s: s.start)))

    events = sim.control.step(5)
    print(f"\nStepped 5 events: {[(round(e.time.to_seconds(), 3), e.event_type) for e in events]}")

    summary = sim.control.resume()
    print(f"\nResumed to the end: {summary.stop_reason} at t={summary.end_time_s:g}s")
    tail = q.metrics("queue_depth").from_entity("Server") \
        .between(args.end_time - 20, args.end_time).aggregate("mean").execute().scalar
    good = q.metrics("successes").from_entity("Client") \
        .between(args.end_time - 20, args.end_time).aggregate("rate").execute().scalar
    wasted = q.metrics("wasted").from_entity("Client") \
        .between(args.end_time - 20, args.end_time).aggregate("rate").execute().scalar
    print(f"Last 20 s, long after the load went back to {BASE_RATE:g}/s: queue depth "
          f"{tail:.0f}, goodput {good or 0:.1f}/s, wasted responses {wasted or 0:.1f}/s "
          "-> metastable: the retries keep it overloaded.")
    false_alarms = [r for r in detector.reports if r.onset < BLOW_UP[0]]
    print(f"Detector: {detector.candidates} candidate(s), {len(detector.reports)} report(s), "
          f"{len(false_alarms)} false alarm(s) during the absorbed bursts.")

    export = Exporter(sim).summary(budget_bytes=8_000)
    text = json.dumps(export, separators=(",", ":"))  # the size the budget counts
    if args.export:
        args.export.parent.mkdir(parents=True, exist_ok=True)
        args.export.write_text(text)
        print(f"AI export: {len(text)} bytes written to {args.export}")
    else:
        print(f"AI export: {len(text)} bytes, {len(export['series'])} series, "
              f"{len(export['anomalies'])} anomalies (use --export PATH to write it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
