"""A call center's day, and the moment callers start hanging up.

Calls arrive all day (Poisson), listen to a 30 s greeting, then wait for an agent. Agents
work in shifts (fewer at the start and the end of the day); each caller has an
exponential patience and hangs up when it runs out. The phone system breaks down at
random times and takes a while to repair; while it is down, no agent can take a call.

An online anomaly detector watches the abandonment counter (hang-ups per 5 minutes) and
pauses the simulation when abandonment rises (it learns the normal level in the first
hour; the phone system's failures start after that). We then ask the questions an operations
manager would: is the phone system up, how many agents are on duty, how long is the
line, how long did the callers who hung up wait — before and after the jump.

    python examples/call_center.py [--seed 2] [--hours 8]
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from happysimulator import Entity, Event, ExponentialLatency, Simulation, Sink, Source
from happysimulator.components.industrial import (
    BreakdownScheduler,
    Shift,
    ShiftedServer,
    ShiftSchedule,
)
from happysimulator.observability import AnomalyDetector, Breakpoint, ObservabilityConfig
from operators.simtime import just_after  # the instant after now: a range through it

CALLS_PER_HOUR = 90.0
HANDLE_TIME_S = 240.0  # mean talk time (exponential)
PATIENCE_S = 180.0  # mean patience in the queue (exponential)
GREETING_S = 30.0
HOUR = 3600.0


def shifts(hours: float) -> ShiftSchedule:
    """Early shift 7 agents, main shift 9 from hour 2, late shift 8 from hour 6."""
    return ShiftSchedule([Shift(0.0, 2 * HOUR, 7), Shift(2 * HOUR, 6 * HOUR, 9),
                          Shift(6 * HOUR, max(hours, 6.5) * HOUR, 8)])


class Greeting(Entity):
    """The recorded greeting: every caller listens `GREETING_S` seconds, and brings an
    exponential patience of mean `PATIENCE_S` for the wait that follows (drawn from the
    simulation's random stream)."""

    def __init__(self, name: str, agents: Entity) -> None:
        super().__init__(name)
        self.agents = agents

    def handle_event(self, event: Event) -> Any:
        # (patience counts from dialling: the greeting's time is added to it)
        event.context["patience_s"] = GREETING_S + self.rng.expovariate(1.0 / PATIENCE_S)
        yield GREETING_S
        return [self.forward(event, self.agents)]


def build_parts(seed: int = 2, hours: float = 8.0,
                config: ObservabilityConfig | None = None):
    """(simulation, agents, phone system breakdowns, detector); nothing armed."""
    answered, abandoned = Sink("Answered"), Sink("Abandoned")
    agents = ShiftedServer("Agents", schedule=shifts(hours),
                           service_time=ExponentialLatency(HANDLE_TIME_S),
                           downstream=answered, reneged_target=abandoned)
    phones = BreakdownScheduler("PhoneSystem", target=agents,
                                mean_time_to_failure=3 * HOUR, mean_repair_time=1800.0)
    greeting = Greeting("Greeting", agents)
    end = hours * HOUR
    source = Source.poisson(rate=CALLS_PER_HOUR / HOUR, target=greeting, name="Callers",
                            stop_after=end)
    sim = Simulation(sources=[source], entities=[greeting, agents, phones, answered,
                                                 abandoned],
                     seed=seed, end_time=end, observability=config or ObservabilityConfig.default())
    # the detector learns normal abandonment in the first hour; the phone system's
    # failures are counted from then on (its first failure an exponential time later)
    sim.schedule(Event.once(HOUR, "PhonesInService", lambda _e: phones.start_event()))
    from river.drift import PageHinkley

    # hang-ups per 5 min against a baseline learnt over the first hour; Page-Hinkley on
    # standardized windows, alarm at 8 baseline deviations accumulated (a few windows
    # of an outage), confirmed 5 min later if still high
    detector = AnomalyDetector(
        "Agents", "reneged", window=300.0, warmup=12, confirm_after=300.0, k_sigma=3.0,
        min_increase=1.0,
        model=PageHinkley(min_instances=12, delta=0.5, threshold=8.0, mode="up"))
    return sim, agents, phones, detector


def build(seed: int = 2, hours: float = 8.0) -> Simulation:
    """Model factory (``happysim-rx run examples/call_center.py:build``)."""
    return build_parts(seed, hours)[0]


def _fmt(x: float | None, spec: str = ".1f") -> str:
    return "-" if x is None else format(x, spec)


def explain(sim: Simulation, now: float, onset: float) -> None:
    """Print the queries that explain a rise in abandonment at `onset`."""
    q = sim.query
    before = (max(0.0, onset - 1800.0), onset)
    after = (onset, just_after(now))

    def agg(entity: str, name: str, how: str, span: tuple[float, float]) -> Any:
        return q.metrics(name).from_entity(entity).between(*span).aggregate(how) \
            .execute().scalar

    print("\nWhy? The same questions for the half hour before the onset and since:")
    print(f"  {'query':66s} {'before':>8s} {'since':>8s}")
    rows = [
        ("PhoneSystem.up                 mean  (1 = working)", "PhoneSystem", "up", "mean"),
        ("Agents.capacity                mean  (agents on duty)", "Agents", "capacity", "mean"),
        ("Agents.queue_depth             mean  (callers waiting)", "Agents", "queue_depth",
         "mean"),
        ("Agents.in_flight               mean  (calls being answered)", "Agents",
         "in_flight", "mean"),
        ("Agents.reneged                 rate  (hang-ups per second)", "Agents", "reneged",
         "rate"),
        ("Agents.patience                mean  (s waited by those who hung up)", "Agents",
         "patience", "mean"),
        ("Agents.wait_time               p90   (s waited by those answered)", "Agents",
         "wait_time", "p90"),
    ]
    for label, entity, name, how in rows:
        print(f"  {label:66s} {_fmt(agg(entity, name, how, before), '.3g'):>8s} "
              f"{_fmt(agg(entity, name, how, after), '.3g'):>8s}")
    downs = q.metrics("up").from_entity("PhoneSystem").between(0.0, just_after(now)).execute().rows
    outages = [r["time"] for r in downs if r["value"] == 0.0]
    repairs = [r["time"] for r in downs if r["value"] == 1.0 and r["time"] > 0.0]
    print(f"  PhoneSystem.up raw rows: outages began at {[round(t) for t in outages]} s, "
          f"repairs at {[round(t) for t in repairs]} s")
    windows = q.metrics("reneged").from_entity("Agents").window(600.0) \
        .between(max(0.0, onset - 3600.0), just_after(now)).aggregate("count").execute()
    print("  Agents.reneged per 10 min, the hour before and since: "
          f"{[int(r['count'] or 0) for r in windows.rows]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--hours", type=float, default=8.0)
    args = parser.parse_args(argv)

    sim, agents, phones, detector = build_parts(args.seed, args.hours)
    sim.control.add_breakpoint(Breakpoint(anomaly=detector))
    print(f"{CALLS_PER_HOUR:g} calls/h, talk time {HANDLE_TIME_S:g} s, patience "
          f"{PATIENCE_S:g} s (means); shifts {[(s.start_s / HOUR, s.capacity) for s in agents.schedule.shifts]} "
          "(start hour, agents); the phone system fails about every 3 h.")
    sim.run()
    state = sim.control.get_state()
    if not state.is_paused:
        print("Abandonment never rose enough for the detector; the day ended quietly.")
    else:
        now = state.current_time.to_seconds()
        report = detector.reports[-1]
        print(f"\nPaused at t={now:.0f} s ({now / HOUR:.2f} h) by: {state.paused_by}")
        print(f"  abandonment rose from about {report.baseline:.1f} to {report.value:.0f} "
              f"hang-ups per 5 min; onset t={report.onset:.0f} s")
        explain(sim, now, report.onset)
        sim.control.resume()
    q = sim.query
    end = args.hours * HOUR + 1e-9
    calls = q.metrics("arrivals").from_entity("Agents").between(0, end).aggregate("count") \
        .execute().scalar or 0
    gone = q.metrics("reneged").from_entity("Agents").between(0, end).aggregate("count") \
        .execute().scalar or 0
    avail = q.metrics("up").from_entity("PhoneSystem").between(0, end).aggregate("mean") \
        .execute().scalar
    print(f"\nThe whole day: {calls} calls reached the queue, {gone} hung up "
          f"({100 * gone / max(calls, 1):.1f} %); phone system up {100 * avail:.1f} % "
          f"of the time ({phones.stats.breakdown_count} breakdown(s)).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
