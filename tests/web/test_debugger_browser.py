"""The browser debugger, driven through its page in a real headless Chromium.

Load the metastable-failure model, add a metric breakpoint from the page, run, see why it
paused and the live chart up to the pause, step 5, open one request's trace, resume to
the end and download a chart's CSV: its rows must equal the same query made in Python on
an uninterrupted run with the same seed (the watched, paused and stepped run recorded
exactly what a plain run records).

Uses the OS's Chromium (``/usr/bin/chromium``; ``.ci/run`` installs it). Without it the
test is skipped locally and fails in CI (``CI=true``).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("true", "1")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SEED, THRESHOLD, FOR_S = 7, 20, 2.0


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        if IN_CI:
            pytest.fail("Chromium is missing on the CI machine: .ci/run must install it "
                        "(apt-get install chromium)")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    return found


def example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_debug_a_metastable_failure_in_the_browser(tmp_path: Path) -> None:
    executable = chromium_path()
    if IN_CI:
        from playwright.sync_api import sync_playwright
    else:
        sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    from happysimulator.observability import serve

    model = f"{ROOT / 'examples' / 'metastable_failure.py'}:build"  # as `happysim-rx serve`
    server = serve(model, port=0, params={"seed": SEED}, quiet=True)
    build = example("metastable_failure").build
    errors: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000},
                                        accept_downloads=True)
                page.set_default_timeout(15_000)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(server.url)
                page.wait_for_function("window.dbg && window.dbg.ready")
                drive(page, tmp_path, build)
            finally:
                browser.close()
    finally:
        server.stop()
    assert errors == [], f"errors in the page: {errors}"


def drive(page, tmp_path: Path, build) -> None:
    # a live chart of the server's queue depth, and a breakpoint on it, from the page
    page.select_option("#chart-series", "Server|queue_depth")
    page.select_option("#chart-agg", "mean")
    page.fill("#chart-window", "1")
    page.click("#btn-chart-add")
    chart = page.locator(".chart").first
    page.select_option("#bp-kind", "metric")
    page.select_option("#bp-series", "Server|queue_depth")
    page.select_option("#bp-op", "gt")
    page.fill("#bp-threshold", str(THRESHOLD))
    page.fill("#bp-for", str(FOR_S))
    page.click("#btn-bp-add")
    page.wait_for_selector("#bp-list li")

    # run: it pauses on the breakpoint, and the page says why
    page.click("#btn-run")
    page.wait_for_function("window.dbg.status.mode === 'paused'")
    paused_by = page.inner_text("#status-paused-by")
    assert "Server.queue_depth gt 20" in paused_by, paused_by
    status = page.evaluate("window.dbg.status")
    pause_t = status["sim_time"]
    assert 70.0 < pause_t < 150.0  # the blow-up starts at 70 s
    page.wait_for_selector("#bp-list li.fired")
    assert "Server.queue_depth gt 20" in page.inner_text("#marker-list li")
    # the model's entities with their live gauges (the queue depth that fired it, > 20)
    depth = page.locator(".node[data-entity='Server'] .g", has_text="queue_depth")
    assert float(depth.locator("span").nth(1).inner_text()) > THRESHOLD

    # the chart has a point for every closed window up to the pause, and none after it
    page.wait_for_function(
        f"+document.querySelector('.chart').dataset.last >= {int(pause_t) - 1}")
    xs = page.evaluate("[...window.dbg.charts.values()][0].xs")
    assert xs == [float(i) for i in range(int(pause_t))]
    assert page.locator(".chart canvas").count() >= 1
    page.screenshot(path=str(tmp_path / "paused.png"), full_page=True)

    # step 5: exactly five more events
    before = status["events_processed"]
    page.fill("#step-n", "5")
    page.click("#btn-step")
    page.wait_for_function(f"window.dbg.status.events_processed === {before + 5}")
    assert page.inner_text("#status-paused-by").startswith("paused by step")
    # the next (up to) five events: fewer when fewer are pending (a Client keeps one
    # timeout event at a time, so the metastable model's heap is small)
    assert 1 <= page.locator("#next-events li").count() <= 5

    # click a window of the chart: its slowest requests; open one trace
    box = chart.locator(".u-over").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2)
    page.wait_for_selector("#trace-list li")
    first = page.locator("#trace-list li").first
    trace_id = int(first.get_attribute("data-trace"))
    first.click()
    page.wait_for_selector(f"#trace-view .wf[data-trace='{trace_id}'] .span-bar")
    assert page.locator("#trace-view .span-bar.critical").count() >= 1
    page.screenshot(path=str(tmp_path / "trace.png"), full_page=True)

    # resume to the end
    page.click("#btn-run")
    page.wait_for_function("window.dbg.status.mode === 'complete'")

    # the chart's CSV equals the same query in Python, on an uninterrupted run
    spec = json.loads(chart.get_attribute("data-query"))
    with page.expect_download() as dl:
        chart.locator(".btn-csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text())))
    sim = build(seed=SEED)
    sim.run()
    expected = sim.query.execute(spec).to_records()

    # drag across the chart: history at a finer window, through the query API
    box = chart.locator(".u-over").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.4, y, steps=5)
    page.mouse.up()
    page.wait_for_function("document.querySelector('.chart .mode-tag').textContent"
                           ".startsWith('history')")
    zoomed = page.evaluate("[...window.dbg.charts.values()][0].history")
    assert zoomed["window"] < 1.0 and len(zoomed["xs"]) > 20
    z = zoomed["spec"]
    want_zoom = sim.query.execute(z).series
    assert list(zip(zoomed["xs"], zoomed["ys"], strict=True)) == [tuple(p) for p in want_zoom]
    chart.locator(".btn-live").click()
    assert chart.locator(".mode-tag").inner_text() == "live"

    # the query console: a spec in, its rows out
    console = {"kind": "metrics", "name": "wait_time", "entity": "Server", "window": 25,
               "aggregates": ["p50", "p99"]}
    page.fill("#query-input", json.dumps(console))
    page.click("#btn-query")
    page.wait_for_selector("#query-table tr:nth-child(2)")
    want_console = sim.query.execute(console).to_records()
    assert page.locator("#query-table tr").count() == 1 + len(want_console)
    assert len(rows) == len(expected) >= 140  # windows over the whole 150 s run
    for got, want in zip(rows, expected, strict=True):
        assert set(got) == set(want)
        for k, v in want.items():
            if isinstance(v, float):
                assert float(got[k]) == v, (k, got, want)
            else:
                assert got[k] == ("" if v is None else str(v)), (k, got, want)
