"""The debugger's live charts: a `Chart` per series and the operations on them."""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Any

from happysimulator.observability.web._shared import _err

_MIN_LIVE_POINTS = 60  # a live chart never shows fewer of the newest windows than this


class Chart:
    """A live series: ``aggregate`` of ``name`` on ``entity`` over tumbling windows.

    Its points are ``(start, end, value)``: the range each value really answers. A
    streaming store answers older stretches from coarser rollups, so a row may span more
    than ``window`` (the page shades and labels it); ``value`` is None where nothing was
    recorded. Points are kept strictly in time order, never overlapping.
    """

    AGGREGATES = ("mean", "p50", "p90", "p99", "max", "rate", "count", "last")

    def __init__(self, cid: int, name: str, entity: str, aggregate: str, window: float,
                 max_points: int) -> None:
        self.id = cid
        self.name, self.entity, self.aggregate, self.window = name, entity, aggregate, window
        self.points: deque[tuple[float, float, float | None]] = deque(maxlen=max_points)
        self.closed_to = 0.0  # every window ending at or before this is in `points`
        self.cost_per_window = 0.0  # wall seconds a window costs to query (measured)

    def spec(self, start: float, end: float, window: float | None = None) -> dict[str, Any]:
        """The query spec of this chart over [start, end) (what its CSV export runs)."""
        return {"kind": "metrics", "name": self.name, "entity": self.entity,
                "start": start, "end": end, "window": window or self.window,
                "aggregates": [self.aggregate]}

    def describe(self, points: bool = True) -> dict[str, Any]:
        out = {"id": self.id, "name": self.name, "entity": self.entity,
               "aggregate": self.aggregate, "window": self.window,
               "max_points": self.points.maxlen}
        if points:
            out["points"] = list(self.points)
        return out

    def merge(self, pts: list[tuple[float, float, float | None]], replace: bool) -> None:
        """Add newer rows: any kept row they overlap is superseded (a snapped edge can
        start a row before the last one ended), so starts stay strictly increasing."""
        if replace:
            self.points.clear()
        if pts:
            first = pts[0][0]
            while self.points and self.points[-1][1] > first + 1e-9 * max(1.0, abs(first)):
                self.points.pop()
        for p in pts:
            if not self.points or p[0] > self.points[-1][0]:
                self.points.append(p)

class ChartOps:
    """``chart_add``/``chart_remove``/``chart_query`` and the charts' updates (mixed into
    `Debugger`: uses its worker's queries, state and push)."""

    def _op_chart_add(self, req: dict[str, Any]) -> dict[str, Any]:
        name, entity = req.get("name"), req.get("entity", "*")
        aggregate, window = req.get("aggregate", "mean"), req.get("window", 1.0)
        if not isinstance(name, str) or not isinstance(entity, str):
            return _err("bad_request", "chart_add needs 'name' (a series) and 'entity'")
        if aggregate not in Chart.AGGREGATES:
            return _err("bad_request", f"unknown chart aggregate {aggregate!r}",
                        list(Chart.AGGREGATES))
        if isinstance(window, bool) or not isinstance(window, int | float) or \
                not math.isfinite(window) or window <= 0:
            return _err("bad_request", f"window must be a positive number of seconds, "
                                       f"got {window!r}")
        self._chart_ids += 1
        chart = Chart(self._chart_ids, name, entity, aggregate, float(window), self.max_points)
        probe = self._query(chart.spec(0.0, float(window)))
        if not probe.get("ok"):
            return probe  # unknown series: the query engine's error suggests names
        self.charts[chart.id] = chart
        self._update_chart(chart, self.state.get("current_time", 0.0), push=False)
        self._push_shared()  # every page shows it, then its points
        self.push({"type": "points", "chart": chart.id, "points": list(chart.points),
                   "replace": True})
        return {"ok": True, "chart": chart.describe()}

    def _op_chart_remove(self, req: dict[str, Any]) -> dict[str, Any]:
        if self.charts.pop(req.get("id"), None) is None:
            return _err("unknown_name", f"no chart {req.get('id')!r}",
                        [str(i) for i in self.charts])
        self._push_shared()
        return {"ok": True}

    def _op_chart_query(self, req: dict[str, Any]) -> dict[str, Any]:
        """A chart's query over [start, end) (history zoom; default: all closed windows)."""
        chart = self.charts.get(req.get("id"))
        if chart is None:
            return _err("unknown_name", f"no chart {req.get('id')!r}",
                        [str(i) for i in self.charts])
        start = req.get("start", 0.0)
        end = req.get("end", chart.closed_to)
        spec = chart.spec(start, end, req.get("window"))
        return {**self._query(spec), "spec": spec}

    def _update_chart(self, chart: Chart, now: float, flush: bool = False,
                      budget_s: float | None = None, push: bool = True) -> None:
        w = chart.window
        closed = math.floor(now / w + 1e-9) * w
        if flush:  # the run is over: its last, partial window is final too
            closed = max(closed, math.ceil(now / w - 1e-9) * w)
        if closed <= 0.0 or (closed <= chart.closed_to and budget_s is not None):
            return
        # more new windows than a chart keeps: only the newest max_points are asked for
        # (bounded work per update) and they replace what the page shows
        keep = self.max_points
        if budget_s is not None:  # (a first live update measures the cost on a few windows)
            keep = min(keep, _MIN_LIVE_POINTS if chart.cost_per_window == 0 else
                       max(_MIN_LIVE_POINTS, int(budget_s / chart.cost_per_window)))
        start = max(chart.closed_to, closed - w * keep)
        replace = start > chart.closed_to
        oldest = max(0.0, closed - w * self.max_points)
        if budget_s is None and (not chart.points or chart.points[0][0] > oldest + w / 2):
            # stopped: show the last max_points windows, also those a fast run skipped
            start, replace = oldest, True
        elif closed <= chart.closed_to:
            return
        t0 = time.perf_counter()
        resp = self._query(chart.spec(start, closed))
        if not resp.get("ok"):
            return
        n = max(1, round((closed - start) / w))
        took = (time.perf_counter() - t0) / n
        chart.cost_per_window = took if chart.cost_per_window == 0 else \
            0.7 * chart.cost_per_window + 0.3 * took
        agg = chart.aggregate
        pts: list[tuple[float, float, float | None]] = []
        for r in resp["result"]["rows"]:
            if not pts or r["start"] > pts[-1][0]:
                pts.append((r["start"], r["end"], r.get(agg)))
        chart.merge(pts, replace)
        chart.closed_to = closed
        if (pts or replace) and push:
            self.pushes += 1
            self.points_pushed += len(pts)
            self.push({"type": "points", "chart": chart.id, "points": pts, "replace": replace})
