"""A load balancer loses a backend, and its health checks take it out.

Users call three backends through a `Client` (0.5 s timeout, 2 retries) and a
round-robin `LoadBalancer` with a `HealthChecker` (a probe per backend every second, out
after 2 failed probes, back after 2 good ones). A `FaultSchedule` crashes backend S1 at
t=20 s (``CrashNode("S1", at=20, restart_at=40)``): whatever reaches it, or waits or is
in service there, is lost, so a third of the calls time out and are retried. At t=40 s
it restarts, empty.

A breakpoint on the balancer's ``healthy_backends`` gauge pauses the run when the
checker takes S1 out; the queries printed then tell how long that took and what it
cost: the schedule's ``fault.start`` event and ``lost`` counter, the checker's probes,
the balancer's routing and the client's timeouts and retries.

    python examples/load_balancer_fault.py [--seed 3] [--end-time 60]
"""

from __future__ import annotations

import argparse
import sys

from happysimulator import ExponentialLatency, Server, Simulation, Source
from happysimulator.components.client import Client, FixedRetry
from happysimulator.components.load_balancer import HealthChecker, LoadBalancer
from happysimulator.faults import CrashNode, FaultSchedule
from happysimulator.observability import Breakpoint, MetricCondition, ObservabilityConfig
from operators.simtime import just_after  # the instant after now: a range through it

RATE = 60.0  # calls per second; each backend serves ~40/s
CRASH_AT, RESTART_AT = 20.0, 40.0


def build_parts(seed: int = 3, end_time: float = 60.0):
    """(simulation, client, balancer, checker, backends)."""
    backends = [Server(f"S{i}", concurrency=2, service_time=ExponentialLatency(0.05))
                for i in range(3)]
    lb = LoadBalancer("LB", backends=backends)
    checker = HealthChecker("Health", lb, interval=1.0, timeout=0.3,
                            unhealthy_threshold=2, healthy_threshold=2)
    client = Client("Client", lb, timeout=0.5, retry_policy=FixedRetry(3, 0.05))
    users = Source.poisson(rate=RATE, target=client, name="Users", stop_after=end_time)
    faults = FaultSchedule("Faults")
    faults.add(CrashNode("S1", at=CRASH_AT, restart_at=RESTART_AT))
    sim = Simulation(sources=[users], entities=[*backends, lb, checker, client], seed=seed,
                     end_time=end_time, observability=ObservabilityConfig.full(),
                     fault_schedule=faults)
    sim.schedule(checker.start())
    return sim, client, lb, checker, backends


def build(seed: int = 3, end_time: float = 60.0) -> Simulation:
    """Model factory (``happysim-rx run examples/load_balancer_fault.py:build``)."""
    return build_parts(seed, end_time)[0]


def _sum(sim, name, source, t0, t1, **where):
    q = sim.query.metrics(name).from_entity(source).between(t0, t1)
    return int((q.where(**where) if where else q).aggregate("sum").execute().scalar or 0)


def _last(sim, name, entity):
    rows = sim.query.metrics(name).from_entity(entity).execute().rows
    return int(rows[-1]["value"]) if rows else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--end-time", type=float, default=60.0)
    args = ap.parse_args(argv)
    print(f"Users call at {RATE:g}/s over 3 backends; S1 crashes at t={CRASH_AT:g}s and "
          f"restarts at t={RESTART_AT:g}s.")

    sim, client, lb, checker, backends = build_parts(args.seed, args.end_time)
    sim.control.add_breakpoint(Breakpoint(
        metric_condition=MetricCondition("LB", "healthy_backends", "lt", 3)))
    sim.run()
    state = sim.control.get_state()
    if not state.is_paused:
        print("No backend was ever taken out.")
        return 1
    now = state.current_time.to_seconds()
    t1 = just_after(now)
    q = sim.query
    started = q.events("fault.start").from_entity("Faults").execute().rows
    crash_t = started[0]["time"]
    print(f"\n1. Paused at t={now:.2f}s by: {state.paused_by}")
    print(f"   fault.start {started[0]['value']} at t={crash_t:g}s "
          f"(active_faults {_last(sim, 'active_faults', 'Faults')}): out of rotation "
          f"{now - crash_t:.2f}s later")
    print(f"   events addressed to crashed S1 so far: "
          f"{_sum(sim, 'lost', 'Faults', crash_t, t1, entity='S1')} lost (calls and probes), "
          f"{_sum(sim, 'dropped', 'S1', crash_t, t1)} waiting there discarded")
    checks = {o: _sum(sim, "checks", "Health", CRASH_AT, t1, outcome=o)
              for o in ("passed", "timed_out")}
    print(f"   probes since the crash: {checks['timed_out']} timed out, "
          f"{checks['passed']} passed (out after {checker.unhealthy_threshold} in a row)")
    routed = {b.name: _sum(sim, "routed", "LB", CRASH_AT, t1, backend=b.name)
              for b in backends}
    print(f"   calls routed since the crash: {routed} (those to S1 were lost)")
    print(f"   what the users felt: {_sum(sim, 'timeouts', 'Client', CRASH_AT, t1)} timeouts, "
          f"{_sum(sim, 'retries', 'Client', CRASH_AT, t1)} retries, "
          f"{_sum(sim, 'failures', 'Client', CRASH_AT, t1)} calls failed")

    sim.control.clear_breakpoints()
    summary = sim.control.resume()
    end = summary.end_time_s
    print(f"\n2. Resumed to the end: {summary.stop_reason} at t={end:g}s")
    ended = q.events("fault.end").from_entity("Faults").execute().rows
    print(f"   fault.end {ended[0]['value']} at t={ended[0]['time']:g}s, active_faults "
          f"{_last(sim, 'active_faults', 'Faults')}; lost on S1 in all: "
          f"{_sum(sim, 'lost', 'Faults', 0.0, end, entity='S1')}")
    health = q.metrics("healthy").from_entity("Health").where(backend="S1").execute().rows
    print("   S1 in rotation:", [(round(r["time"], 2), bool(r["value"])) for r in health])
    out_at = health[0]["time"] if health else now
    back_at = health[1]["time"] if len(health) > 1 else end
    routed = {b.name: _sum(sim, "routed", "LB", out_at, back_at, backend=b.name)
              for b in backends}
    settled = out_at + client.timeout  # the last calls lost on S1 have timed out by then
    lost_rate = _sum(sim, "timeouts", "Client", CRASH_AT, settled) / (settled - CRASH_AT)
    out_rate = _sum(sim, "timeouts", "Client", settled, back_at) / (back_at - settled)
    print(f"   while S1 was out ([{out_at:.1f}, {back_at:.1f})s): routed {routed}; client "
          f"timeouts {lost_rate:.2f}/s from the crash until the last lost call timed out, "
          f"{out_rate:.2f}/s after (two backends carry the load)")
    lat = q.metrics("latency").from_entity("Client")
    for label, a, b in (("before the crash", 0.0, CRASH_AT),
                        ("crash to removal", CRASH_AT, out_at),
                        ("after S1 is back", back_at, end)):
        p99 = lat.between(a, b).aggregate("p99").execute().scalar
        print(f"   client latency p99 {label:17}: {p99:.3f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
