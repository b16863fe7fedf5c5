"""The browser debugger on a long streaming run: push rate, server memory, page memory.

An M/M/1 model with ``ObservabilityConfig.streaming()`` runs for ~10^7 events at full
speed while a headless Chromium shows the debugger page with two live charts (the
server's time-weighted mean queue depth and the sink's p99 latency per simulated second).
Every few seconds it samples:

* the WebSocket push rate (messages/s and chart points/s sent to the page);
* the server process's RSS (the simulation, its bounded stores and the web server all
  live in this process);
* the page's JS heap (Chrome DevTools ``Performance.getMetrics``: JSHeapUsedSize), after
  a forced garbage collection so the figure is what the page really keeps;
* the page's responsiveness: the round trip of one request from the page's own script
  (``fetch /api/op {"op": "state"}``) while the simulation runs.

Then it times, in interleaved rounds, a plain ``sim.run()`` of a shorter run against the
same run watched in the browser (Run clicked to the page showing the end): the overhead
as a ratio of medians, in wall time and in CPU time. The CPU time is the server's: this
process's ``time.process_time()`` (the simulation's run thread, the debugger's worker and
its web server) minus this script's own thread (which drives the page through
Playwright); the browser's CPU time (Chromium and Playwright's driver, this process's
descendants) is reported apart, since on a two-core machine the page and the simulation
compete for the same cores and the wall ratio depends on it.

    .venv/bin/python benchmarks/bench_debugger.py                    # 10^7 events
    .venv/bin/python benchmarks/bench_debugger.py --events 2000000   # shorter
    .venv/bin/python benchmarks/bench_debugger.py --compare before=/tmp/old after=. \
        --overhead-rounds 5                      # the overhead rounds only, two checkouts

With ``--compare``, each round runs a plain ``sim.run()`` and then the watched run with
each checkout's debugger, every run in a fresh process (``--worker``, with ``PYTHONPATH``
at that checkout; its own Chromium), interleaved; an old checkout is e.g. ``git archive
<commit> | tar -x -C /tmp/old`` with this file copied into its ``benchmarks/``.

Needs the web extra and Chromium at /usr/bin/chromium (``apt-get install chromium``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from happysimulator import (  # noqa: E402
    ExponentialLatency,
    LatencyTracker,
    Server,
    Simulation,
    Source,
)
from happysimulator.observability import ObservabilityConfig, serve  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--enable-precise-memory-info", "--js-flags=--expose-gc"]


def build(customers: int = 1000, seed: int = 1) -> Simulation:
    """M/M/1 at load 0.8, streaming (bounded) stores, `customers` arrivals."""
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink", max_samples=10_000)  # the sink's own list stays bounded too
    server.downstream = sink
    source = Source.poisson(rate=8.0, target=server, limit=customers)
    return Simulation(sources=[source], entities=[server, sink], seed=seed,
                      observability=ObservabilityConfig.streaming())


def events_per_customer() -> float:
    sim = build(customers=5000)
    sim.run()
    return sim.events_processed / 5000


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--sample-s", type=float, default=3.0,
                        help="wall seconds between two samples")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--overhead-events", type=int, default=1_000_000,
                        help="events per run of the overhead rounds (0: skip them)")
    parser.add_argument("--overhead-rounds", type=int, default=3,
                        help="interleaved rounds of a plain sim.run() and the same run "
                             "watched in the browser, after the long run")
    parser.add_argument("--compare", nargs="+", metavar="NAME=PATH",
                        help="only the overhead rounds, the watched run with each "
                             "checkout's debugger (see above)")
    parser.add_argument("--worker", choices=("plain", "watched"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(args)
    if args.compare:
        return _compare(args)

    from playwright.sync_api import sync_playwright

    per = events_per_customer()
    customers = int(args.events / per)
    server = serve(build, port=0, params={"customers": customers}, quiet=True)
    dbg = server.debugger
    rows: list[dict[str, float]] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(server.url)
        wait_js(page, "window.dbg && window.dbg.ready")
        add_charts(page)

        def heap_mb() -> float:
            cdp.send("HeapProfiler.collectGarbage")
            metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
            return metrics["JSHeapUsedSize"] / 2**20

        def round_trip_ms() -> float:
            return page.evaluate("""async () => {
                const t = performance.now();
                await fetch('api/op', {method: 'POST', body: '{"op": "state"}',
                  headers: {'Content-Type': 'application/json'}});  // the cookie authenticates
                return performance.now() - t; }""")

        t0 = time.perf_counter()
        page.click("#btn-run")
        last = (t0, 0, 0, 0)
        while True:
            time.sleep(args.sample_s)
            now = time.perf_counter()
            msgs, pts = server.hub.sent, dbg.points_pushed
            st = dbg.state
            rows.append({
                "wall_s": now - t0, "events": st.get("events_processed", 0),
                "sim_time": st.get("current_time", 0.0),
                "msgs_per_s": (msgs - last[1]) / (now - last[0]),
                "points_per_s": (pts - last[2]) / (now - last[0]),
                "events_per_s": (st.get("events_processed", 0) - last[3]) / (now - last[0]),
                "rss_mb": rss_mb(), "js_heap_mb": heap_mb(), "rtt_ms": round_trip_ms(),
                "page_points": page.evaluate(
                    "[...window.dbg.charts.values()].reduce((n, v) => n + v.rows.length, 0)"),
            })
            last = (now, msgs, pts, st.get("events_processed", 0))
            r = rows[-1]
            print(f"{r['wall_s']:6.1f} s  {r['events']:>10,} events  t={r['sim_time']:>9.0f}  "
                  f"{r['events_per_s']:>8,.0f} ev/s  {r['msgs_per_s']:5.1f} msg/s  "
                  f"{r['points_per_s']:7.0f} pts/s  RSS {r['rss_mb']:6.1f} MB  "
                  f"JS heap {r['js_heap_mb']:5.1f} MB  page pts {r['page_points']:5d}  "
                  f"rtt {r['rtt_ms']:5.1f} ms", flush=True)
            if not dbg.running:
                break
        run_s = time.perf_counter() - t0
        dbg.request({"op": "status"}).result()  # the end's final chart update is pushed
        wait_js(page, "window.dbg.status.mode === 'complete'")
        time.sleep(0.5)
        final_points = page.evaluate(
            "[...window.dbg.charts.values()].map((v) => v.rows.length)")
        final_heap = heap_mb()
        status = page.evaluate("window.dbg.status")
        server.stop()
        plain: list[tuple[float, float]] = []
        watched: list[tuple[float, float, float]] = []
        for _ in range(args.overhead_rounds if args.overhead_events else 0):
            plain.append(plain_run(int(args.overhead_events / per)))
            watched.append(watched_run(browser, int(args.overhead_events / per)))
            print(f"overhead round: plain {plain[-1][0]:.2f} s (CPU {plain[-1][1]:.2f} s), "
                  f"watched {watched[-1][0]:.2f} s (server CPU {watched[-1][1]:.2f} s, "
                  f"browser CPU {watched[-1][2]:.2f} s)", flush=True)
        browser.close()

    steady = rows[len(rows) // 5:] or rows  # after the first fifth: stores and page warm
    print("\nsummary")
    events = status["events_processed"]
    print(f"  events: {events:,} in {run_s:.0f} s wall ({status['sim_time']:,.0f} simulated "
          f"s, {events / run_s:,.0f} events/s); page shows {status['mode']}")
    if plain:
        p, w = (statistics.median(r[0] for r in rs) for rs in (plain, watched))
        pc, wc = statistics.median(r[1] for r in plain), statistics.median(r[1] for r in watched)
        bc = statistics.median(r[2] for r in watched)
        print(f"  overhead ({len(plain)} interleaved rounds of {args.overhead_events:,} "
              f"events): plain sim.run() {p:.2f} s, watched in the browser {w:.2f} s "
              f"(medians): {w / p:.2f}x wall")
        print(f"  overhead in CPU time (medians): plain sim.run() {pc:.2f} s, the server's "
              f"process while watched {wc:.2f} s: {wc / pc:.2f}x; the browser (Chromium "
              f"and Playwright's driver) meanwhile {bc:.2f} s")
        print(f"  load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
              f"on {os.cpu_count()} cores")
    print(f"  push rate: median {statistics.median(r['msgs_per_s'] for r in steady):.1f} "
          f"messages/s, {statistics.median(r['points_per_s'] for r in steady):.0f} chart "
          "points/s")
    rss = [r["rss_mb"] for r in steady]
    slope = _slope([r["events"] / 1e6 for r in steady], rss)
    print(f"  server RSS: {rss[0]:.1f} MB -> {rss[-1]:.1f} MB (min {min(rss):.1f}, "
          f"max {max(rss):.1f}; trend {slope:+.2f} MB per million events) over the last "
          f"{len(steady)} samples")
    heap = [r["js_heap_mb"] for r in steady]
    print(f"  page JS heap: {heap[0]:.1f} MB -> {heap[-1]:.1f} MB while running (max "
          f"{max(heap):.1f}), {final_heap:.1f} MB at the end with {final_points} points "
          "in its charts (cap 1000 each)")
    rtt = sorted(r["rtt_ms"] for r in rows)
    print(f"  page request round trip while running: median {statistics.median(rtt):.1f} "
          f"ms, max {rtt[-1]:.1f} ms")
    return 0


def _worker(args: argparse.Namespace) -> int:
    """One overhead run in this process: prints [wall, server CPU, browser CPU] as JSON."""
    import json

    customers = int(args.overhead_events / events_per_customer())
    if args.worker == "plain":
        print(json.dumps([*plain_run(customers), 0.0]))
        return 0
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        try:
            print(json.dumps(watched_run(browser, customers)))
        finally:
            browser.close()
    return 0


def _compare(args: argparse.Namespace) -> int:
    """Interleaved rounds: a plain run, then the watched run with each checkout."""
    import json
    import subprocess

    checkouts = {}
    for spec in args.compare:
        name, sep, path = spec.partition("=")
        script = os.path.join(path, "benchmarks", "bench_debugger.py")
        if not sep or not name or not os.path.isfile(script):
            raise SystemExit(f"--compare wants NAME=PATH of a checkout holding "
                             f"benchmarks/bench_debugger.py, got {spec!r}")
        checkouts[name] = os.path.abspath(path)
    runs: dict[str, list[list[float]]] = {}
    for r in range(args.overhead_rounds):
        for name in ["plain", *checkouts]:
            path = checkouts.get(name, REPO)
            cmd = [sys.executable, os.path.join(path, "benchmarks", "bench_debugger.py"),
                   "--worker", "plain" if name == "plain" else "watched",
                   "--overhead-events", str(args.overhead_events), "--chromium", args.chromium]
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, cwd=path,
                                 env={**os.environ, "PYTHONPATH": path}, check=True)
            got = json.loads(out.stdout.strip().splitlines()[-1])
            runs.setdefault(name, []).append(got)
            print(f"round {r + 1} {name:>10s}: wall {got[0]:6.2f} s, server CPU {got[1]:6.2f} s, "
                  f"browser CPU {got[2]:5.2f} s", flush=True)
    p, pc = (statistics.median(g[i] for g in runs["plain"]) for i in (0, 1))
    print(f"\nsummary: medians of {args.overhead_rounds} interleaved rounds of "
          f"{args.overhead_events:,} events (load average at the end "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    for name, got in runs.items():
        w, c, b = (statistics.median(g[i] for g in got) for i in (0, 1, 2))
        print(f"  {name:>10s}: wall {w:6.2f} s ({w / p:.2f}x), server CPU {c:6.2f} s "
              f"({c / pc:.2f}x), browser CPU {b:5.2f} s")
    return 0


def add_charts(page) -> None:
    """The server's mean queue depth and the sink's p99 latency per simulated second."""
    for series, agg in (("Server|queue_depth", "mean"), ("Sink|latency", "p99")):
        page.select_option("#chart-series", series)
        page.select_option("#chart-agg", agg)
        page.fill("#chart-window", "1")
        page.click("#btn-chart-add")
    wait_js(page, "document.querySelectorAll('.chart').length === 2")


def plain_run(customers: int) -> tuple[float, float]:
    """(wall, CPU) seconds of a plain ``sim.run()``."""
    sim = build(customers=customers)
    c, t = time.process_time(), time.perf_counter()
    sim.run()
    return time.perf_counter() - t, time.process_time() - c


def watched_run(browser, customers: int) -> tuple[float, float, float]:
    """The same run from the page's Run click to the page showing the end: (wall seconds,
    the server's CPU seconds, the browser's CPU seconds)."""
    server = serve(build, port=0, params={"customers": customers}, quiet=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(server.url)
        wait_js(page, "window.dbg && window.dbg.ready")
        add_charts(page)
        b0, c0, m0 = children_cpu_s(), time.process_time(), time.thread_time()
        t = time.perf_counter()
        page.click("#btn-run")
        # asking the page 20 times a second costs the browser CPU the run competes with:
        # wait for the server to finish first (no CPU), then for the page to show it
        while not server.debugger.state.get("is_complete") and time.perf_counter() - t < 3600:
            time.sleep(0.02)
        wait_js(page, "window.dbg.status.mode === 'complete'", timeout=3600, every_s=0.01)
        wall = time.perf_counter() - t
        server_cpu = (time.process_time() - c0) - (time.thread_time() - m0)
        return wall, server_cpu, children_cpu_s() - b0
    finally:
        page.close()
        server.stop()


def children_cpu_s() -> float:
    """CPU seconds (user + system) of this process's live descendants (the browser and
    Playwright's driver), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    kids: dict[int, list[tuple[int, float]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        kids.setdefault(int(fields[1]), []).append(
            (int(entry), (int(fields[11]) + int(fields[12])) / tick))
    total, todo = 0.0, [os.getpid()]
    while todo:
        for pid, cpu in kids.get(todo.pop(), []):
            total += cpu
            todo.append(pid)
    return total


def wait_js(page, expr: str, timeout: float = 120.0, every_s: float = 0.05) -> None:
    """Poll `expr` every `every_s` (the page's CSP refuses the eval behind
    wait_for_function)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expr):
        if time.monotonic() > deadline:
            raise TimeoutError(expr)
        time.sleep(every_s)


def _slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs (0 when xs do not vary)."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0


if __name__ == "__main__":
    sys.exit(main())
