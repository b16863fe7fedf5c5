"""Every row of issue 23's table in one command: before (``--baseline``) and after.

    .venv/bin/python benchmarks/bench_issue23.py --baseline /tmp/base23          # ~20 min
    .venv/bin/python benchmarks/bench_issue23.py --baseline /tmp/base23 --quick  # ~5 min
    git -C . worktree add /tmp/base23 6fe4db2     # (a baseline checkout: any commit)

Each measurement ("case") runs in a fresh process (this file with ``--worker CASE``) with
``PYTHONPATH`` at the checkout measured, so the *code* differs between before and after
while the benchmark itself is this file and the functions it imports (the models of
`bench_observers`, `bench_span_queries.worker`, `bench_mcp_latency.concurrent_queries`,
`bench_observers.case_live`). The cases of both checkouts run interleaved (A B C ... A' B'
C' ... then again) for ``--rounds`` rounds; every figure is the median over the rounds.
Times are CPU (``time.process_time``) and wall (``time.perf_counter``) around the part
that matters (a run, a read), not interpreter start-up; ratios are of medians from this
one invocation. The latency of concurrent readers is wall-clock by nature (it is time
spent waiting), so that row is wall time only.

The model is the M/M/1 of the other benchmarks (lambda = 8/s, mu = 10/s, seed 42): the
standard components (``Source.poisson -> Server -> LatencyTracker``) or the user-written
one (`bench_observers.build_user_model`). The 10^8-event row comes from
``bench_streaming_1e8.py`` (minutes; run on its own, ``--streaming-json`` reads its
result).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CATALOG_ENTITIES = 200
READERS = 40
STREAMING_JSON = os.path.join(HERE, "results", "2026-12-07-s7-streaming-1e8.json")


# ---------------------------------------------------------------------------------------
# worker side: one case per process
# ---------------------------------------------------------------------------------------
def _both(fn):
    """(result, CPU s, wall s) of ``fn()``."""
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c0, time.perf_counter() - w0


def _span_pair(sim):
    q = sim.query
    q.spans().limit(10).execute()
    q.spans().from_entity("Sink").limit(1).execute()


def case_run(model: str, variant: str, customers: int) -> dict:
    """A run (CPU and wall); after a recording run its first reads: the metric, span,
    event and trace reads of `bench_observers.first_reads`, then the issue's span pair
    (``spans().limit(10)`` + ``spans().from_entity("Sink").limit(1)``) and one events row."""
    import gc

    from bench_observers import _config, build_server_model, build_user_model, first_reads

    build = build_server_model if model == "server" else build_user_model
    sim, _ = build(customers, _config(variant))
    gc.collect()
    t0 = time.thread_time()
    summary, cpu, wall = _both(sim.run)
    # (the main thread's CPU alone: a process that just imported numpy has an OpenBLAS
    # worker thread that spins for ~0.1 s, which process CPU counts when the run starts
    # within that time -- as every recording run here does, numpy coming with its stores)
    thread = time.thread_time() - t0
    assert summary.stop_reason == "complete", summary.stop_reason
    out = {"run_cpu_s": cpu, "run_wall_s": wall, "run_thread_s": thread}
    if variant != "disabled":
        def reads():
            first_reads(sim, customers // 2)
            _span_pair(sim)
            sim.query.events().limit(1).execute()

        _, out["reads_cpu_s"], out["reads_wall_s"] = _both(reads)
    out["numpy_loaded"] = int("numpy" in sys.modules)
    return out


def case_simpy(customers: int) -> dict:
    sys.path.insert(0, os.path.join(HERE, "peers"))
    from simpy_mm1 import run

    _, cpu, wall = _both(lambda: run(customers, 42))
    return {"run_cpu_s": cpu, "run_wall_s": wall}


def case_inproc(customers: int) -> dict:
    """`disabled()` and `full()` runs alternating in one process (twice each): the
    ratio a notebook user sees (numpy and the stores warm after the first run)."""
    import gc

    from bench_observers import _config, build_server_model

    runs: dict[str, list[tuple[float, float]]] = {"disabled": [], "full": []}
    for _ in range(2):
        for variant in ("disabled", "full"):
            sim, _ = build_server_model(customers, _config(variant))
            gc.collect()
            _, cpu, wall = _both(sim.run)
            runs[variant].append((cpu, wall))
            del sim
    return {f"{v}_{k}_s": statistics.median(x[i] for x in r)
            for v, r in runs.items() for i, k in enumerate(("cpu", "wall"))}


def case_subscriber(model: str, subscribed: bool, customers: int) -> dict:
    """A `default()` run with or without one subscriber on the Sink's `latency`."""
    import gc

    from bench_observers import _config, build_server_model, build_user_model

    build = build_server_model if model == "server" else build_user_model
    sim, _ = build(customers, _config("default"))
    got: list = []
    if subscribed:
        sim.observations.metrics("latency", source="Sink").subscribe(got.append)
    gc.collect()
    summary, cpu, wall = _both(sim.run)
    assert summary.stop_reason == "complete", summary.stop_reason
    assert not subscribed or got
    return {"run_cpu_s": cpu, "run_wall_s": wall, "items": len(got)}


def case_window(window: float | None, customers: int) -> dict:
    from bench_observers import case_live

    return case_live(window, customers)


def case_close(customers: int, repeats: int = 5) -> dict:
    """CPU to close a live ``tumbling_window(1, "p99")`` window: `bench_observers.case_live`
    with 1 s windows and with 30 s windows (both exact p99, the same items) alternating in
    this one process, ``repeats`` times each; the difference of the fastest runs over
    the difference in windows closed. (Across processes the difference, ~1 % of a run,
    drowns in the noise of a shared machine.)"""
    from bench_observers import LAMBDA, case_live

    narrow, wide = [], []
    for _ in range(repeats):
        narrow.append(case_live(1.0, customers)["run_s"])
        wide.append(case_live(30.0, customers)["run_s"])
    span_s = customers / LAMBDA
    closes = span_s / 1.0 - span_s / 30.0
    return {"close_us": (min(narrow) - min(wide)) / closes * 1e6,
            "close_median_us": (statistics.median(narrow) - statistics.median(wide))
            / closes * 1e6, "run_1s_s": min(narrow), "run_30s_s": min(wide)}


def chain_model(n: int = CATALOG_ENTITIES, customers: int = 1000):
    """A source, n - 2 servers in a chain and a sink (n entities)."""
    from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
    from happysimulator.observability import ObservabilityConfig

    sink = LatencyTracker("Sink")
    nxt, servers = sink, []
    for i in range(n - 2):
        s = Server(f"S{i:03d}", concurrency=1, service_time=ExponentialLatency(0.01))
        s.downstream = nxt
        nxt = s
        servers.append(s)
    source = Source.poisson(rate=8.0, target=nxt, limit=customers)
    return Simulation(sources=[source], entities=[*servers, sink], seed=1,
                      observability=ObservabilityConfig.full())


def case_catalog() -> dict:
    """The session's ``catalog`` over 200 entities after a run: the first one (it
    settles what the run left for later: span and event columns) and warm ones (median
    of 5), with the default budget and whole (``budget_bytes`` 4 MB)."""
    from happysimulator.observability.protocol import SessionProtocol

    session = SessionProtocol(chain_model, default_wait_s=None)
    assert session.handle({"op": "run"})["state"]["status"] == "complete"
    first, first_cpu, first_wall = _both(lambda: session.handle({"op": "catalog"}))
    assert first["ok"], first
    warm, warm_wall = [], []
    for _ in range(5):
        _, c, w = _both(lambda: session.handle({"op": "catalog"}))
        warm.append(c)
        warm_wall.append(w)
    whole, whole_cpu, _ = _both(lambda: session.handle({"op": "catalog",
                                                        "budget_bytes": 4_000_000}))
    return {"first_cpu_s": first_cpu, "first_wall_s": first_wall,
            "warm_cpu_s": statistics.median(warm), "warm_wall_s": statistics.median(warm_wall),
            "whole_cpu_s": whole_cpu, "whole_bytes": len(json.dumps(whole)),
            "cut_bytes": len(json.dumps(first)), "entities": len(whole["catalog"]["entities"])}


def case_concurrent(waves: int) -> dict:
    from bench_mcp_latency import concurrent_queries

    c0 = time.process_time()
    out = concurrent_queries(READERS, waves)
    out["process_cpu_s"] = time.process_time() - c0
    return out


def case_spans(customers: int) -> dict:
    from bench_span_queries import worker as span_worker

    r = span_worker(customers, 3)
    return {"pair_cpu_s": statistics.median(r["pair_s"]), "run_cpu_s": r["run_s"],
            "digest": r["digest"]}


def worker(case: str, customers: int, waves: int) -> dict:
    kind, _, arg = case.partition(":")
    if kind in ("server", "user"):
        return case_run(kind, arg, customers)
    if kind == "simpy":
        return case_simpy(customers)
    if kind == "inproc":
        return case_inproc(customers)
    if kind == "sub":
        model, _, on = arg.partition("-")
        return case_subscriber(model, on == "on", customers)
    if kind == "live":
        return case_window(None if arg == "plain" else float(arg.removeprefix("window-")),
                           customers)
    if kind == "close":
        return case_close(customers)
    if kind == "catalog":
        return case_catalog()
    if kind == "concurrent":
        return case_concurrent(waves)
    if kind == "spans":
        return case_spans(customers)
    raise SystemExit(f"unknown case {case!r}")


# ---------------------------------------------------------------------------------------
# driver side
# ---------------------------------------------------------------------------------------
CASES = (
    "spans:", "server:disabled", "server:full", "server:streaming", "user:disabled",
    "user:full", "simpy:", "sub:server-off", "sub:server-on", "sub:user-off", "sub:user-on",
    "catalog:", "concurrent:", "close:", "inproc:",
)
# (bench_observers' live cases, one process each, for its own table of the window's costs)
EXTRA_CASES = ("live:plain", "live:window-1", "live:window-100", "live:window-30")


SIMPY_ROW = "user-written model, disabled() vs SimPy (customers/s)"
HIGHER_IS_BETTER = {SIMPY_ROW}  # (every other goal is an upper bound)


def _div(a, b):
    return a / b if a is not None and b else None


def rows_for(by: dict, tag: str, args) -> list[tuple[str, str, float | None, float | None,
                                                       float]]:
    """(measure, unit, CPU value, wall value, goal) per row of the issue's table, for one
    checkout (``tag``: "" after, "@base" before)."""
    def med(case, key):
        c = by.get(case + tag)
        return None if c is None else c.median(f"report.{key}")

    def ratio(a_case, a_keys, b_case, b_key="run"):
        cpu = _div(sum(med(a_case, f"{k}_cpu_s") or 0 for k in a_keys)
                   if all(med(a_case, f"{k}_cpu_s") is not None for k in a_keys) else None,
                   med(b_case, f"{b_key}_cpu_s"))
        wall = _div(sum(med(a_case, f"{k}_wall_s") or 0 for k in a_keys)
                    if all(med(a_case, f"{k}_wall_s") is not None for k in a_keys) else None,
                    med(b_case, f"{b_key}_wall_s"))
        return cpu, wall

    rows = []
    pair = med("spans:", "pair_cpu_s")
    rows.append((f"spans().limit(10) + spans().from_entity('Sink').limit(1), "
                 f"{args.customers:,} customers", "ms", pair * 1e3 if pair is not None else None,
                 None, 50.0))
    rows.append(("full() run + first reads / disabled() run (Server)", "x",
                 *ratio("server:full", ("run", "reads"), "server:disabled"), 1.6))
    simpy_cpu, simpy_wall = ratio("simpy:", ("run",), "user:disabled")
    rows.append((SIMPY_ROW, "x", simpy_cpu, simpy_wall, 2.0))
    rows.append(("user-written model, full() / disabled()", "x",
                 *ratio("user:full", ("run",), "user:disabled"), 1.25))
    for model in ("server", "user"):
        rows.append((f"one live latency subscriber / the same run without it ({model})", "x",
                     *ratio(f"sub:{model}-on", ("run",), f"sub:{model}-off"), 1.1))
    for key, what in (("warm", "catalog, 200 entities (warm: median of 5)"),
                      ("first", "  the first catalog after the run (settles span/event "
                                "columns)")):
        c, w = med("catalog:", f"{key}_cpu_s"), med("catalog:", f"{key}_wall_s")
        rows.append((what, "ms", c * 1e3 if c is not None else None,
                     w * 1e3 if w is not None else None, 50.0 if key == "warm" else None))
    rows.append((f"{READERS} concurrent MCP queries while running, median latency", "ms", None,
                 med("concurrent:", "median_ms"), 50.0))
    rows.append(("  the same, p90 latency", "ms", None, med("concurrent:", "p90_ms"), None))
    rows.append(("live tumbling window close (1 s vs 30 s windows, both exact)", "us",
                 med("close:", "close_us"), None, 5.0))
    rows.append(("full() / disabled(), Server, fresh processes", "x",
                 *ratio("server:full", ("run",), "server:disabled"), 1.25))
    cpu = _div(med("inproc:", "full_cpu_s"), med("inproc:", "disabled_cpu_s"))
    wall = _div(med("inproc:", "full_wall_s"), med("inproc:", "disabled_wall_s"))
    rows.append(("full() / disabled(), Server, in one process", "x", cpu, wall, 1.25))
    rows.append(("streaming() / disabled(), Server", "x",
                 *ratio("server:streaming", ("run",), "server:disabled"), 1.3))
    return rows


def _fmt(v, unit):
    if v is None:
        return "-"
    return f"{v:.2f}x" if unit == "x" else f"{v:,.1f} {unit}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", metavar="CASE", help=argparse.SUPPRESS)
    p.add_argument("--quick", action="store_true",
                   help="20k customers, 3 rounds, 2 waves of readers")
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds (5)")
    p.add_argument("--customers", type=int, default=None, help="customers per run (100000)")
    p.add_argument("--waves", type=int, default=None, help="waves of 40 readers (5)")
    p.add_argument("--cases", default=None, help="comma list of cases (default: all)")
    p.add_argument("--repo", default=REPO, help="the checkout measured as 'after'")
    p.add_argument("--baseline", metavar="REPO", default=None,
                   help="the checkout measured as 'before' (e.g. a worktree of main)")
    p.add_argument("--streaming-json", default=STREAMING_JSON,
                   help="bench_streaming_1e8.py --json-out result for the 10^8 row")
    p.add_argument("--json-out", metavar="PATH", help="also write every run's JSON there")
    args = p.parse_args(argv)
    args.rounds = args.rounds or (3 if args.quick else 5)
    args.customers = args.customers or (20_000 if args.quick else 100_000)
    args.waves = args.waves or (2 if args.quick else 5)
    if args.worker:
        sys.path.insert(0, HERE)
        print(json.dumps(worker(args.worker, args.customers, args.waves)))
        return 0

    sys.path.insert(0, HERE)
    from _harness import Contender, compile_packages, git_head, run_interleaved

    cases = CASES if args.cases is None else tuple(args.cases.split(","))
    unknown = sorted(set(cases) - set(CASES) - set(EXTRA_CASES))
    if unknown:
        p.error(f"unknown case(s) {unknown}; valid: {', '.join(CASES + EXTRA_CASES)}")
    repos = [("", args.repo)] + ([("@base", args.baseline)] if args.baseline else [])
    for _, repo in repos:
        compile_packages(repo, ("happysimulator", "happysim_rx", "operators"))
    contenders = [
        Contender.command(case + tag, [sys.executable, os.path.abspath(__file__), "--worker",
                                       case, "--customers", str(args.customers),
                                       "--waves", str(args.waves)],
                          env={"PYTHONPATH": os.path.abspath(repo)}, cwd=repo,
                          timeout_s=1800)
        for case in cases for tag, repo in repos
    ]
    print(f"running {len(contenders)} cases x {args.rounds} rounds, interleaved ...",
          file=sys.stderr, flush=True)
    run_interleaved(contenders, args.rounds,
                    progress=lambda s: print(s, file=sys.stderr, flush=True))
    by = {c.name: c for c in contenders}
    print(f"issue 23, every row; M/M/1 lambda=8 mu=10, {args.customers:,} customers per run, "
          f"medians of {args.rounds} interleaved rounds, each case in a fresh process "
          f"(Python {sys.version.split()[0]})")
    print(f"after:  {os.path.abspath(args.repo)} at {_commit(args.repo, git_head)}")
    if args.baseline:
        print(f"before: {os.path.abspath(args.baseline)} at {_commit(args.baseline, git_head)}")
    after = rows_for(by, "", args)
    before = rows_for(by, "@base", args) if args.baseline else [None] * len(after)
    head = (f"{'measure':<66} {'goal':>9} | {'before CPU':>11} {'after CPU':>11} "
            f"{'a/b':>6} | {'before wall':>11} {'after wall':>11} {'a/b':>6} | met")
    print(head)
    print("-" * len(head))
    for a, b in zip(after, before, strict=True):
        what, unit, cpu, wall, goal = a
        b_cpu, b_wall = (b[2], b[3]) if b else (None, None)
        shown = cpu if cpu is not None else wall
        higher = what in HIGHER_IS_BETTER
        met = "" if goal is None or shown is None else (
            "yes" if (shown >= goal if higher else shown <= goal) else "NO")
        goal_s = ((">= " if what in HIGHER_IS_BETTER else "") + _fmt(goal, unit)) if goal else ""
        print(f"{what:<66} {goal_s:>9} | {_fmt(b_cpu, unit):>11} "
              f"{_fmt(cpu, unit):>11} {_fmt(_div(cpu, b_cpu), 'x'):>6} | "
              f"{_fmt(b_wall, unit):>11} {_fmt(wall, unit):>11} "
              f"{_fmt(_div(wall, b_wall), 'x'):>6} | {met}")
    print(_streaming_row(args.streaming_json))
    print("\nper case (medians):")
    for c in contenders:
        rep = c.last_report() or {}
        vals = ", ".join(f"{k}={c.median('report.' + k):.4g}" for k, v in rep.items()
                         if isinstance(v, (int, float)) and c.median("report." + k) is not None)
        print(f"  {c.name:<24} {vals}")
    failed = [(c.name, e) for c in contenders for e in c.errors()]
    for name, e in failed:
        print(f"  ! {name}: {e}")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"args": vars(args), "cases": [c.to_dict(()) for c in contenders]}, f,
                      indent=1)
    return 1 if failed else 0


def _commit(repo: str, git_head) -> str:
    """The checkout's commit: git's, or a COMMIT file (a `git archive` copy has no .git:
    ``git archive HEAD | tar -x -C DIR && git rev-parse HEAD > DIR/COMMIT``)."""
    head = git_head(repo)
    if head:
        return head
    path = os.path.join(repo, "COMMIT")
    if os.path.exists(path):
        with open(path) as f:
            return f.read().strip()
    return "? (not a git checkout)"


def _streaming_row(path: str) -> str:
    label = "a 10^8-event streaming() run"
    if not path or not os.path.exists(path):
        return f"{label}: not in this invocation (run benchmarks/bench_streaming_1e8.py)"
    with open(path) as f:
        s = json.load(f)["summary"]
    return (f"{label} ({os.path.basename(path)}): {s['events']:,} events, "
            f"{s['events_per_cpu_s']:,.0f} ev/s CPU, {s['events_per_wall_s']:,.0f} ev/s wall; "
            f"RSS {s['rss_first_mb']:.1f} MB at the first sample, {s['rss_at_10pct_mb']:.1f} MB "
            f"at 10 %, {s['rss_last_mb']:.1f} MB at the end (min {s['rss_min_mb']:.1f}, max "
            f"{s['rss_max_mb']:.1f})")


if __name__ == "__main__":
    sys.exit(main())
