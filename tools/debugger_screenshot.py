"""Make the screenshots of the browser debugger in docs/img/.

* ``debugger.png``: the metastable-failure model paused by a queue-depth breakpoint: two
  live charts on one time axis, the queueing view with the requests waiting at the
  server, the events of a 5-event step, and one waiting request's trace.
* ``debugger-long-run.png``: a 10^6-event ``streaming()`` run of a model with two
  servers, paused near its end: the charts' older stretches come from the streaming
  store's coarser rollups (shaded and labelled), the newest at 1 s.

    .venv/bin/python tools/debugger_screenshot.py [--out-dir docs/img]

Needs the web extra and Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def wait_js(page: Any, expr: str, timeout: float = 120.0) -> Any:
    """Poll `expr` (the page's CSP refuses the eval behind Playwright's wait_for_function)."""
    deadline = time.monotonic() + timeout
    while not (value := page.evaluate(expr)):
        if time.monotonic() > deadline:
            raise TimeoutError(expr)
        time.sleep(0.05)
    return value


def two_servers(customers: int = 170_000, seed: int = 1) -> Any:
    """Front (1 server) -> Back (2 servers) -> Sink, Poisson arrivals, bounded stores."""
    from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
    from happysimulator.observability import ObservabilityConfig

    front = Server("Front", concurrency=1, service_time=ExponentialLatency(0.08))
    back = Server("Back", concurrency=2, service_time=ExponentialLatency(0.15))
    sink = LatencyTracker("Sink", max_samples=10_000)
    front.downstream = back
    back.downstream = sink
    source = Source.poisson(rate=10.0, target=front, limit=customers)
    return Simulation(sources=[source], entities=[front, back, sink], seed=seed,
                      observability=ObservabilityConfig.streaming())


def add_chart(page: Any, series: str, aggregate: str, window: float) -> None:
    n = page.locator(".chart").count()
    page.select_option("#chart-series", series)
    page.select_option("#chart-agg", aggregate)
    page.fill("#chart-window", str(window))
    page.click("#btn-chart-add")
    wait_js(page, f"document.querySelectorAll('.chart').length === {n + 1}")


def metastable(browser: Any, out: Path) -> None:
    from happysimulator.observability import serve

    server = serve(f"{ROOT / 'examples' / 'metastable_failure.py'}:build", port=0,
                   params={"seed": 7}, quiet=True)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(server.url)
        wait_js(page, "window.dbg && window.dbg.ready")
        add_chart(page, "Server|queue_depth", "mean", 1)
        add_chart(page, "Server|completed", "rate", 5)
        page.select_option("#bp-series", "Server|queue_depth")
        page.fill("#bp-threshold", "20")
        page.fill("#bp-for", "2")
        page.click("#btn-bp-add")
        wait_js(page, "document.querySelectorAll('#bp-list li[data-id]').length === 1")
        page.click("#btn-run")
        wait_js(page, "window.dbg.status.mode === 'paused'")
        page.fill("#step-n", "5")
        page.click("#btn-step")
        wait_js(page, "document.querySelectorAll('#stepped-events li').length === 5")
        wait_js(page, "document.querySelectorAll('#queues .waiting li').length > 0")
        page.locator("#queues .waiting li").nth(2).click()
        page.wait_for_selector("#trace-view .span-bar")
        page.click("#btn-query")
        page.wait_for_selector("#query-table tr")
        page.mouse.move(900, 260)  # the cursor on a window: its range and value in the head
        time.sleep(0.5)
        page.screenshot(path=str(out), full_page=True)
        page.close()
    finally:
        server.stop()


def long_run(browser: Any, out: Path) -> None:
    from happysimulator.observability import serve

    server = serve(two_servers, port=0, quiet=True)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server.url)
        wait_js(page, "window.dbg && window.dbg.ready")
        add_chart(page, "Front|queue_depth", "mean", 1)
        add_chart(page, "Sink|latency", "p99", 1)
        page.select_option("#bp-kind", "time")
        page.fill("#bp-time", "16500")
        page.click("#btn-bp-add")
        wait_js(page, "document.querySelectorAll('#bp-list li[data-id]').length === 1")
        page.click("#btn-run")
        wait_js(page, "window.dbg.status.mode === 'paused'", timeout=600)
        wait_js(page, "document.querySelector('.chart').dataset.coarse !== '0'")
        time.sleep(0.5)
        page.screenshot(path=str(out), full_page=True)
        page.close()
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    args.out_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=ARGS)
        try:
            metastable(browser, args.out_dir / "debugger.png")
            long_run(browser, args.out_dir / "debugger-long-run.png")
        finally:
            browser.close()
    print(f"wrote {args.out_dir / 'debugger.png'} and {args.out_dir / 'debugger-long-run.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
