"""The browser debugger on a long ``streaming()`` run (>= 10^6 events) of a model with two
servers, at full speed, in headless Chromium.

While it runs, the queueing view updates (stations in flow order with utilization, queue
length, throughput). At the end every chart is honest: windows strictly in time order,
never overlapping, no line drawn across missing windows, the stretches the streaming
store answers from coarser rollups shaded and labelled with their width, and the CSV
says each row's window width. Two tabs show the same breakpoints and speed, after a
reload too.
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

from conftest import Pages, wait_js

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import ObservabilityConfig

EVENTS = 1_000_000
PER_CUSTOMER = 6  # events per customer in this model (source tick, 2 x arrival+done, sink)
RATE = 10.0  # arrivals per simulated second


def build(customers: int = 1000, seed: int = 1) -> Simulation:
    """Front (1 server) -> Back (2 servers) -> Sink, Poisson arrivals, bounded stores."""
    front = Server("Front", concurrency=1, service_time=ExponentialLatency(0.08))
    back = Server("Back", concurrency=2, service_time=ExponentialLatency(0.15))
    sink = LatencyTracker("Sink", max_samples=10_000)
    front.downstream = back
    back.downstream = sink
    source = Source.poisson(rate=RATE, target=front, limit=customers)
    return Simulation(sources=[source], entities=[front, back, sink], seed=seed,
                      observability=ObservabilityConfig.streaming())


def test_a_long_streaming_run_in_the_browser(browser) -> None:
    from happysimulator.observability import serve

    server = serve(build, port=0, params={"customers": EVENTS // PER_CUSTOMER + 1000},
                   quiet=True)
    pages = Pages(browser)
    try:
        a = pages.open(server.url)
        for series, agg in (("Front|queue_depth", "mean"), ("Sink|latency", "p99")):
            a.select_option("#chart-series", series)
            a.select_option("#chart-agg", agg)
            a.fill("#chart-window", "1")
            a.click("#btn-chart-add")
        wait_js(a, "document.querySelectorAll('.chart').length === 2")
        a.select_option("#bp-kind", "metric")
        a.select_option("#bp-series", "Back|queue_depth")
        a.fill("#bp-threshold", "1000000")
        a.click("#btn-bp-add")
        wait_js(a, "document.querySelectorAll('#bp-list li[data-id]').length === 1")
        base = "/".join(server.url.split("/")[:3]) + "/"

        t0 = time.perf_counter()
        a.click("#btn-run")
        # the queueing view updates while it runs: stations in flow order, live numbers
        seen: dict[float, dict] = {}
        while len(seen) < 2:  # (two views at two times: the run lasts ~2 wall seconds)
            q = a.evaluate("window.dbg.status.mode === 'running' && window.dbg.queues")
            # (rates over the last 10 s; and not the view at the end, which a page can get
            # just before the status that says so: the queues drained after the arrivals)
            if q and 30.0 < q.get("time", 0) < 0.95 * EVENTS / PER_CUSTOMER / RATE:
                seen[q["time"]] = q
            assert a.evaluate("window.dbg.status.mode") in ("running", "ready"), \
                "the run ended before the queueing view was seen updating"
            time.sleep(0.05)
        for q in seen.values():
            names = [e["name"] for e in q["entities"]]
            assert names.index("Front") < names.index("Back") < names.index("Sink")
            front = next(e for e in q["entities"] if e["name"] == "Front")
            assert front["role"] == "station" and front["waiting_total"] is not None
            # over 10 s: utilization ~ 10 x 0.08 = 0.8, throughput ~ 10 requests/s
            assert 0.3 < front["stats"]["utilization"] <= 1.0, front
            assert 3.0 < front["stats"]["throughput"] < 20.0, front
        cards = a.locator("#queues .node").evaluate_all("ns => ns.map(n => n.dataset.entity)")
        assert cards.index("Front") < cards.index("Back") < cards.index("Sink")

        wait_js(a, "window.dbg.status.mode === 'complete'", timeout=300)
        took = time.perf_counter() - t0
        status = a.evaluate("window.dbg.status")
        assert status["events_processed"] >= EVENTS
        print(f"{status['events_processed']:,} events through the page in {took:.1f} s")

        # a chart added now asks for its last 1000 windows (10 000 s): the older ones are
        # answered from the streaming store's coarser rollups (the first two charts were
        # filled while it ran, from raw data)
        a.select_option("#chart-series", "Back|queue_depth")
        a.select_option("#chart-agg", "mean")
        a.fill("#chart-window", "10")
        a.click("#btn-chart-add")
        wait_js(a, "document.querySelectorAll('.chart').length === 3 && "
                   "+document.querySelectorAll('.chart')[2].dataset.npoints > 0")
        wait_js(a, "[...window.dbg.charts.values()].every(v => v.plotted && v.bands && "
                   "v.plotted[0].length >= v.rows.length)")  # drawn (on the next frame)

        # honest charts: in time order, no line across a gap, coarser stretches shaded
        for i, view in enumerate(a.evaluate("[...window.dbg.charts.values()].map(v => "
                                            "({rows: v.rows, plotted: v.plotted, "
                                            "bands: v.bands, window: v.c.window}))")):
            rows, (xs, ys) = view["rows"], view["plotted"]
            assert len(rows) > 100
            assert all(r0[0] < r1[0] and r0[1] <= r1[0] + 1e-9 for r0, r1 in
                       zip(rows, rows[1:], strict=False)), "rows out of order or overlapping"
            assert all(x0 < x1 for x0, x1 in zip(xs, xs[1:], strict=False))
            ends = {r[0]: r[1] for r in rows}
            for (x0, y0), (x1, y1) in zip(zip(xs, ys, strict=True),
                                          list(zip(xs, ys, strict=True))[1:], strict=False):
                if y0 is not None and y1 is not None:  # a drawn segment: adjacent windows
                    assert abs(ends[x0] - x1) <= 1e-9 * max(1.0, x1), (x0, x1)
            w = view["window"]
            widths = {round(r[1] - r[0], 6) for r in rows[:-1]}
            coarse = [b for b in view["bands"] if b["kind"] == "coarse"]
            assert w in widths
            # every row wider than the window is in a shaded band labelled with its width,
            # and is not on the line (drawn flat across its range instead)
            for r in rows:
                if r[1] - r[0] > w * 1.001:
                    assert any(b["start"] <= r[0] and r[1] <= b["end"]
                               and abs(b["width"] - (r[1] - r[0])) < 1e-6 for b in coarse)
            assert all(y is None for x, y in zip(xs, ys, strict=True)
                       if ends.get(x, x) - x > w * 1.001)
            if i == 2:  # rollups and raw windows
                assert max(widths) > w and coarse, widths
                assert a.locator(".chart").nth(i).get_attribute("data-coarse") != "0"

            # the chart's CSV: every row with its window's width
            with a.expect_download() as dl:
                a.locator(".chart").nth(i).locator(".btn-csv").click()
            got = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text())))
            assert got and all(g["window_s"] != "" for g in got)
            assert all(abs(float(g["window_s"]) - (float(g["end"]) - float(g["start"])))
                       < 1e-9 for g in got)
            assert w in {float(g["window_s"]) for g in got}
            if i == 2:
                assert max(float(g["window_s"]) for g in got) > w
            spec = json.loads(a.locator(".chart").nth(i).get_attribute("data-query"))
            assert spec["window"] == w

        # two tabs, one state: breakpoints and speed, after a reload too
        a.select_option("#speed", "100")
        b = pages.open(base)
        for page in (a, b):
            wait_js(page, "document.querySelector('#speed').value === '100'")
        b.reload()
        wait_js(b, "window.dbg && window.dbg.ready === true")
        assert b.input_value("#speed") == "100"
        bps = [p.locator("#bp-list li[data-id] span").all_inner_texts() for p in (a, b)]
        assert bps[0] == bps[1] and "Back.queue_depth gt 1e+06" in bps[0][0]
    finally:
        pages.close()
        server.stop()
    assert pages.errors == [], f"errors in the page: {pages.errors}"
