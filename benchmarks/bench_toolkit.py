"""A model built from the toolkit: users -> Client (2 s timeout, 3 attempts, 0.05 s apart)
-> round-robin LoadBalancer -> 4 servers (exponential service, mean 0.1 s; arrivals
Poisson 20/s, so rho = 0.5: every attempt carries its timeout, which seldom fires --
none with the default seed).

Contenders, run interleaved (A B C A B C ...) and summarised by the median:

* ``ours full`` / ``ours disabled``: this package with ``ObservabilityConfig.full()`` and
  ``.disabled()`` (the cost of observing everything: series, spans, events);
* ``happysim 0.2.5``: the same script on the peer (``--peer-python``, a Python >= 3.13
  with ``happysim==0.2.5`` installed; run from a directory that does not shadow it);
* ``simpy``: the same model written for SimPy (a process per call; each attempt a
  process holding a server; the client waits for the first of the answer and its
  timeout). SimPy does not come with clients, balancers or retries, so this is the
  hand-written floor of a general DES library.

The figure is calls answered per CPU second (``cpu_s``: ``time.process_time()`` measured
inside each process around model construction and the run, after the imports -- those
that recording needs too, by building an empty simulation with the same configuration
first; on a shared machine wall time counts the neighbours too); ``wall_s`` is reported
beside it. Each engine's own event count differs
(0.2.5 sends an extra event per answer and per routing step), so events/s is printed
per engine but calls/s is what compares.

    python benchmarks/bench_toolkit.py --calls 20000 --repeats 5 \\
        --peer-python /tmp/peer-venv/bin/python [--json-out results/toolkit.json] \\
        [--baseline ../checkout-before]
    python benchmarks/bench_toolkit.py --engine ours --variant full --calls 2000  # one run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RATE, SERVERS, MEAN_SERVICE = 20.0, 4, 0.1
TIMEOUT, ATTEMPTS, RETRY_DELAY = 2.0, 3, 0.05


def run_happysim(calls: int, seed: int, variant: str | None) -> dict:
    """This package (variant: full / disabled) or, with variant None, happysim 0.2.5:
    the same model through the API both share."""
    from happysimulator import (
        ConstantRateProfile,
        EventProvider,
        ExponentialLatency,
        Instant,
        PoissonArrivalTimeProvider,
        Server,
        Simulation,
        Source,
    )
    from happysimulator.components.client import Client, FixedRetry
    from happysimulator.components.load_balancer import LoadBalancer, RoundRobin

    kwargs = {}
    if variant is not None:  # (imported before the clock starts, like everything else)
        from happysimulator.observability import ObservabilityConfig

        config = getattr(ObservabilityConfig, variant)
        kwargs = {"observability": config(), "seed": seed}
        # What recording imports (numpy, the stores: ~0.2 s, once per process) is
        # imported when a simulation is built with it: build an empty one first, so that
        # the clock measures the model, not the imports (a `disabled()` run imports none)
        Simulation(start_time=Instant.Epoch, end_time=Instant.from_seconds(1),
                   observability=config(), seed=seed)
    random.seed(seed)  # 0.2.5 draws from the global generator
    t0, c0 = time.perf_counter(), time.process_time()
    servers = [Server(f"S{i}", concurrency=1, service_time=ExponentialLatency(MEAN_SERVICE))
               for i in range(SERVERS)]
    lb = LoadBalancer("LB", backends=servers, strategy=RoundRobin())
    client = Client("Client", lb, timeout=TIMEOUT,
                    retry_policy=FixedRetry(max_attempts=ATTEMPTS, delay=RETRY_DELAY))
    horizon = calls / RATE

    class Calls(EventProvider):
        def get_events(self, time):
            if time.to_seconds() >= horizon:
                return []
            request = client.send_request()
            request.time = time
            return [request]

    source = Source("Users", Calls(), PoissonArrivalTimeProvider(
        ConstantRateProfile(rate=RATE), start_time=Instant.Epoch))
    sim = Simulation(start_time=Instant.Epoch, end_time=Instant.from_seconds(horizon + 30),
                     sources=[source], entities=[*servers, lb, client], **kwargs)
    r0 = time.process_time()
    summary = sim.run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    run_cpu = time.process_time() - r0
    st = client.stats
    events = getattr(summary, "total_events_processed", None)
    if events is None:
        events = getattr(sim, "events_processed", None)
    return {"calls": st.responses_received + st.failures, "answered": st.responses_received,
            "attempts": st.requests_sent, "timeouts": st.timeouts, "wall_s": wall,
            "cpu_s": cpu, "run_cpu_s": run_cpu, "events": events}


def run_simpy(calls: int, seed: int) -> dict:
    import simpy

    rng = random.Random(seed)
    t0, c0 = time.perf_counter(), time.process_time()
    env = simpy.Environment()
    servers = [simpy.Resource(env, capacity=1) for _ in range(SERVERS)]
    counts = {"answered": 0, "failed": 0, "attempts": 0, "timeouts": 0}
    rr = [0]

    def serve(server, done):
        with server.request() as req:
            yield req
            yield env.timeout(rng.expovariate(1.0 / MEAN_SERVICE))
        done.succeed()

    def call():
        for attempt in range(1, ATTEMPTS + 1):
            server = servers[rr[0] % SERVERS]
            rr[0] += 1
            counts["attempts"] += 1
            done = env.event()
            env.process(serve(server, done))
            got = yield done | env.timeout(TIMEOUT)
            if done in got:
                counts["answered"] += 1
                return
            counts["timeouts"] += 1
            if attempt < ATTEMPTS:
                yield env.timeout(RETRY_DELAY)
        counts["failed"] += 1

    def users():
        horizon = calls / RATE
        while True:
            yield env.timeout(rng.expovariate(RATE))
            if env.now >= horizon:
                return
            env.process(call())

    env.process(users())
    r0 = time.process_time()
    env.run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    run_cpu = time.process_time() - r0
    return {"calls": counts["answered"] + counts["failed"], "answered": counts["answered"],
            "attempts": counts["attempts"], "timeouts": counts["timeouts"], "wall_s": wall,
            "cpu_s": cpu, "run_cpu_s": run_cpu, "events": None}


def one(args: argparse.Namespace) -> int:
    if args.engine == "simpy":
        out = run_simpy(args.calls, args.seed)
    else:
        out = run_happysim(args.calls, args.seed, None if args.engine == "peer" else args.variant)
    out.update(engine=args.engine, variant=args.variant, python=platform.python_version(),
               calls_per_s=out["calls"] / out["cpu_s"])
    if out["events"]:
        out["events_per_s"] = out["events"] / out["cpu_s"]
    print(json.dumps(out))
    return 0


def compare(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(HERE))
    from _harness import Contender, format_table, run_interleaved

    me = str(Path(__file__).resolve())
    base = ["--calls", str(args.calls), "--seed", str(args.seed)]
    ours_env = {**os.environ, "PYTHONPATH": str(REPO)}
    peer_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    cs = [Contender.command("ours full", [sys.executable, me, "--engine", "ours", "--variant",
                                          "full", *base], env=ours_env),
          Contender.command("ours disabled", [sys.executable, me, "--engine", "ours",
                                              "--variant", "disabled", *base], env=ours_env)]
    if args.baseline:
        # the same model on another checkout (before/after), interleaved with the rest
        base_env = {**os.environ, "PYTHONPATH": str(Path(args.baseline).resolve())}
        cs += [Contender.command(f"before {v}", [sys.executable, me, "--engine", "ours",
                                                 "--variant", v, *base], env=base_env)
               for v in ("full", "disabled")]
    try:
        import simpy  # noqa: F401
        cs.append(Contender.command("simpy", [sys.executable, me, "--engine", "simpy", *base]))
    except ImportError:
        print("(simpy is not installed here: its row is skipped)")
    if args.peer_python:
        # from /tmp, so that no checkout's happysimulator shadows the installed peer
        cs.append(Contender.command("happysim 0.2.5", [args.peer_python, me, "--engine",
                                                       "peer", *base], env=peer_env,
                                    cwd="/tmp"))
    run_interleaved(cs, args.repeats, warmup=args.warmup,
                    progress=(lambda m: print(m, file=sys.stderr)) if args.verbose else None)
    full = next(c for c in cs if c.name == "ours full")
    disabled = next(c for c in cs if c.name == "ours disabled")
    rows = []
    for c in cs:
        rep = c.last_report() or {}
        rows.append([c.name, rep.get("python"), c.median("report.calls_per_s"),
                     c.median("report.cpu_s"), c.median("report.run_cpu_s"),
                     c.median("report.wall_s"),
                     c.median("report.events_per_s"),
                     rep.get("answered"), rep.get("timeouts"),
                     f"{len(c.ok_runs())}/{len(c.runs)}"])
    print(f"{args.calls} calls, {args.repeats} interleaved repeats, medians "
          f"(Poisson {RATE:g}/s -> client {TIMEOUT:g}s x{ATTEMPTS} -> round robin -> "
          f"{SERVERS} x M(0.1 s))")
    print(format_table(["contender", "python", "calls/CPU s", "CPU s", "run CPU s", "wall s",
                        "events/CPU s", "answered", "timeouts", "ok"], rows))
    ratios = {}
    for mine in (full, disabled):
        f = mine.median("report.calls_per_s")
        for c in cs:
            v = c.median("report.calls_per_s")
            if c is not full and c is not disabled and v:
                ratios[f"{mine.name} / {c.name} (calls per CPU s)"] = f / v
    for tag in ("ours", "before"):
        fc = next((c for c in cs if c.name == f"{tag} full"), None)
        dc = next((c for c in cs if c.name == f"{tag} disabled"), None)
        if fc is not None and dc is not None and dc.median("report.cpu_s"):
            ratios[f"{tag}: full() cost, CPU full / disabled (build + run)"] = (
                fc.median("report.cpu_s") / dc.median("report.cpu_s"))
            if dc.median("report.run_cpu_s"):
                # (the build imports what recording needs, numpy included: a disabled()
                # build imports none of it)
                ratios[f"{tag}: full() cost, CPU full / disabled (run only)"] = (
                    fc.median("report.run_cpu_s") / dc.median("report.run_cpu_s"))
    for k, v in ratios.items():
        print(f"{k}: {v:.2f}x")
    if args.json_out:
        args.json_out.write_text(json.dumps({"calls": args.calls, "repeats": args.repeats,
                                             "contenders": [c.to_dict(["report.calls_per_s",
                                                                       "report.cpu_s",
                                                                       "report.run_cpu_s",
                                                                       "report.wall_s"])
                                                            for c in cs],
                                             "ratios": ratios}, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=("ours", "peer", "simpy"), default=None,
                    help="run one model in this process and print one JSON line")
    ap.add_argument("--variant", choices=("full", "disabled", "default", "streaming"),
                    default="full")
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--peer-python", default=None)
    ap.add_argument("--baseline", metavar="REPO", default=None,
                    help="another checkout (e.g. a `git worktree` of an older commit): its "
                         "full and disabled runs join the comparison, interleaved")
    ap.add_argument("--json-out", type=Path, default=None)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    return one(args) if args.engine else compare(args)


if __name__ == "__main__":
    sys.exit(main())
