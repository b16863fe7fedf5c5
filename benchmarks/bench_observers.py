"""Where an observer waits: every row of issue 14's table in one command.

    .venv/bin/python benchmarks/bench_observers.py            # 100k / 10^6 customers, 7 rounds
    .venv/bin/python benchmarks/bench_observers.py --quick    # 20k / 200k customers, 3 rounds
    ... --rounds 9 --customers 100000 --big-customers 1000000 --json-out PATH
    ... --cases import:happysimulator,import:first-sim --baseline ../main-at-start  # before/after
    ... --cases engine --baseline ../main-at-start   # the engine's rows (ENGINE_CASES)

Each configuration ("case") runs in a fresh process (this file with ``--worker CASE``)
that prints one JSON line; the cases run interleaved (A B C ... A B C ...) for
``--rounds`` rounds, and every figure is the median over the rounds of what each process
measured with ``time.process_time()`` (CPU time) around the part that matters (the run,
a read, an import), not interpreter start-up. Ratios are of medians taken in this one
invocation. The table ends with each row's goal and the measured/goal ratio (<= 1 met).

The model is M/M/1 (lambda = 8/s, mu = 10/s, seed 42) in two shapes: the standard
components (``Source.poisson -> Server -> LatencyTracker``) and a user-written one (a
`QueuedResource` subclass whose handler is a generator, and an `InstrumentedEntity` sink
calling ``observe`` once per request). See README.md ("Observer costs") for each row.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from observer_models import (  # noqa: F401 (other benchmarks import these from here)
    LAMBDA,
    MU,
    SEED,
    _config,
    _timed,
    build_server_model,
    build_user_model,
    first_reads,
)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
LIVE_WINDOW = 1.0  # s: the live tumbling window (8 samples per window)
LIVE_WIDE = 100.0  # s: the same items in 100x fewer windows (the per-item cost)
# s: 30x fewer windows whose p99 stays exact (240 < 256 samples, no sketch): the per-item
# work is then the same as in 1 s windows, so the difference is only the closes
LIVE_EXACT = 30.0


# ---------------------------------------------------------------------------------------
# worker side (one case per process; imports happen inside, after the clock starts where
# the import itself is measured)
# ---------------------------------------------------------------------------------------
def _rss_mb() -> float:
    """Current resident set size (MB), from /proc (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def case_run(model: str, variant: str, customers: int, reads: bool) -> dict:
    import gc

    build = build_server_model if model == "server" else build_user_model
    sim, _ = build(customers, _config(variant))
    gc.collect()
    summary, run_s = _timed(sim.run)
    assert summary.stop_reason == "complete", summary.stop_reason
    out = {"run_s": run_s}
    if variant == "disabled":  # (its OpenBLAS threads would spin on the other core)
        out["numpy_loaded"] = int("numpy" in sys.modules)
    if reads and variant != "disabled":
        # trace ids are the requests' context ids (1, 2, ...): one from mid-run
        out.update(first_reads(sim, customers // 2))
        out["reads_s"] = sum(v for k, v in out.items() if k.startswith("read_"))
    return out


def case_in_process(model: str, customers: int, rounds: int = 3) -> dict:
    """The `disabled()`, `full()` and `streaming()` runs of one model in one process,
    interleaved ``rounds`` times (what a notebook user comparing configurations sees):
    the median CPU time of each and the ratios."""
    import gc

    build = build_server_model if model == "server" else build_user_model
    times: dict[str, list[float]] = {}
    for _ in range(rounds):
        for variant in ("disabled", "full", "streaming"):
            sim, _ = build(customers, _config(variant))
            gc.collect()
            summary, run_s = _timed(sim.run)
            assert summary.stop_reason == "complete", summary.stop_reason
            times.setdefault(variant, []).append(run_s)
            del sim
            gc.collect()
    med = {v: statistics.median(ts) for v, ts in times.items()}
    return {"disabled_s": med["disabled"], "full_s": med["full"],
            "streaming_s": med["streaming"],
            "full_over_disabled": med["full"] / med["disabled"],
            "streaming_over_disabled": med["streaming"] / med["disabled"]}


def case_simpy(customers: int) -> dict:
    sys.path.insert(0, os.path.join(HERE, "peers"))
    from simpy_mm1 import run

    _, run_s = _timed(lambda: run(customers, SEED))
    return {"run_s": run_s}


def _first_simulation() -> None:
    """Import, then build and run a tiny default() simulation: what the first model
    pays for the modules that the import itself leaves for later."""
    import happysimulator as hs

    server, sink = hs.Server("Server"), hs.LatencyTracker("Sink")
    server.downstream = sink
    source = hs.Source.poisson(rate=LAMBDA, target=server, stop_after=1.0)
    hs.Simulation(sources=[source], entities=[server, sink], seed=SEED).run()


def case_import(what: str) -> dict:
    """CPU time of the import (all threads: what ``process_time`` counts), the main
    thread's share (the rest is other threads, e.g. OpenBLAS workers that numpy's
    import starts and that spin a while before sleeping), wall time and RSS."""
    rss0 = _rss_mb()
    t0, th0 = time.perf_counter(), time.thread_time()
    _, cpu = _timed(_first_simulation if what == "first-sim" else lambda: __import__(what))
    main_thread = time.thread_time() - th0
    return {"import_s": cpu, "import_main_thread_s": main_thread,
            "import_other_threads_s": max(0.0, cpu - main_thread),
            "import_wall_s": time.perf_counter() - t0,
            "import_rss_mb": _rss_mb() - rss0,
            "numpy_loaded": int("numpy" in sys.modules),
            "reactivex_loaded": int("reactivex" in sys.modules)}


def case_first_sim_parts() -> dict:
    """Where the first default simulation's CPU goes, phase by phase (main thread), in the
    order a first model meets them: ``import happysimulator``, then what building the
    simulation imports (numpy, msgspec, then the observability modules themselves), then
    building and running it; ``other_threads_s`` is the rest of the process CPU."""
    t0, p0 = time.thread_time(), time.process_time()
    marks = []

    def mark(name: str) -> None:
        marks.append((name, time.thread_time()))

    import happysimulator as hs

    mark("import_happysimulator_s")
    import numpy  # noqa: F401  (what the flush of the recorded facts needs)

    mark("numpy_s")
    import msgspec  # noqa: F401  (Observation, Span)

    mark("msgspec_s")
    import happysimulator.observability.integration  # noqa: F401

    mark("observability_modules_s")
    server, sink = hs.Server("Server"), hs.LatencyTracker("Sink")
    server.downstream = sink
    source = hs.Source.poisson(rate=LAMBDA, target=server, stop_after=1.0)
    sim = hs.Simulation(sources=[source], entities=[server, sink], seed=SEED)
    mark("build_s")
    sim.run()
    mark("run_s")
    out, last = {}, t0
    for name, t in marks:
        out[name], last = t - last, t
    out["main_thread_s"] = last - t0
    out["other_threads_s"] = max(0.0, time.process_time() - p0 - out["main_thread_s"])
    return out


def case_live(window: float | None, customers: int) -> dict:
    """A live subscriber on the Sink's latency stream: a plain one, or a tumbling
    p99 window of `window` s (closed on time by the simulation's clock)."""
    import gc

    import operators as ops

    sim, _ = build_server_model(customers, _config("default"))
    stream = sim.observations.metrics("latency", source="Sink")
    got: list = []
    if window is not None:
        stream.pipe(ops.tumbling_window(window, "p99")).subscribe(got.append)
    else:
        stream.subscribe(got.append)
    gc.collect()
    summary, run_s = _timed(sim.run)
    assert summary.stop_reason == "complete", summary.stop_reason
    return {"run_s": run_s, "items": len(got)}


def case_disabled_memory(customers: int, tracker_option: bool) -> dict:
    """Bytes kept per customer by a `disabled()` run (tracemalloc, after the run)."""
    import gc
    import tracemalloc

    from happysimulator import LatencyTracker

    kw = {}
    if tracker_option:
        kw = _bounded_tracker_kwargs(LatencyTracker)
        if kw is None:
            return {"unsupported": 1}
    tracemalloc.start()
    sim = _build_with_tracker(customers, kw)
    gc.collect()
    base = tracemalloc.get_traced_memory()[0]
    sim.run()
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return {"bytes_per_customer": kept / customers}


def _bounded_tracker_kwargs(cls):
    """The LatencyTracker option that keeps a bounded summary (None if there is none)."""
    import inspect

    params = inspect.signature(cls.__init__).parameters
    if "max_samples" in params:
        return {"max_samples": 1000}
    return None


def _build_with_tracker(customers: int, kw: dict):
    from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source

    server = Server("Server", concurrency=1, service_time=ExponentialLatency(1 / MU))
    sink = LatencyTracker("Sink", **kw)
    server.downstream = sink
    source = Source.poisson(rate=LAMBDA, target=server, stop_after=customers / LAMBDA)
    return Simulation(sources=[source], entities=[server, sink], seed=SEED,
                      observability=_config("disabled"))


def _series_arrays(sim, name: str, source: str):
    (series,) = sim.query.metric_store.select(name, source)
    return series.arrays()


def case_big(customers: int) -> dict:
    """A `full()` run of many customers, then: the first trace, the span and event
    reads (memory kept per customer), the windowed p99 query and the gauge's
    time-weighted mean, each against a vectorized numpy computation of the same."""
    import gc

    from numpy_references import time_weighted_mean, window_quantile

    rss0 = _rss_mb()
    sim, sink = build_server_model(customers, _config("full"))
    gc.collect()
    summary, run_s = _timed(sim.run)
    assert summary.stop_reason == "complete", summary.stop_reason
    n = sink.count
    out: dict = {"run_s": run_s, "customers": n}
    gc.collect()
    rss_run = _rss_mb()
    out["run_bytes_per_customer"] = (rss_run - rss0) * 2**20 / n
    ts = sim.query.trace_store
    # the first trace: a request from the middle of the run (trace ids are the
    # requests' context ids 1, 2, ...), not from a listing that would build every trace
    tid = n // 2
    spans, out["trace_s"] = _timed(lambda: ts.trace(tid))
    assert spans, f"trace {tid} is empty"
    gc.collect()
    out["trace_rss_mb"] = _rss_mb() - rss_run
    end = sim.query.now()
    mid = end / 2
    _, out["span_query_s"] = _timed(
        lambda: sim.query.spans().between(mid, mid + 10.0).execute())
    _, out["event_query_s"] = _timed(lambda: sim.query.events().between(mid, mid + 10.0)
                                     .execute())
    gc.collect()
    out["read_bytes_per_customer"] = (_rss_mb() - rss0) * 2**20 / n
    # windowed p99 (cold: the query's first run) vs numpy on the same samples
    t, v = _series_arrays(sim, "latency", "Sink")
    t, v = t.copy(), v.copy()
    res, out["window_p99_s"] = _timed(
        lambda: sim.query.metrics("latency").from_entity("Sink").window(1.0)
        .aggregate("p99").execute())
    ref_times = []
    for _ in range(3):
        (starts, ref), s = _timed(lambda: window_quantile(t, v, 1.0))
        ref_times.append(s)
    out["window_p99_numpy_s"] = statistics.median(ref_times)
    got = {a: b for a, b in res.series if b is not None}
    diffs = [abs(got[s] - r) / r for s, r in zip(starts.tolist(), ref.tolist(), strict=True)
             if s in got and r]
    out["window_p99_windows"] = len(got)
    out["window_p99_max_rel_diff"] = max(diffs) if diffs else None
    # gauge: time-weighted mean of the queue depth over the whole run (warm)
    gq = sim.query.metrics("queue_depth").from_entity("Server").aggregate("mean")
    first = gq.execute().scalar
    warm = [_timed(gq.execute)[1] for _ in range(5)]
    out["gauge_mean_s"] = statistics.median(warm)
    gt, gv = _series_arrays(sim, "queue_depth", "Server")
    gt, gv = gt.copy(), gv.copy()
    ref_runs = [_timed(lambda: time_weighted_mean(gt, gv, end)) for _ in range(5)]
    out["gauge_mean_numpy_s"] = statistics.median(s for _, s in ref_runs)
    out["gauge_mean_rel_diff"] = abs(first - ref_runs[0][0]) / ref_runs[0][0]
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def worker(case: str, customers: int, big_customers: int) -> dict:
    kind, _, arg = case.partition(":")
    if kind in ("server", "user"):
        return case_run(kind, arg, customers, reads=True)
    if kind == "simpy":
        return case_simpy(customers)
    if kind == "inproc":
        return case_in_process(arg, customers)
    if kind == "import":
        return case_first_sim_parts() if arg == "first-sim-parts" else case_import(arg)
    if kind == "live":
        return case_live(None if arg == "plain" else float(arg.removeprefix("window-")),
                         customers)
    if kind == "mem":
        return case_disabled_memory(customers, arg == "bounded")
    if kind == "big":
        return case_big(big_customers)
    raise SystemExit(f"unknown case {case!r}")


# ---------------------------------------------------------------------------------------
# driver side
# ---------------------------------------------------------------------------------------
CASES = (
    "import:happysimulator", "import:first-sim", "import:first-sim-parts", "import:simpy",
    "server:disabled", "server:full", "server:streaming",
    "user:disabled", "user:full", "user:streaming",
    "simpy:", "inproc:server", "inproc:user",
    "live:plain", f"live:window-{LIVE_WINDOW:g}", f"live:window-{LIVE_WIDE:g}",
    f"live:window-{LIVE_EXACT:g}",
    "mem:default", "mem:bounded",
    "big:full",
)


def _med(c, key):
    return c.median(f"report.{key}")


def _div(a, b):
    return a / b if a is not None and b else None


LIVE_CASES = ("live:plain", f"live:window-{LIVE_WINDOW:g}", f"live:window-{LIVE_WIDE:g}",
              f"live:window-{LIVE_EXACT:g}")


def live_rows(by: dict, args, tag: str = "") -> list[list]:
    """The live tumbling window's rows (what, measured, unit, goal, measured/goal): CPU
    per window over a plain subscriber, of which closing one (1 s windows against 100 s
    ones over the same items, and against 30 s ones whose p99 stays exact), and per
    item; ``tag`` picks a checkout's contenders ("@base")."""
    plain, narrow, wide, exact = (_med(by[c + tag], "run_s") if c + tag in by else None
                                  for c in LIVE_CASES)
    if None in (plain, narrow, wide):
        return []
    span_s = args.customers / LAMBDA
    n_narrow, n_wide, n_exact = span_s / LIVE_WINDOW, span_s / LIVE_WIDE, span_s / LIVE_EXACT
    figures = [
        (f"live tumbling_window({LIVE_WINDOW:g}, 'p99'): CPU over a plain subscriber "
         "per window", (narrow - plain) / n_narrow * 1e6, None),
        ("  of which closing a window (1 s vs 100 s windows, same items)",
         (narrow - wide) / (n_narrow - n_wide) * 1e6, 5.0),
    ]
    if exact is not None:
        # (a 100 s window's p99 goes to the sketch past 256 samples, so its items cost
        # more than a 1 s window's: the row above underestimates the close)
        figures.append(("  closing a window, 1 s vs 30 s windows (both exact, no sketch)",
                        (narrow - exact) / (n_narrow - n_exact) * 1e6, 5.0))
    figures.append(("  and per item through the window operator (100 s windows)",
                    (wide - plain) / args.customers * 1e6, None))
    rows = []
    for what, value, goal in figures:
        rows.append([what + (f" {tag}" if tag else ""), value, "us", goal, _div(value, goal)])
    return rows


ENGINE_CASES = ("server:disabled", "server:full", "server:streaming", "user:disabled",
                "user:full", "user:streaming", "simpy:", "inproc:server", "inproc:user")


def engine_rows(by: dict, tag: str = "") -> list[list]:
    """The engine's rows of issue 23 (what, measured, unit, goal, measured/goal) for one
    checkout (``tag``: "" or "@base"), from the `ENGINE_CASES` it ran."""
    rows = []

    def row(what, value, unit, goal):
        rows.append([what + (f" {tag}" if tag else ""), value, unit, goal, _div(value, goal)])

    def run(case):
        return _med(by[case + tag], "run_s") if case + tag in by else None

    simpy = run("simpy:")
    for model, label in (("server", "Server"), ("user", "user model")):
        dis = run(f"{model}:disabled")
        speed = _div(simpy, dis)
        row(f"{label}: disabled() speed / SimPy's (customers per CPU s)", speed, "x",
            2.0 if model == "user" else None)
        row(f"{label}: full() / disabled(), fresh processes", _div(run(f"{model}:full"), dis),
            "x", 1.25)
        row(f"{label}: streaming() / disabled(), fresh processes",
            _div(run(f"{model}:streaming"), dis), "x", 1.3)
        c = by.get(f"inproc:{model}{tag}")
        if c is not None:
            row(f"{label}: full() / disabled(), in one process",
                _med(c, "full_over_disabled"), "x", 1.25)
            row(f"{label}: streaming() / disabled(), in one process",
                _med(c, "streaming_over_disabled"), "x", 1.3)
        d = by.get(f"{model}:disabled{tag}")
        if d is not None and d.median("report.numpy_loaded") is not None:
            row(f"{label}: numpy imported by the disabled() run (0/1)",
                d.median("report.numpy_loaded"), "", None)
    return rows


def build_rows(by: dict, args) -> list[list]:
    """(what, measured, unit, goal, measured/goal) per row of the issue's table."""
    rows = []

    def row(what, value, unit, goal):
        rows.append([what, value, unit, goal, _div(value, goal)])

    for model, label in (("server", "Server"), ("user", "user model")):
        dis = _med(by[f"{model}:disabled"], "run_s")
        full, stream = by[f"{model}:full"], by[f"{model}:streaming"]
        row(f"{label}: full() run / disabled() run", _div(_med(full, "run_s"), dis), "x", 1.3)
        row(f"{label}: streaming() run / disabled() run", _div(_med(stream, "run_s"), dis),
            "x", 1.5)
        r_full, reads = _med(full, "run_s"), _med(full, "reads_s")
        row(f"{label}: full() run + first reads / disabled() run",
            _div(r_full + reads, dis) if r_full and reads is not None else None, "x", 1.6)
    row("Server: disabled() run / SimPy run",
        _div(_med(by["server:disabled"], "run_s"), _med(by["simpy:"], "run_s")), "x", None)
    row("user model: SimPy run / disabled() run (speed over SimPy)",
        _div(_med(by["simpy:"], "run_s"), _med(by["user:disabled"], "run_s")), "x", None)
    for model, label in (("server", "Server"), ("user", "user model")):
        c = by[f"inproc:{model}"]
        row(f"{label}, in one process: full() / disabled()",
            _med(c, "full_over_disabled"), "x", 1.25)
        row(f"{label}, in one process: streaming() / disabled()",
            _med(c, "streaming_over_disabled"), "x", 1.3)
    big = by["big:full"]
    n = big.last_report().get("customers") if big.last_report() else None
    tag = f"{n:,}" if n else "?"
    row(f"first trace_store.trace(id) after {tag}-customer full() run",
        _med(big, "trace_s") * 1e3 if _med(big, "trace_s") is not None else None, "ms", 50.0)
    row("  RSS added by that first trace", _med(big, "trace_rss_mb"), "MB", 150.0)
    row("memory per customer after the run (full())", _med(big, "run_bytes_per_customer"),
        "B", None)
    row("memory per customer after spans+events read (full())",
        _med(big, "read_bytes_per_customer"), "B", 700.0)
    nw = big.last_report().get("window_p99_windows") if big.last_report() else None
    row(f"window(1.0).aggregate('p99'), {tag} samples ({nw or '?'} windows) / numpy",
        _div(_med(big, "window_p99_s"), _med(big, "window_p99_numpy_s")), "x", 2.0)
    row("  that query's CPU time", _med(big, "window_p99_s"), "s", None)
    row("gauge time-weighted mean, whole run, warm / numpy",
        _div(_med(big, "gauge_mean_s"), _med(big, "gauge_mean_numpy_s")), "x", 2.0)
    row("  that query's CPU time", (_med(big, "gauge_mean_s") or 0) * 1e3, "ms", None)
    row("peak RSS of the big run's process (after all reads)", _med(big, "peak_rss_mb"),
        "MB", None)
    rows += live_rows(by, args)
    imp = by["import:happysimulator"]
    row("import happysimulator", _med(imp, "import_s"), "s", 0.15)
    row("  its RSS", _med(imp, "import_rss_mb"), "MB", None)
    first = by["import:first-sim"]
    row("import + first default() Simulation built and run",
        _med(first, "import_s"), "s", 0.15)
    row("  its RSS", _med(first, "import_rss_mb"), "MB", None)
    row("  import simpy (context)", _med(by["import:simpy"], "import_s"), "s", None)
    row("disabled() memory per customer (LatencyTracker default)",
        _med(by["mem:default"], "bytes_per_customer"), "B", None)
    bounded = _med(by["mem:bounded"], "bytes_per_customer")
    row("disabled() memory per customer, LatencyTracker(max_samples=1000)", bounded, "B",
        None)
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--worker", metavar="CASE", help=argparse.SUPPRESS)
    p.add_argument("--quick", action="store_true",
                   help="20k / 200k customers, 3 rounds (about 2 minutes)")
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds (7)")
    p.add_argument("--customers", type=int, default=None, help="customers per run (100000)")
    p.add_argument("--big-customers", type=int, default=None,
                   help="customers of the big full() run (1000000)")
    p.add_argument("--cases", default=None, help="comma list of cases (default: all)")
    p.add_argument("--repo", default=REPO,
                   help="the checkout whose code is measured (default: this one); e.g. a "
                        "`git worktree` of an older commit for a before/after pair")
    p.add_argument("--baseline", metavar="REPO", default=None,
                   help="another checkout (e.g. a `git worktree` of an older commit): each "
                        "case also runs on it, interleaved, and a before/after table ends "
                        "the output")
    p.add_argument("--json-out", metavar="PATH", help="also write every run's JSON there")
    args = p.parse_args(argv)
    args.rounds = args.rounds or (3 if args.quick else 7)
    args.customers = args.customers or (20_000 if args.quick else 100_000)
    args.big_customers = args.big_customers or (200_000 if args.quick else 1_000_000)
    if args.worker:
        print(json.dumps(worker(args.worker, args.customers, args.big_customers)))
        return 0

    sys.path.insert(0, HERE)
    from _harness import Contender, compile_packages, format_table, git_head, run_interleaved

    cases = (CASES if args.cases is None else ENGINE_CASES if args.cases == "engine"
             else tuple(args.cases.split(",")))
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        p.error(f"unknown case(s) {unknown}; valid: {', '.join(CASES)}")
    repos = [("", args.repo)] + ([("@base", args.baseline)] if args.baseline else [])
    for _, repo in repos:
        # an installed package has its bytecode (pip compiles it): with
        # PYTHONDONTWRITEBYTECODE=1 the import cases would otherwise time the compiler
        compile_packages(repo, ("happysimulator", "happysim_rx", "operators"))
    contenders = [
        Contender.command(case + tag, [sys.executable, os.path.abspath(__file__), "--worker",
                                       case, "--customers", str(args.customers),
                                       "--big-customers", str(args.big_customers)],
                          env={"PYTHONPATH": os.path.abspath(repo)}, cwd=repo,
                          timeout_s=1800)
        for case in cases for tag, repo in repos
    ]
    print(f"running {len(contenders)} cases x {args.rounds} rounds, interleaved ...",
          file=sys.stderr, flush=True)
    run_interleaved(contenders, args.rounds,
                    progress=lambda s: print(s, file=sys.stderr, flush=True))
    by = {c.name: c for c in contenders}
    failed = [(c.name, e) for c in contenders for e in c.errors()]
    head = git_head(args.repo)
    print(f"code measured: {os.path.abspath(args.repo)} at {head or '?'}")
    print(f"M/M/1 lambda={LAMBDA:g} mu={MU:g}, {args.customers:,} customers per run "
          f"({args.big_customers:,} in the big run), seed {SEED}; medians of {args.rounds} "
          "interleaved rounds, each case in a fresh process, CPU time")
    headers = ["what", "measured", "unit", "goal", "measured/goal"]
    if set(cases) == set(CASES):
        print(format_table(headers, build_rows(by, args)))
    if set(ENGINE_CASES) <= set(cases):
        print(format_table(headers, [r for tag, _ in repos for r in engine_rows(by, tag)]))
    elif set(LIVE_CASES[:3]) <= set(cases):  # the live window's rows, for each checkout
        print(format_table(headers, [r for tag, _ in repos for r in live_rows(by, args, tag)]))
    print("\nper case (medians):")
    for c in contenders:
        rep = c.last_report() or {}
        keys = [k for k, v in rep.items() if isinstance(v, (int, float))]
        vals = ", ".join(f"{k}={c.median('report.' + k):.4g}" for k in keys
                         if c.median("report." + k) is not None)
        print(f"  {c.name:<22} peak RSS {c.median('max_rss_mb') or 0:7.1f} MB  {vals}")
    if args.baseline:
        base_head = git_head(args.baseline)
        print(f"\nbefore/after (baseline: {os.path.abspath(args.baseline)}"
              f"{' at ' + base_head if base_head else ''}), medians:")
        rows = []
        for case in cases:
            after, before = by[case], by[case + "@base"]
            rep = after.last_report() or {}
            for k in (k for k, v in rep.items() if isinstance(v, (int, float))):
                a, b = _med(after, k), _med(before, k)
                rows.append([case, k, b, a, _div(a, b)])
        print(format_table(["case", "figure", "before", "after", "after/before"], rows))
    for name, e in failed:
        print(f"  ! {name}: {e}")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"args": vars(args), "cases": [c.to_dict(()) for c in contenders]}, f,
                      indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
