"""A circuit breaker stops a retry storm.

Users call a backend through a `Client` (0.3 s timeout, 3 retries with backoff) and a
`CircuitBreaker` in front of a `TimeoutWrapper`. At t=30 s the backend's dependency
degrades (service 25x slower) for 30 s. Every timeout becomes a retry, so the backend is
offered up to four times the users' load: a retry storm. The breaker counts the
timeouts, opens the circuit and refuses calls at once; the backend's queue drains; trial
calls every 2 s find out when it has recovered.

A breakpoint on the breaker's ``state`` gauge pauses the run the moment the circuit
opens; the queries printed then explain why. The same model without the breaker runs
alongside for comparison.

    python examples/circuit_breaker_storm.py [--seed 1] [--end-time 90]
"""

from __future__ import annotations

import argparse
import sys

from happysimulator import Event, Instant, Server, Simulation, Source
from happysimulator.components.client import Client, ExponentialBackoff
from happysimulator.components.resilience import CircuitBreaker, TimeoutWrapper
from happysimulator.observability import Breakpoint, MetricCondition, ObservabilityConfig
from operators.simtime import just_after  # the instant after now: a range through it

RATE = 30.0  # user calls per second
BASE_SERVICE = 0.02  # seconds, mean; 8 workers: 400 calls/s
SLOWDOWN = (30.0, 60.0, 25.0)  # (from, to, factor): 16 calls/s while degraded


def build_parts(seed: int = 1, end_time: float = 90.0, breaker: bool = True):
    """(simulation, client, breaker or None, backend)."""
    factor = [1.0]

    def service(rng):  # the dependency's latency, slowed down during the incident
        return rng.expovariate(1.0 / (BASE_SERVICE * factor[0]))

    backend = Server("Backend", concurrency=8, service_time=service)
    guard = TimeoutWrapper("Deadline", backend, timeout=0.25)
    cb = CircuitBreaker("Breaker", guard, failure_threshold=10, success_threshold=3,
                        timeout=2.0, half_open_max_requests=3) if breaker else None
    client = Client("Client", cb or guard, timeout=0.3,
                    retry_policy=ExponentialBackoff(max_attempts=4, initial_delay=0.02,
                                                    max_delay=0.2))
    users = Source.poisson(rate=RATE, target=client, name="Users", stop_after=end_time)
    entities = [backend, guard, client] + ([cb] if cb else [])
    sim = Simulation(sources=[users], entities=entities, seed=seed, end_time=end_time,
                     observability=ObservabilityConfig.full())
    start, stop, slow = SLOWDOWN

    def set_factor(value: float):
        def fn(_event: Event) -> None:
            factor[0] = value
        return fn

    sim.schedule(Event.once(Instant.from_seconds(start), "dependency.degraded",
                            set_factor(slow)))
    sim.schedule(Event.once(Instant.from_seconds(stop), "dependency.recovered",
                            set_factor(1.0)))
    return sim, client, cb, backend


def build(seed: int = 1, end_time: float = 90.0, breaker: bool = True) -> Simulation:
    """Model factory (``happysim-rx run examples/circuit_breaker_storm.py:build``)."""
    return build_parts(seed, end_time, breaker)[0]


def _sum(sim, name, entity, t0, t1, **where):
    q = sim.query.metrics(name).from_entity(entity).between(t0, t1)
    return int((q.where(**where) if where else q).aggregate("sum").execute().scalar or 0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--end-time", type=float, default=90.0)
    args = ap.parse_args(argv)
    start, stop, slow = SLOWDOWN
    print(f"Users call at {RATE:g}/s; the backend's dependency is {slow:g}x slower from "
          f"t={start:g}s to t={stop:g}s.")

    sim, client, cb, backend = build_parts(args.seed, args.end_time)
    sim.control.add_breakpoint(Breakpoint(
        metric_condition=MetricCondition("Breaker", "state", "ge", 2)))
    sim.run()
    state = sim.control.get_state()
    if not state.is_paused:
        print("The circuit never opened.")
        return 1
    now = state.current_time.to_seconds()
    q = sim.query
    print(f"\n1. Paused at t={now:.2f}s by: {state.paused_by}")
    lw = max(start, now - 5.0)
    print(f"   why it opened: in [{lw:.1f}, {now:.1f})s the Deadline wrapper timed out "
          f"{_sum(sim, 'timeouts', 'Deadline', lw, just_after(now))} calls, the breaker counted "
          f"{_sum(sim, 'failures', 'Breaker', lw, just_after(now))} failures "
          f"(threshold {cb.failure_threshold} in a row)")
    before = _sum(sim, "requests", "Client", 0.0, start) / start
    during = _sum(sim, "requests", "Client", start, just_after(now)) / max(now - start, 1e-9)
    retries = _sum(sim, "retries", "Client", start, just_after(now))
    depth = q.metrics("queue_depth").from_entity("Backend").between(0, just_after(now)) \
        .aggregate("last").execute().scalar
    print(f"   the storm: attempts {before:.0f}/s before the incident, {during:.0f}/s since "
          f"({retries} retries); backend queue now {depth:g}")
    wait = q.metrics("wait_time").from_entity("Backend").between(start, just_after(now)) \
        .aggregate("p99").execute().scalar
    print(f"   backend wait p99 since the incident: {wait:.2f}s (the client gives up at 0.3s)")

    sim.control.clear_breakpoints()
    summary = sim.control.resume()
    end = summary.end_time_s
    print(f"\n2. Resumed to the end: {summary.stop_reason} at t={end:g}s")
    opened = q.metrics("state").from_entity("Breaker").execute().rows
    changes = [(round(r["time"], 1), {0: "closed", 1: "half-open", 2: "open"}[int(r["value"])])
               for r in opened]
    print(f"   breaker state changes: {changes[:6]}{' ...' if len(changes) > 6 else ''}")
    rejected = _sum(sim, "rejected", "Breaker", 0.0, end)
    print(f"   calls refused at once by the open circuit: {rejected}")

    # the same incident without the breaker
    plain, _, _, _ = build_parts(args.seed, args.end_time, breaker=False)
    plain.run()
    rows = []
    for name, s in (("with breaker", sim), ("without", plain)):
        depth = s.query.metrics("queue_depth").from_entity("Backend").between(start, stop) \
            .aggregate("max").execute().scalar
        served = _sum(s, "successes", "Client", 0.0, end)
        attempts = _sum(s, "requests", "Client", start, stop)
        rows.append((name, depth, attempts, served))
    print("\n3. The incident with and without the breaker:")
    print(f"   {'':14} {'max backend queue':>18} {'attempts during':>16} {'calls served':>13}")
    for name, depth, attempts, served in rows:
        print(f"   {name:14} {depth:>18g} {attempts:>16} {served:>13}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
