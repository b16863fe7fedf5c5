"""The debugger's server side without a browser: the worker that runs the session in
slices, its live charts, its bounds and its errors (its routes: test_debugger_http.py)."""

from __future__ import annotations

import json
import math
import time

import pytest

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import ObservabilityConfig

pytest.importorskip("starlette")

from debugger_helpers import ask, mm1, settle  # noqa: E402

from happysimulator.observability.web.driver import Debugger  # noqa: E402
from happysimulator.observability.web.session import open_session  # noqa: E402


def test_a_sliced_run_records_exactly_the_uninterrupted_run() -> None:
    messages: list[dict] = []
    dbg = Debugger(open_session(mm1), messages.append, max_points=1000)
    try:
        chart = ask(dbg, op="chart_add", name="latency", entity="Sink", aggregate="p99",
                    window=2.5)
        assert chart["ok"], chart
        dbg._span = 0.5  # many slices: the first ones are short
        assert ask(dbg, op="run")["ok"]
        settle(dbg)
        assert dbg.slices >= 3
        assert ask(dbg, op="status")["status"]["mode"] == "complete"
        ref = mm1()
        ref.run()
        for name in ("queue_depth", "latency", "wait_time"):
            spec = {"kind": "metrics", "name": name}
            resp = ask(dbg, op="query", query=spec, budget_bytes=4_000_000)
            assert resp.get("truncated") is None
            got = resp["result"]["rows"]
            assert got == json.loads(json.dumps(ref.query.execute(spec).to_records()))
        # the pushed windows are the windowed query of the whole run, last partial one too
        pushed = [tuple(p) for m in messages if m["type"] == "points" for p in m["points"]]
        want = ref.query.execute({"kind": "metrics", "name": "latency", "entity": "Sink",
                                  "start": 0, "end": 60.0, "window": 2.5,
                                  "aggregates": ["p99"]}).to_records()
        assert pushed == [(r["start"], r["end"], r["p99"]) for r in want] and len(pushed) == 24
        # the model as the spans show it: requests flow Source -> Server -> Sink
        graph = ask(dbg, op="graph")
        assert [n["id"] for n in graph["nodes"]] == ["Source", "Server", "Sink"]
        assert {(e["from"], e["to"]) for e in graph["edges"]} == {("Source", "Server"),
                                                                  ("Server", "Sink")}
    finally:
        dbg.close()


def test_memory_is_bounded_and_a_paced_run_follows_the_wall_clock() -> None:
    messages: list[dict] = []
    dbg = Debugger(open_session(lambda: mm1(end_time=1e9,
                                            config=ObservabilityConfig.streaming())),
                   messages.append, max_points=20, max_markers=3)
    try:
        assert ask(dbg, op="chart_add", name="queue_depth", entity="Server",
                   aggregate="mean", window=0.5)["ok"]
        for t in (5.0, 10.0, 15.0, 20.0, 25.0):
            assert ask(dbg, op="add_breakpoint", time=t)["ok"]
        for _ in range(5):
            assert ask(dbg, op="run")["ok"]
            settle(dbg)
        assert len(dbg.markers) == 3 and dbg.markers[-1]["time"] == pytest.approx(25.0)
        chart = next(iter(dbg.charts.values()))
        assert len(chart.points) == 20 and chart.points[-1][0] == pytest.approx(24.5)
        # a chart that more than max_points windows passed since its last update: only
        # the newest 20 are asked for, and they replace what the page had
        fine = ask(dbg, op="chart_add", name="queue_depth", entity="Server",
                   aggregate="max", window=0.05)["chart"]
        assert len(fine["points"]) == 20 and fine["points"][-1][0] == pytest.approx(24.95)
        assert ask(dbg, op="run_until", time=27.0)["ok"]
        settle(dbg)
        last = [m for m in messages if m["type"] == "points" and m["chart"] == fine["id"]][-1]
        assert last["replace"] is True
        assert [p[0] for p in last["points"]] == pytest.approx([26.0 + 0.05 * i
                                                                for i in range(20)])
        # paced: 40 simulated seconds per wall second (and a reset stops a run by itself)
        assert ask(dbg, op="run", speed=40)["ok"]
        assert ask(dbg, op="reset")["ok"] and not dbg.running
        assert ask(dbg, op="status")["status"]["sim_time"] == 0.0
        assert len(ask(dbg, op="list_breakpoints")["breakpoints"]) == 5  # kept by reset
        assert ask(dbg, op="clear_breakpoints")["ok"]
        assert ask(dbg, op="run", speed=40)["ok"]
        t0 = dbg.state["current_time"]
        time.sleep(0.8)
        assert ask(dbg, op="pause")["ok"]
        advanced = dbg.state["current_time"] - t0
        assert 10.0 < advanced < 48.0, advanced
        assert ask(dbg, op="status")["status"]["paused_by"] == "pause() from the debugger"
        # stopped: every chart shows its last max_points closed windows, contiguous
        closed = math.floor(dbg.state["current_time"] / 0.5) * 0.5
        starts = [p[0] for p in chart.points]
        assert starts == pytest.approx([closed - 0.5 * (20 - i) for i in range(20)])
    finally:
        dbg.close()


def test_bad_requests_get_typed_errors_and_lose_nothing() -> None:
    dbg = Debugger(open_session(mm1))
    try:
        for req, kind in [({"op": "chart_add", "name": "latency", "aggregate": "p42x"},
                           "bad_request"),
                          ({"op": "chart_add", "name": "latency", "window": 0}, "bad_request"),
                          ({"op": "speed", "speed": -1}, "bad_request"),
                          ({"op": "chart_remove", "id": 99}, "unknown_name"),
                          ({"op": "run", "until": "soon"}, "bad_request")]:
            resp = ask(dbg, **req)
            assert resp["ok"] is False and resp["error"]["kind"] == kind, (req, resp)
        unknown = ask(dbg, op="chart_add", name="latencyy", entity="Sink")
        assert unknown["ok"] is False and "latency" in unknown["error"]["message"]
        assert ask(dbg, op="no_such_op")["ok"] is False
        bp = ask(dbg, op="add_breakpoint", metric={"source": "Server", "name": "queue_depth",
                                                  "operator": "ge", "threshold": 4})
        assert bp["ok"], bp
        assert ask(dbg, op="run")["ok"]
        settle(dbg)
        status = ask(dbg, op="status")["status"]
        assert ask(dbg, op="run_until", time=status["sim_time"] - 1.0)["error"]["kind"] \
            == "bad_request"
        assert status["mode"] == "paused" and status["paused_by"].startswith(
            "metric Server.queue_depth ge 4")
        assert status["fired_breakpoint"] == bp["breakpoint"]["id"]
        # nothing recorded was lost by the bad requests: the run goes on to the end
        assert ask(dbg, op="clear_breakpoints")["ok"]
        assert ask(dbg, op="resume")["ok"]
        settle(dbg)
        assert ask(dbg, op="status")["status"]["mode"] == "complete"
    finally:
        dbg.close()


def test_anomaly_markers_and_a_reset_with_a_new_seed() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    messages: list[dict] = []
    dbg = Debugger(open_session(f"{root / 'examples' / 'metastable_failure.py'}:build"),
                   messages.append)
    try:
        bp = ask(dbg, op="add_breakpoint", anomaly={"source": "Server", "metric": "queue_depth",
                                                    "confirm_after": 8.0})  # as the example
        assert bp["ok"], bp
        assert ask(dbg, op="run")["ok"]
        settle(dbg)
        status = ask(dbg, op="status")
        assert status["status"]["paused_by"].startswith("anomaly level_shift")
        assert status["status"]["fired_breakpoint"] == bp["breakpoint"]["id"]
        kinds = {m["kind"]: m for m in status["markers"]}
        pause_t = status["status"]["sim_time"]
        assert kinds["breakpoint"]["time"] == pytest.approx(pause_t)
        # the anomaly is marked where the detector saw it begin, before the pause
        assert 70.0 <= kinds["anomaly"]["time"] < pause_t
        assert "onset" in kinds["anomaly"]["label"]

        # reset with another seed: a fresh run of that seed, nothing of the old one shown
        assert ask(dbg, op="chart_add", name="queue_depth", entity="Server",
                   aggregate="max", window=10.0)["ok"]
        reset = ask(dbg, op="reset", seed=11)
        assert reset["ok"] and reset["model"]["seed"] == 11, reset
        assert any(m["type"] == "reset" for m in messages)
        after = ask(dbg, op="status")
        assert after["markers"] == [] and after["status"]["sim_time"] == 0.0
        assert after["charts"][0]["points"] == []
        # breakpoints outlive a reset: re-armed on the fresh model, every page told
        kept = ask(dbg, op="list_breakpoints")["breakpoints"]
        assert [b["description"] for b in kept] == [bp["breakpoint"]["description"]]
        assert kept[0]["hits"] == 0 and reset["breakpoints"] == kept
        shared = [m for m in messages if m["type"] == "shared"][-1]
        assert shared["breakpoints"] == kept
        assert ask(dbg, op="clear_breakpoints")["ok"]
        assert ask(dbg, op="run")["ok"]
        settle(dbg)
        mod_build = _example_build(root)
        ref = mod_build(seed=11)
        ref.run()
        want = ref.query.execute({"kind": "metrics", "name": "queue_depth",
                                  "entity": "Server", "start": 0, "end": 150.0,
                                  "window": 10.0, "aggregates": ["max"]}).series
        got = ask(dbg, op="status")["charts"][0]["points"]
        assert [(p[0], p[2]) for p in got] == [tuple(x) for x in want]
    finally:
        dbg.close()


def _example_build(root):
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("example_metastable_web",
                                                  root / "examples" / "metastable_failure.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.build


def test_every_static_file_of_the_page_is_package_data() -> None:
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["happysimulator.observability.web"]
    web = root / "happysimulator" / "observability" / "web"
    files = [p.relative_to(web).as_posix() for p in (web / "static").rglob("*") if p.is_file()]
    assert "static/vendor/uPlot.iife.min.js" in files and "static/index.html" in files
    for f in files:  # setuptools globs do not cross directories
        assert any(fnmatch.fnmatch(f, pat) and f.count("/") == pat.count("/")
                   for pat in patterns), f"{f} is not package data: {patterns}"


def test_a_model_fault_stops_the_run_and_is_reported() -> None:
    from happysimulator import Entity

    class Flaky(Entity):
        def handle_event(self, event):
            if self.now.to_seconds() > 5.0:
                raise ZeroDivisionError("the model divided by zero")
            return None

    def faulty():
        flaky = Flaky("Flaky")
        source = Source.poisson(rate=8.0, target=flaky, stop_after=60.0)
        return Simulation(sources=[source], entities=[flaky], seed=1, end_time=60.0,
                          observability=ObservabilityConfig.full())

    dbg = Debugger(open_session(faulty))
    try:
        assert ask(dbg, op="run")["ok"]
        settle(dbg)
        status = ask(dbg, op="status")["status"]
        assert status["mode"] == "faulted", status
        assert "ZeroDivisionError" in status["fault"]
        assert 5.0 < status["sim_time"] < 6.0
        # what was recorded is still there to question
        done = ask(dbg, op="query", query={"kind": "metrics", "name": "generated",
                                           "aggregates": ["count"]})
        assert done["ok"] and done["result"]["rows"][0]["count"] > 0
    finally:
        dbg.close()


def test_a_fast_run_shows_the_newest_windows_and_a_stop_brings_back_the_rest(
        monkeypatch) -> None:
    from happysimulator.observability.web import charts, driver

    monkeypatch.setattr(driver, "_CHART_SHARE", 1e-9)  # live updates get ~no time...
    monkeypatch.setattr(charts, "_MIN_LIVE_POINTS", 5)  # ...so they keep the newest 5
    monkeypatch.setattr(driver, "_CHARTS_EVERY_S", 0.0)  # after every slice
    monkeypatch.setattr(driver, "_CHARTS_MAX_EVERY_S", 0.0)  # (whatever they cost)
    messages: list[dict] = []
    dbg = Debugger(open_session(lambda: mm1(end_time=1e9,
                                            config=ObservabilityConfig.streaming())),
                   messages.append, max_points=200)
    try:
        cid = ask(dbg, op="chart_add", name="queue_depth", entity="Server", aggregate="mean",
                  window=0.5)["chart"]["id"]
        dbg._span = 2.0
        assert ask(dbg, op="run", until=400.0)["ok"]
        settle(dbg)
        live = [m for m in messages if m["type"] == "points" and m["chart"] == cid][:-1]
        assert any(m["replace"] and len(m["points"]) == 5 for m in live)
        chart = dbg.charts[cid]
        assert [p[0] for p in chart.points] == pytest.approx([300.0 + 0.5 * i
                                                              for i in range(200)])
        assert messages[-1]["type"] == "status" and any(
            m["type"] == "points" and m["replace"] and len(m["points"]) == 200
            for m in messages[-4:])
    finally:
        dbg.close()


class _WithTopology:
    """A session whose catalog carries a topology (``catalog["entities"]``), as the
    protocol's catalog does when it knows the model's structure."""

    def __init__(self, inner, entities):
        self.inner, self.entities = inner, entities

    @property
    def sim(self):
        return self.inner.sim

    def handle(self, req):
        resp = self.inner.handle(req)
        if req.get("op") == "catalog" and resp.get("ok"):
            resp["catalog"]["entities"] = self.entities
        return resp


def test_the_queueing_view_follows_the_topology_and_lists_who_waits() -> None:
    topology = [
        {"name": "Source", "type": "Source", "role": "source", "rate": 8.0,
         "downstream": ["Server"], "observed_downstream": [], "series": []},
        {"name": "Server", "type": "Server", "role": "station", "concurrency": 1,
         "service_time": {"distribution": "exponential", "mean": 0.1},
         "downstream": ["Sink"], "observed_downstream": [], "series": []},
        {"name": "Sink", "type": "LatencyTracker", "role": "sink", "downstream": [],
         "observed_downstream": [], "series": []},
        {"name": "watcher", "type": "observer", "role": "detector", "downstream": [],
         "observed_downstream": [], "series": []},
    ]
    messages: list[dict] = []
    session = _WithTopology(open_session(lambda: mm1(end_time=200.0)), topology)
    dbg = Debugger(session, messages.append)
    try:
        assert ask(dbg, op="add_breakpoint", metric={"source": "Server", "name": "queue_depth",
                                                    "operator": "ge", "threshold": 6})["ok"]
        assert ask(dbg, op="run")["ok"]
        settle(dbg)
        q = ask(dbg, op="queues")
        assert q["topology"] == "catalog"
        assert [e["name"] for e in q["entities"]] == ["Source", "Server", "Sink"]
        assert [d["name"] for d in q["detectors"]] == ["watcher"]
        server = next(e for e in q["entities"] if e["name"] == "Server")
        now = q["time"]
        assert server["stats"]["queue_length"] == 6 and server["waiting_total"] == 6
        # the waiting requests are the server's waiting line, oldest first, with how long
        line = list(session.sim.entities[0].queue.policy)
        assert [w["id"] for w in server["waiting"]] == [ev.context["id"] for ev, _ in line]
        assert [w["waited_s"] for w in server["waiting"]] == pytest.approx(
            [now - ns / 1e9 for _, ns in line])
        # throughput and utilization: the query's answers over the last 10 s
        def one(name, agg):
            r = ask(dbg, op="query", query={"kind": "metrics", "name": name,
                                            "entity": "Server", "start": max(0.0, now - 10.0),
                                            "end": now + 1e-9, "aggregates": [agg]})
            return r["result"]["rows"][0][agg]
        assert server["stats"]["throughput"] == pytest.approx(one("completed", "rate"))
        assert server["stats"]["utilization"] == pytest.approx(one("in_flight", "mean"))
        assert any(m["type"] == "queues" for m in messages)
    finally:
        dbg.close()


def test_watching_a_fast_run_is_bounded_per_wall_second() -> None:
    """At full speed every slice (~0.1 s) moves the clock, but the page gets at most 4
    status updates and 4 chart updates a wall second, and the gauges at most 2."""
    from happysimulator.observability.web import driver

    stamped: list[tuple[float, dict]] = []
    dbg = Debugger(open_session(lambda: mm1(end_time=1e9)),  # (full(): exact history)
                   lambda msg: stamped.append((time.perf_counter(), msg)))
    try:
        cid = ask(dbg, op="chart_add", name="queue_depth", entity="Server",
                  aggregate="mean", window=1.0)["chart"]["id"]
        assert ask(dbg, op="run")["ok"]
        t0 = time.perf_counter()
        time.sleep(2.0)
        slices = dbg.slices
        assert ask(dbg, op="pause")["ok"]
        settle(dbg)
        stop = next(t for t, m in stamped if t > t0 and m["type"] == "status"
                    and m["status"]["mode"] == "paused")
        running = [m for t, m in stamped if t0 <= t < stop]
        took = stop - t0

        def count(kind: str) -> int:
            return sum(m["type"] == kind and m.get("chart", cid) == cid for m in running)

        assert slices > 2 * count("status"), (slices, count("status"))  # (not one a slice)
        assert 2 <= count("status") <= took / driver._STATUS_EVERY_S + 2
        assert 1 <= count("points") <= took / driver._CHARTS_EVERY_S + 2
        assert 1 <= count("gauges") <= took / driver._GAUGE_EVERY_S + 2
        # what the bounds leave out is a moving view, never a wrong one: the stop brings
        # the chart's newest closed windows, contiguous, equal to the query's answer
        chart = dbg.charts[cid]
        rows = ask(dbg, op="chart_query", id=cid, start=chart.points[0][0],
                   end=chart.closed_to)["result"]["rows"]
        assert [tuple(p) for p in chart.points] == [(r["start"], r["end"], r["mean"])
                                                    for r in rows]
    finally:
        dbg.close()


@pytest.mark.parametrize("config", ["full", "streaming"])
def test_a_gauge_set_long_ago_still_shows_its_last_value(config: str) -> None:
    """Gauges are read over the last 10 s (cheap): the value shown for one set long
    before is still the whole run's last value (a store carries it into later ranges,
    and a store that answered nothing would be asked over the whole run)."""
    early = Server("Early", concurrency=1, service_time=ExponentialLatency(0.1))
    late = Server("Late", concurrency=1, service_time=ExponentialLatency(0.1))
    sinks = [LatencyTracker("SinkA"), LatencyTracker("SinkB")]
    early.downstream, late.downstream = sinks
    sim = Simulation(sources=[Source.poisson(rate=8.0, target=early, stop_after=2.0,
                                             name="SourceA"),
                              Source.poisson(rate=8.0, target=late, stop_after=100.0,
                                             name="SourceB")],
                     entities=[early, late, *sinks], seed=5, end_time=100.0,
                     observability=getattr(ObservabilityConfig, config)())
    dbg = Debugger(open_session(sim))
    try:
        assert ask(dbg, op="run")["ok"]
        settle(dbg)
        now = dbg.state["current_time"]
        assert now > 50.0
        shown = {(g["entity"], g["name"]): g["value"] for g in dbg.gauges}
        for entity in ("Early", "Late"):
            for name in ("queue_depth", "in_flight"):
                whole = ask(dbg, op="query", query={
                    "kind": "metrics", "name": name, "entity": entity, "start": 0.0,
                    "end": now + 1e-9, "aggregates": ["last"]})["result"]["rows"][0]["last"]
                assert whole is not None and shown[entity, name] == whole, (entity, name)
        station = {e["name"]: e for e in dbg.queues["entities"]}["Early"]["stats"]
        assert station["queue_length"] == shown["Early", "queue_depth"]
        assert station["in_service"] == shown["Early", "in_flight"]
    finally:
        dbg.close()


def test_a_page_that_falls_behind_gets_a_resync_not_a_silent_gap() -> None:
    import asyncio

    from happysimulator.observability.web.app import Hub

    hub = Hub()
    slow: asyncio.Queue = asyncio.Queue(maxsize=3)
    hub.clients.add(slow)
    for i in range(5):
        hub._fan_out({"type": "points", "chart": 1, "points": [[i, i + 1, 0.0]]})
    got = [slow.get_nowait() for _ in range(slow.qsize())]
    # three kept, then the overflow replaced them all by one resync, then one more
    assert [m["type"] for m in got] == ["resync", "points"] and hub.resyncs == 1
