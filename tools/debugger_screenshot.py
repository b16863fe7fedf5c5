"""Make the README's screenshot of the browser debugger (docs/img/debugger.png).

The metastable-failure model paused by a queue-depth breakpoint, two live charts, the
slowest requests of one window with a trace open, and a query in the console.

    .venv/bin/python tools/debugger_screenshot.py [--out docs/img/debugger.png]

Needs the web extra and Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "debugger.png")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from happysimulator.observability import serve

    server = serve(f"{ROOT / 'examples' / 'metastable_failure.py'}:build", port=0,
                   params={"seed": 7}, quiet=True)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1050},
                                    device_scale_factor=1)
            page.goto(server.url)
            page.wait_for_function("window.dbg && window.dbg.ready")
            for series, agg in (("Server|queue_depth", "mean"), ("Server|wait_time", "p99")):
                page.select_option("#chart-series", series)
                page.select_option("#chart-agg", agg)
                page.fill("#chart-window", "1")
                page.click("#btn-chart-add")
            page.wait_for_function("document.querySelectorAll('.chart').length === 2")
            page.select_option("#bp-series", "Server|queue_depth")
            page.fill("#bp-threshold", "20")
            page.fill("#bp-for", "2")
            page.click("#btn-bp-add")
            page.wait_for_selector("#bp-list li")
            page.click("#btn-run")
            page.wait_for_function("window.dbg.status.mode === 'paused'")
            page.wait_for_selector("#bp-list li.fired")
            box = page.locator(".chart .u-over").nth(1).bounding_box()
            x, y = box["x"] + box["width"] * 0.97, box["y"] + box["height"] / 2
            page.mouse.move(x, y)
            page.mouse.click(x, y)
            page.wait_for_selector("#trace-list li")
            page.locator("#trace-list li").first.click()
            page.wait_for_selector("#trace-view .span-bar")
            page.click("#btn-query")
            page.wait_for_selector("#query-table tr")
            page.mouse.move(0, 0)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=True)
            browser.close()
    finally:
        server.stop()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
