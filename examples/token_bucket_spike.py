"""A token bucket sheds a traffic spike.

Users call a backend (4 workers, ~66 calls/s) through a `Client` and a
`RateLimitedEntity` with a `TokenBucketPolicy` (bursts of 40, 50 calls/s sustained, a
short queue of 25). At t=10 s the load jumps from 20/s to 150/s for 3 s. The bucket
absorbs the first burst, then admits at its refill rate, holds what its queue can take
and refuses the rest at once: the backend stays within its capacity and the calls that
get through stay fast.

A breakpoint on the limiter's ``tokens`` gauge pauses the run when the bucket runs dry;
the queries printed then show the spike, what the limiter did about it and what the
backend saw. The same spike without the limiter runs alongside for comparison.

    python examples/token_bucket_spike.py [--seed 2] [--end-time 30]
"""

from __future__ import annotations

import argparse
import sys

from happysimulator import ExponentialLatency, Profile, Server, Simulation, Source
from happysimulator.components.client import Client
from happysimulator.components.rate_limiter import (
    NullRateLimiter,
    RateLimitedEntity,
    TokenBucketPolicy,
)
from happysimulator.observability import Breakpoint, MetricCondition, ObservabilityConfig
from operators.simtime import just_after  # the instant after now: a range through it

BASE, SPIKE = 20.0, 150.0  # calls per second
SPIKE_AT, SPIKE_FOR = 10.0, 3.0
CAPACITY, REFILL, QUEUE = 40, 50.0, 25


def build_parts(seed: int = 2, end_time: float = 30.0, limited: bool = True):
    """(simulation, client, limiter, backend)."""
    backend = Server("Backend", concurrency=4, service_time=ExponentialLatency(0.06))
    if limited:
        limiter = RateLimitedEntity("Limiter", backend,
                                    TokenBucketPolicy(capacity=CAPACITY, refill_rate=REFILL),
                                    queue_capacity=QUEUE)
    else:
        limiter = NullRateLimiter("Limiter", backend)
    client = Client("Client", limiter, timeout=2.0)
    profile = Profile.step([(0.0, BASE), (SPIKE_AT, SPIKE), (SPIKE_AT + SPIKE_FOR, BASE)])
    users = Source.with_profile(profile, target=client, name="Users", stop_after=end_time)
    sim = Simulation(sources=[users], entities=[backend, limiter, client], seed=seed,
                     end_time=end_time, observability=ObservabilityConfig.full())
    return sim, client, limiter, backend


def build(seed: int = 2, end_time: float = 30.0, limited: bool = True) -> Simulation:
    """Model factory (``happysim-rx run examples/token_bucket_spike.py:build``)."""
    return build_parts(seed, end_time, limited)[0]


def _agg(sim, name, entity, t0, t1, how="sum", **where):
    q = sim.query.metrics(name).from_entity(entity).between(t0, t1)
    return (q.where(**where) if where else q).aggregate(how).execute().scalar


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--end-time", type=float, default=30.0)
    args = ap.parse_args(argv)
    print(f"Users call at {BASE:g}/s, {SPIKE:g}/s from t={SPIKE_AT:g}s for {SPIKE_FOR:g}s; "
          f"token bucket: {CAPACITY} tokens, {REFILL:g}/s, queue {QUEUE}.")

    sim, client, limiter, backend = build_parts(args.seed, args.end_time)
    sim.control.add_breakpoint(Breakpoint(
        metric_condition=MetricCondition("Limiter", "tokens", "lt", 1)))
    sim.run()
    state = sim.control.get_state()
    if not state.is_paused:
        print("The bucket never ran dry.")
        return 1
    now = state.current_time.to_seconds()
    t1 = just_after(now)
    print(f"\n1. Paused at t={now:.2f}s by: {state.paused_by}")
    offered = (_agg(sim, "generated", "Users", SPIKE_AT, t1) or 0) / max(now - SPIKE_AT, 1e-9)
    print(f"   the spike: users offer {offered:.0f}/s since t={SPIKE_AT:g}s "
          f"({_agg(sim, 'generated', 'Users', 0, SPIKE_AT) / SPIKE_AT:.0f}/s before)")
    print(f"   the bucket: {_agg(sim, 'tokens', 'Limiter', 0, t1, 'last'):.2f} tokens left; "
          f"{_agg(sim, 'admitted', 'Limiter', SPIKE_AT, t1) or 0:.0f} calls admitted since "
          f"the spike began, {_agg(sim, 'delayed', 'Limiter', SPIKE_AT, t1) or 0:.0f} held")
    print(f"   the backend: queue {_agg(sim, 'queue_depth', 'Backend', 0, t1, 'last'):g}, "
          f"{_agg(sim, 'in_flight', 'Backend', 0, t1, 'last'):g} in service")

    sim.control.clear_breakpoints()
    summary = sim.control.resume()
    end = summary.end_time_s
    print(f"\n2. Resumed to the end: {summary.stop_reason} at t={end:g}s")
    w0, w1 = SPIKE_AT, SPIKE_AT + SPIKE_FOR + 2.0
    print(f"   in [{w0:g}, {w1:g})s the limiter admitted {_agg(sim, 'admitted', 'Limiter', w0, w1):.0f}, "
          f"held {_agg(sim, 'delayed', 'Limiter', w0, w1):.0f} (wait p99 "
          f"{_agg(sim, 'wait_time', 'Limiter', w0, w1, 'p99'):.2f}s) and refused "
          f"{_agg(sim, 'rejected', 'Limiter', w0, w1):.0f}")
    print(f"   the client saw {client.stats.failures} calls refused "
          f"(reason rate_limited: {_agg(sim, 'failures', 'Client', 0, end, reason='rate_limited'):.0f})")

    plain, _, _, _ = build_parts(args.seed, args.end_time, limited=False)
    plain.run()
    print("\n3. The spike with and without the limiter:")
    print(f"   {'':16} {'max backend queue':>18} {'latency p99':>12} {'served':>7} {'refused':>8}")
    for name, s in (("token bucket", sim), ("no limiter", plain)):
        depth = _agg(s, "queue_depth", "Backend", 0, end, "max")
        p99 = _agg(s, "latency", "Client", w0, w1, "p99")
        served = _agg(s, "successes", "Client", 0, end) or 0
        refused = _agg(s, "failures", "Client", 0, end) or 0
        print(f"   {name:16} {depth:>18g} {p99:>11.2f}s {served:>7.0f} {refused:>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
