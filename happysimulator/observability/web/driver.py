"""The debugger's engine room: one worker thread owns the session and runs it in slices.

Every protocol request is executed on that one thread, so the page never touches the
simulation concurrently with its run loop. A run from the page is a sequence of short
``run_until`` slices (about 0.1 s of wall time each, or paced to a sim-seconds-per-second
speed); between two slices the worker answers queued requests (queries, breakpoints,
traces, a pause), refreshes the live charts from the newest *closed* windows and pushes
what changed. Pausing and resuming in slices is deterministic (the engine guarantees a
paused-and-resumed run equals the uninterrupted one), so a run watched in the browser
records exactly what a plain ``sim.run()`` records.

Memory and work are bounded whatever the run length: each chart keeps at most
``max_points`` windows, markers at most ``max_markers``; charts are brought up to date at
most 4 times a wall second and may use 8% of the wall time while the model runs: when
more windows closed since than that allows (or than ``max_points``), only the newest are
queried and they replace what the page shows (a moving view of the newest windows at full
speed; a pause brings the last ``max_points`` windows, and any range of history is a zoom
query away). While running, the status goes out at most 4 times a wall second; the
gauges, the queueing view and the next events at most twice and at least once (between
the two, as often as 4% of the wall time allows). At full speed the model closes thousands of windows
per chart and wall second, far more than a page can show or the worker can read for free
(25-55 us each), so these bounds, not the run's length or speed, set what watching costs.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from happysimulator.observability.web._shared import _err, _past_now
from happysimulator.observability.web.charts import Chart, ChartOps
from happysimulator.observability.web.download import DownloadOps
from happysimulator.observability.web.graph import GraphOps
from happysimulator.observability.web.queues import QueueOps
from happysimulator.observability.web.shared import SharedOps

_SLICE_WALL_S = 0.1  # wall time a max-speed slice aims at: the pause/answer latency
_PACE_TICK_S = 0.05  # wall time between two paced slices
_CHARTS_EVERY_S = 0.25  # how often a run's newly closed windows are pushed (at most)
_CHARTS_MAX_EVERY_S = 1.0  # ... and at least this often, whatever they cost
_CHART_SHARE = 0.08  # of a running worker's wall time that chart queries may use
_GAUGE_EVERY_S = 0.5  # how often the model's gauges, queues and next events are refreshed
_GAUGE_SHARE = 0.04  # ... while running: at most this share of the worker's wall time
_GAUGE_MAX_EVERY_S = 1.0  # ... but at least this often (the queueing view stays live)
_STATUS_EVERY_S = 0.25  # while running, the status (time, events, rate) goes out this often
_CATALOG_EVERY_S = 5.0  # while running, the series list for the gauges is this fresh
_BIG = 4_000_000  # the protocol's largest answer budget
_ADVANCING = frozenset({"run", "resume", "step", "run_until"})
_BREAKPOINT_OPS = frozenset({"add_breakpoint", "remove_breakpoint", "clear_breakpoints"})


class Debugger(ChartOps, GraphOps, DownloadOps, SharedOps, QueueOps):
    """Runs a session (``handle(dict) -> dict``) on a worker thread for the web page.

    `push` receives every message for the page (called on the worker thread; it must not
    block). Use `request` (thread-safe) to send a page request and get a Future of the
    response.
    """

    def __init__(self, session: Any, push: Callable[[dict[str, Any]], None] | None = None,
                 *, max_points: int = 1000, max_markers: int = 200) -> None:
        self.session = session
        self.push = push or (lambda msg: None)
        self.max_points = max_points
        self.export_budget = _BIG  # bytes per export answer; longer ones are fetched in parts
        self._jobs: queue.Queue[tuple[dict[str, Any], Future[dict[str, Any]]] | None] = \
            queue.Queue()
        self.charts: dict[int, Chart] = {}
        self._chart_ids = 0
        self.markers: deque[dict[str, Any]] = deque(maxlen=max_markers)
        self.running = False
        self.speed: float | None = None  # None: as fast as possible; else sim-s per wall-s
        self._until: float | None = None
        self._span = 0.1  # sim seconds of the next max-speed slice (adapts)
        self._pace: tuple[float, float] | None = None  # (wall, sim) anchor of a paced run
        self.state: dict[str, Any] = {}
        self._breakpoints: list[dict[str, Any]] = []
        self.paused_by: str | None = None
        self.next_events: list[dict[str, Any]] = []
        self.next_events_at: float | None = None  # the simulated time they were read at
        self.stepped: list[dict[str, Any]] = []  # the events of the last step
        self._catalog: dict[str, Any] | None = None
        self.gauges: list[dict[str, Any]] = []
        self._rate: deque[tuple[float, int]] = deque(maxlen=64)  # (wall, events) samples
        self._last_refresh = 0.0
        self._gauge_cost = 0.0  # wall seconds the last gauges/queues refresh took
        self._last_charts = 0.0
        self._last_charts_run = 0.0
        self._last_status = 0.0
        self._charts_cost = 0.0  # wall seconds the last live update of the charts took
        self._catalog_cost = 0.0  # wall seconds the last catalog took
        self._catalog_took = 0.0  # ... in the last refresh of the gauges (0: not read)
        self._series: list[dict[str, Any]] | None = None
        self._has_anomalies = False
        self._anomalies_to = 0.0  # anomaly reports before this time are markers already
        self._series_at = 0.0
        self.slices = 0
        self.pushes = 0  # chart messages pushed
        self.points_pushed = 0
        self._closed = False
        self._init_shared()
        self._init_queues()
        self._thread = threading.Thread(target=self._loop, name="happysim-debugger",
                                        daemon=True)
        self._thread.start()
        self.request({"op": "refresh"}).result()  # the model's state, gauges and queues

    # ---- the page's side (any thread) -------------------------------------------------
    def request(self, req: dict[str, Any]) -> Future[dict[str, Any]]:
        """Queue a request; its response arrives in the Future (never an exception)."""
        fut: Future[dict[str, Any]] = Future()
        if self._closed:
            fut.set_result(_err("state", "the debugger is closed"))
        else:
            self._jobs.put((req, fut))
        return fut

    def close(self) -> None:
        self._closed = True
        self._jobs.put(None)
        self._thread.join(timeout=5)

    # ---- the worker -------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=None if not self.running else 0)
            except queue.Empty:
                job = ()
            if job is None:
                return
            if job:
                req, fut = job
                try:
                    resp = self._dispatch(req)
                except Exception as exc:  # the page must always get an answer
                    resp = _err("model_fault", f"{type(exc).__name__}: {exc}")
                fut.set_result(resp)
                continue  # answer everything queued before the next slice
            if self.running:
                try:
                    self._slice()
                except Exception as exc:
                    self._stop(f"error: {type(exc).__name__}: {exc}")

    def _query(self, spec: dict[str, Any]) -> dict[str, Any]:
        """A query for the page's own views (whole answers: they are bounded by design)."""
        return self._forward({"op": "query", "query": spec, "budget_bytes": _BIG})

    def _forward(self, req: dict[str, Any]) -> dict[str, Any]:
        resp = self.session.handle(req)
        if isinstance(resp, dict) and isinstance(resp.get("state"), dict):
            self.state = resp["state"]
        return resp

    def _dispatch(self, req: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(req, dict):
            return _err("bad_request", "a request is a JSON object with an 'op' field")
        op = req.get("op")
        local = _LOCAL_OPS.get(op) if isinstance(op, str) else None
        if local is not None:
            return local(self, req)
        if self.running and op == "reset":
            self._stop("reset")  # a reset needs no pause first: the old run is discarded
        if self.running and op in _ADVANCING | {"reset", "load"}:
            return _err("state", f"{op!r} needs a paused simulation, but it is running; "
                                 "pause it first")
        resp = self._forward(req)
        if op in _BREAKPOINT_OPS and resp.get("ok"):
            self._breakpoints_changed(req, resp)
        if op in _ADVANCING | {"reset", "load"} and resp.get("ok"):
            self.paused_by = None  # the state's own paused_by (e.g. step()) now applies
            self.stepped = list(resp.get("events") or []) if op == "step" else []
            if op in ("reset", "load"):
                self._clear()
                dropped = self._rearm_breakpoints()  # breakpoints outlive a reset
                resp = {**resp, "breakpoints": self.breakpoints,
                        "breakpoints_dropped": dropped}
                self._push_shared()
            self._after_advance(real_pause=True)
        return resp

    # ---- operations of the debugger itself --------------------------------------------
    def _op_run(self, req: dict[str, Any]) -> dict[str, Any]:
        """Run (from the page: in slices) to the next pause, ``until`` or the end."""
        if self.running:
            return _err("state", "the simulation is already running")
        if self._refresh_state().get("is_complete"):
            return _err("state", "the simulation is complete; reset it to run again")
        until = req.get("until")
        if until is not None:
            if isinstance(until, bool) or not isinstance(until, int | float) or \
                    not math.isfinite(until):
                return _err("bad_request", f"'until' must be a number of seconds, got {until!r}")
            now = self.state.get("current_time", 0.0)
            if until < now:
                return _err("bad_request", f"until={until:g} is in the past (now {now:g} s)")
        if "speed" in req:
            bad = self._set_speed(req["speed"])
            if bad:
                return bad
        self._until = None if until is None else float(until)
        self.running = True
        self.paused_by = None
        self.stepped = []
        self._pace = None
        self._push_status()
        return {"ok": True, "status": self.status()}

    def _op_pause(self, req: dict[str, Any]) -> dict[str, Any]:
        if self.running:
            self._stop("pause() from the debugger")
            return {"ok": True, "status": self.status()}
        return self._forward(req)

    def _op_resume(self, req: dict[str, Any]) -> dict[str, Any]:
        if not self._refresh_state().get("is_paused"):
            return self._forward(req)  # the session's own error names the state
        return self._op_run(req)

    def _op_run_until(self, req: dict[str, Any]) -> dict[str, Any]:
        t = req.get("time", req.get("t", req.get("until")))
        return self._op_run({**req, "until": t})

    def _op_speed(self, req: dict[str, Any]) -> dict[str, Any]:
        return self._set_speed(req.get("speed")) or {"ok": True, "speed": self.speed}

    def _op_refresh(self, req: dict[str, Any]) -> dict[str, Any]:
        """Bring everything the page shows up to date (as after a pause)."""
        if not self.running:
            self._after_advance(real_pause=True)
        return {"ok": True, "status": self.status()}

    def _op_stepped(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "events": self.stepped}

    def _set_speed(self, speed: Any) -> dict[str, Any] | None:
        if speed in (None, "max"):
            self.speed = None
        elif isinstance(speed, int | float) and not isinstance(speed, bool) and \
                math.isfinite(speed) and speed > 0:
            self.speed = float(speed)
        else:
            return _err("bad_request", f"speed must be 'max' or a positive number of "
                                       f"simulated seconds per second, got {speed!r}")
        self._pace = None
        self._push_shared()
        self._push_status()
        return None

    def _op_status(self, req: dict[str, Any]) -> dict[str, Any]:
        """Everything a page shows: a new or reloaded page starts from this snapshot."""
        return {"ok": True, "status": self.status(), "markers": list(self.markers),
                "charts": [c.describe() for c in self.charts.values()],
                "shared": self.shared(), "queues": self.queues, "gauges": self.gauges}

    # ---- running in slices -------------------------------------------------------------
    def _slice(self) -> None:
        now = self.state.get("current_time", 0.0)
        wall = time.perf_counter()
        if self.speed is None:
            target = now + self._span
        else:
            if self._pace is None:
                self._pace = (wall, now)
            target = self._pace[1] + self.speed * (wall + _PACE_TICK_S - self._pace[0])
            if target <= now:
                target = now + self.speed * _PACE_TICK_S
        if self._until is not None:
            target = min(target, self._until)
        resp = self._forward({"op": "run_until", "time": target, "wait_s": 600.0})
        if not resp.get("ok"):
            self._stop(f"error: {resp.get('error', {}).get('message')}")
            return
        took = time.perf_counter() - wall
        self.slices += 1
        state = self.state
        if self.speed is None:  # aim the next slice at _SLICE_WALL_S of wall time
            grow = _SLICE_WALL_S / took if took > 0 else 8.0
            self._span = max(1e-6, min(self._span * min(grow, 8.0), 1e9))
        paused_by = state.get("paused_by") or ""
        if state.get("is_complete"):
            self._stop(None)
        elif not paused_by.startswith("run_until("):
            self._stop(paused_by, breakpoint=True)  # a breakpoint (or the model) paused it
        elif self._until is not None and state.get("current_time", 0.0) >= self._until:
            self._stop(paused_by)
        else:
            self._after_advance(real_pause=False)
            if self.speed is not None:
                # paced: wait for the wall clock (answering requests meanwhile)
                lag = self._pace[0] + (state["current_time"] - self._pace[1]) / self.speed \
                    - time.perf_counter() if self._pace else 0.0
                if lag < -1.0:  # cannot keep up: re-anchor rather than burst to catch up
                    self._pace = None
                elif lag > 0:
                    self._wait(min(lag, 0.5))

    def _wait(self, seconds: float) -> None:
        try:
            job = self._jobs.get(timeout=seconds)
        except queue.Empty:
            return
        self._jobs.put(job)  # handled by the loop before the next slice (order kept)

    def _stop(self, paused_by: str | None, breakpoint: bool = False) -> None:
        self.running = False
        self._until = None
        self._refresh_state()
        self.paused_by = paused_by if not self.state.get("is_complete") else None
        if breakpoint and paused_by:
            self.markers.append({"time": self.state.get("current_time"), "label": paused_by,
                                 "kind": "breakpoint"})
            self.push({"type": "marker", "marker": self.markers[-1]})
            self._list_breakpoints()  # its hits
            self._push_shared()
        self._after_advance(real_pause=True)

    def _refresh_state(self) -> dict[str, Any]:
        resp = self._forward({"op": "state"})
        if resp.get("ok"):
            self.state = resp["state"]
            self._breakpoints = resp.get("breakpoints", [])
        return self.state

    def _clear(self) -> None:
        for chart in self.charts.values():
            chart.points.clear()
            chart.closed_to = 0.0
        self.markers.clear()
        self._anomalies_to = 0.0
        self._has_anomalies = False
        self._series = None
        self._rate.clear()
        self.paused_by = None
        self._span = 0.1
        self.selection = {"trace_id": None, "window": None, "chart": None}  # of the old run
        self.push({"type": "reset"})

    def _after_advance(self, real_pause: bool) -> None:
        """Bring charts, gauges and the status to the page after the simulation moved."""
        if real_pause:
            self._refresh_state()
            if not self.running and not self.state.get("is_complete"):
                self.paused_by = self.paused_by or self.state.get("paused_by")
        now = self.state.get("current_time", 0.0)
        done = bool(self.state.get("is_complete"))
        wall = time.perf_counter()
        gauges_due = real_pause or wall - self._last_refresh >= max(
            _GAUGE_EVERY_S, min(self._gauge_cost / _GAUGE_SHARE, _GAUGE_MAX_EVERY_S))
        # charts: at most every _CHARTS_EVERY_S, and less often when even their smallest
        # update (the newest _MIN_LIVE_POINTS windows) costs more than their share (a
        # loaded machine, many charts), but at least every _CHARTS_MAX_EVERY_S
        charts_due = real_pause or wall - self._last_charts >= max(
            _CHARTS_EVERY_S, min(self._charts_cost / _CHART_SHARE, _CHARTS_MAX_EVERY_S))
        if (gauges_due or charts_due) and not real_pause:
            self._flush_stores(now)
        if gauges_due:
            t = time.perf_counter()
            self._last_refresh = wall
            self._refresh_gauges(now, fresh_catalog=real_pause)
            # a big model refreshes less often (the catalog has its own schedule)
            self._gauge_cost = time.perf_counter() - t - self._catalog_took
        if charts_due:
            t = time.perf_counter()
            self._last_charts = wall
            # while running, charts get a share of the worker's time (the rest runs the
            # model); a real pause or the end brings every chart fully up to date
            share = None if real_pause else \
                _CHART_SHARE * max(wall - self._last_charts_run, _CHARTS_EVERY_S)
            self._last_charts_run = wall
            for chart in list(self.charts.values()):
                self._update_chart(chart, now, flush=done,
                                   budget_s=None if share is None else share / len(self.charts))
            self._anomaly_markers(now)
            if not real_pause:
                self._charts_cost = time.perf_counter() - t
        self._rate.append((wall, int(self.state.get("events_processed", 0))))
        # every slice moves the clock, but a page needs only a few status updates a second
        # (each redraws its charts' "now" line); a stop always goes out
        if real_pause or wall - self._last_status >= _STATUS_EVERY_S:
            self._last_status = wall
            self._push_status()

    def _flush_stores(self, now: float) -> None:
        """Bring the metric store up to date before the gauges and charts read it.

        The first read after a slice flushes what the run recorded since the last flush:
        the run's own work (a plain run does it at its scheduled flushes), not the cost of
        watching, so it is done here, outside the time the refreshes measure to pace
        themselves (else every refresh would look as costly as the recording it follows).
        """
        series = self._series[0] if self._series else None
        if series is not None:
            self._query({"kind": "metrics", "name": series["name"],
                         "entity": series["source"], "start": now, "end": now,
                         "aggregates": ["count"]})

    def _anomaly_markers(self, now: float) -> None:
        """Anomaly reports (the detectors' ``anomaly`` events) become markers at their
        onset, labelled with when they were reported and the level seen."""
        if not self._has_anomalies or now <= self._anomalies_to:
            return
        resp = self._query({"kind": "events", "name": "anomaly",
                            "start": self._anomalies_to, "end": _past_now(now)})
        if not resp.get("ok"):
            return
        self._anomalies_to = _past_now(now)
        for row in resp["result"]["rows"]:
            rep = row.get("value") if isinstance(row.get("value"), dict) else {}
            onset = rep.get("onset", row["time"])
            value = rep.get("value")
            label = (f"anomaly {rep.get('detector', row.get('source'))}: onset t={onset:g}s, "
                     f"reported t={row['time']:g}s"
                     + (f", level {value:.4g}" if isinstance(value, int | float) else ""))
            self.markers.append({"time": onset, "label": label, "kind": "anomaly"})
            self.push({"type": "marker", "marker": self.markers[-1]})

    def _refresh_gauges(self, now: float, fresh_catalog: bool = True) -> None:
        peek = self._forward({"op": "peek", "n": 5}) if not self.state.get("is_complete") \
            else {"ok": True, "events": []}
        self.next_events = peek.get("events", []) if peek.get("ok") else []
        self.next_events_at = self.state.get("current_time")
        wall = time.perf_counter()
        self._catalog_took = 0.0
        # new series appear while a model runs; the catalog (which scans the traces) is
        # refreshed every _CATALOG_EVERY_S, less often if it costs more than its share
        every = max(_CATALOG_EVERY_S, self._catalog_cost / _GAUGE_SHARE)
        if fresh_catalog or self._series is None or wall - self._series_at > every:
            cat = self._forward({"op": "catalog"})
            self._catalog_took = self._catalog_cost = time.perf_counter() - wall
            if cat.get("ok"):
                self._catalog = cat["catalog"]
                self._series = cat["catalog"].get("metrics", [])
                self._series_at = wall
                self._has_anomalies = any(e.get("name") == "anomaly"
                                          for e in cat["catalog"].get("events", []))
        gauges = []
        if self._series is not None:
            for m in self._series[:40]:
                kind = m.get("kind")
                if kind not in ("gauge", "counter"):
                    continue
                agg = "last" if kind == "gauge" else "rate"
                value = None
                # a gauge's last value: set in the last 10 s (cheap to read), else earlier
                for start in [max(0.0, now - 10.0)] + ([0.0] if kind == "gauge" else []):
                    r = self._query({"kind": "metrics", "name": m["name"],
                                     "entity": m["source"], "start": start,
                                     "end": _past_now(now), "aggregates": [agg]})
                    rows = r.get("result", {}).get("rows", []) if r.get("ok") else []
                    value = rows[0].get(agg) if rows else None
                    if value is not None or start == 0.0:
                        break
                gauges.append({"entity": m["source"], "name": m["name"], "kind": kind,
                               "unit": m.get("unit"), "aggregate": agg, "value": value})
        self.gauges = gauges
        self.push({"type": "gauges", "gauges": gauges})
        self._refresh_queues(now, self._catalog, fresh_catalog)

    # ---- status -------------------------------------------------------------------------
    def events_per_s(self) -> float | None:
        if len(self._rate) < 2:
            return None
        (w0, e0), (w1, e1) = self._rate[0], self._rate[-1]
        while len(self._rate) > 2 and w1 - self._rate[0][0] > 2.0:
            self._rate.popleft()
            w0, e0 = self._rate[0]
        return (e1 - e0) / (w1 - w0) if w1 > w0 else None

    def status(self) -> dict[str, Any]:
        st = self.state
        proto = st.get("status")
        mode = ("running" if self.running else "complete" if st.get("is_complete")
                else "faulted" if proto == "faulted"
                else "paused" if self.paused_by or st.get("is_paused") else "ready")
        fired = None
        if self.paused_by and mode == "paused":
            for bp in self._breakpoints:
                if self.paused_by.startswith(bp.get("description") or "\0"):
                    fired = bp.get("id")
        fault = st.get("fault")
        return {"mode": mode, "sim_time": st.get("current_time"),
                "events_processed": st.get("events_processed"),
                "events_per_s": self.events_per_s() if self.running else None,
                "paused_by": self.paused_by if mode == "paused" else None,
                "stop_reason": st.get("stop_reason"), "speed": self.speed,
                "last_event": st.get("last_event"), "next_events": self.next_events,
                "next_events_at": self.next_events_at, "stepped": self.stepped,
                "fired_breakpoint": fired, "heap_size": st.get("heap_size"),
                "end_time": st.get("end_time"),
                "fault": fault.get("message") if isinstance(fault, dict) else None}

    def _push_status(self) -> None:
        self.push({"type": "status", "status": self.status()})


_LOCAL_OPS: dict[str, Callable[[Debugger, dict[str, Any]], dict[str, Any]]] = {
    "run": Debugger._op_run,
    "resume": Debugger._op_resume,
    "run_until": Debugger._op_run_until,
    "pause": Debugger._op_pause,
    "speed": Debugger._op_speed,
    "stepped": Debugger._op_stepped,
    "refresh": Debugger._op_refresh,
    "select": Debugger._op_select,
    "queues": Debugger._op_queues,
    "status": Debugger._op_status,
    "chart_add": Debugger._op_chart_add,
    "chart_remove": Debugger._op_chart_remove,
    "chart_query": Debugger._op_chart_query,
    "graph": Debugger._op_graph,
    "download": Debugger._op_download,
}
