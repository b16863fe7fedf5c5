"""Exports for people and for models: JSON / CSV / DataFrames, and a compact summary.

    exporter = Exporter(sim)                       # or Exporter(sim.query)
    exporter.to_json(sim.query.metrics("latency").window(1.0).aggregate("p99"))
    brief = exporter.summary(budget_bytes=8_000)   # a dict; json.dumps(brief) fits the budget

The summary's shape is versioned (``"schema": "happysim-rx.summary/1"``) and described by
the JSON Schema in ``docs/schemas/summary-v1.schema.json``. Within the byte budget it
keeps, in order of priority: run metadata, breakpoints hit, anomalies, per-series
statistics, windowed trends, then sample traces; whatever had to be cut is listed under
``"truncated"`` so a model knows what it is not seeing.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import msgspec

from happysim_rx import Exporter as _BaseExporter
from happysim_rx import QueryEngine
from happysimulator.observability.boundary_query import traced_population

SCHEMA_ID = "happysim-rx.summary/1"
_STATS = {
    "gauge": ("mean", "min", "max", "p50", "p99", "last"),
    "sample": ("count", "mean", "p50", "p99", "max"),
    "counter": ("sum", "rate"),
}
_TREND_AGG = {"gauge": "mean", "sample": "mean", "counter": "rate"}


def _round(x: Any, digits: int = 4) -> Any:
    if isinstance(x, float):
        if not math.isfinite(x):
            return None
        return float(f"{x:.{digits}g}")
    return x


def _size(obj: Any) -> int:
    return len(msgspec.json.encode(obj))


def _at_boundary(method: Any) -> Any:
    """Run an export through the simulation's ``control.call``: safe from any thread,
    and a whole export (many queries) sees one consistent state."""

    @functools.wraps(method)
    def wrapper(self: Exporter, *args: Any, **kwargs: Any) -> Any:
        control = getattr(self.sim, "control", None)
        if control is None:
            return method(self, *args, **kwargs)
        return control.call(method, self, *args, **kwargs)

    return wrapper


class Exporter(_BaseExporter):
    """`happysim_rx.Exporter` plus `summary()`; accepts a `Simulation` or a `QueryEngine`.

    Every public method is safe from any thread: it runs at an event boundary through
    ``sim.control.call``.
    """

    def __init__(self, source: Any) -> None:
        if isinstance(source, QueryEngine):
            engine = source
            sim = getattr(getattr(source, "clock", None), "_sim", None)
        elif isinstance(getattr(source, "query", None), QueryEngine):
            engine, sim = source.query, source
        else:
            raise TypeError(
                f"Exporter needs a Simulation or a QueryEngine, got {type(source).__name__}")
        super().__init__(engine)
        self.sim = sim

    # ---- the compact summary ----------------------------------------------------------
    def summary(self, *, budget_bytes: int = 16_000, trend_points: int = 12,
                sample_traces: int = 3, max_series: int = 50) -> dict[str, Any]:
        """A self-describing digest of the run that fits in `budget_bytes` of JSON."""
        if budget_bytes < 512:
            raise ValueError(f"budget_bytes must be >= 512 (room for run metadata), got {budget_bytes}")
        engine = self.engine
        now = engine.now() or 0.0
        series = self._series(now, trend_points, max_series)
        doc: dict[str, Any] = {
            "schema": SCHEMA_ID,
            "run": self._run_meta(now),
            "breakpoints": self._breakpoints(),
            "anomalies": self._anomalies(now),
            "series": series,
            "traces": self._traces(sample_traces),
            "truncated": [],
            "budget_bytes": budget_bytes,
        }
        # the size field counts itself: reserve room for it while fitting, then settle
        # on the value that is true once written
        doc["size_bytes"] = budget_bytes
        self._fit(doc, budget_bytes)
        for _ in range(3):
            size = _size(doc)
            if doc["size_bytes"] == size:
                break
            doc["size_bytes"] = size
        return doc

    def summary_json(self, **kwargs: Any) -> str:
        return msgspec.json.encode(self.summary(**kwargs)).decode()

    def _run_meta(self, now: float) -> dict[str, Any]:
        meta: dict[str, Any] = {"current_time_s": _round(now, 9)}
        sim = self.sim
        if sim is not None:
            meta.update(
                seed=sim.seed,
                events_processed=sim.events_processed,
                start_time_s=sim.start_time.to_seconds(),
                end_time_s=None if sim.end_time is None else sim.end_time.to_seconds(),
            )
            control = getattr(sim, "control", None)
            if control is not None:
                state = control.get_state()
                meta.update(is_paused=state.is_paused, is_complete=state.is_complete,
                            paused_by=state.paused_by, stop_reason=state.stop_reason)
        return meta

    def _breakpoints(self) -> list[dict[str, Any]]:
        control = getattr(self.sim, "control", None)
        if control is None:
            return []
        return [bp.to_dict() for bp in control.list_breakpoints()]

    def _anomalies(self, now: float) -> list[dict[str, Any]]:
        store = self.engine.event_store
        if store is None:
            return []
        rows = store.between(-math.inf, math.inf, name="anomaly")
        out = []
        for r in rows:
            v = r.get("value") or {}
            out.append({k: _round(v.get(k)) for k in
                        ("time", "source", "metric", "kind", "value", "baseline", "onset")})
        return out

    def _series(self, now: float, trend_points: int, max_series: int) -> list[dict[str, Any]]:
        engine = self.engine
        out = []
        catalog = engine.catalog()["metrics"]
        for info in catalog[:max_series]:
            name, source, kind = info["name"], info["source"], info["series_kind"] or "sample"
            stats = _STATS.get(kind, _STATS["sample"])
            try:
                r = engine.metrics(name).from_entity(source).aggregate(*stats).execute()
            except ValueError:
                continue
            if not r.rows or r.rows[0].get("start") is None:  # declared, never recorded
                continue
            row = r.rows[0]
            entry: dict[str, Any] = {
                "source": source, "name": name, "kind": kind,
                "weighting": r.weighting, "exact": r.exact,
                "start_s": _round(row.get("start"), 9), "end_s": _round(row.get("end"), 9),
                "stats": {k: _round(row.get(k)) for k in stats},
            }
            start, end = row.get("start"), row.get("end")
            known = start is not None and end is not None
            if known and end - start > 1e-6 * max(1.0, abs(end)) and trend_points > 0:
                width = (end - start) / trend_points
                width = float(f"{width:.2g}") or width
                trend = engine.metrics(name).from_entity(source).between(start, end) \
                    .window(width).aggregate(_TREND_AGG.get(kind, "mean")).execute()
                agg = _TREND_AGG.get(kind, "mean")
                entry["trend"] = {"window_s": width, "aggregate": agg,
                                  "values": [_round(w.get(agg)) for w in trend.rows]}
            out.append(entry)
        return out

    def _traces(self, k: int) -> dict[str, Any]:
        store = self.engine.trace_store
        if store is None or k <= 0:
            return {"count": 0, "samples": []}
        durations = store.durations()  # (duration, id) per trace, without building spans
        durations.sort(reverse=True)
        samples = []
        for dur, tid in durations[:k]:
            spans = sorted(store.trace(tid), key=lambda s: (s.start, s.span_id))
            samples.append({
                "trace_id": tid,
                "duration_s": _round(dur),
                "spans": [{"entity": s.entity, "start_s": _round(s.start, 9),
                           "duration_s": _round(s.end - s.start), "parent_id": s.parent_id,
                           "span_id": s.span_id} for s in spans],
            })
        out: dict[str, Any] = {"count": len(durations), "selection": "slowest",
                               "samples": samples}
        of = traced_population(self.sim, store) if self.sim is not None else None
        if of is not None:  # a sample / the kept traces: count and slowest are of those
            out["of"] = of
        return out

    @staticmethod
    def _fit(doc: dict[str, Any], budget: int) -> None:
        """Cut the least important detail until the JSON fits the budget."""
        truncated = doc["truncated"]
        traces = doc["traces"]
        while _size(doc) > budget and traces["samples"]:
            traces["samples"].pop()
            if "trace samples" not in truncated:
                truncated.append("trace samples")
        while _size(doc) > budget and any(len(e.get("trend", {}).get("values", [])) > 3
                                          for e in doc["series"]):
            for e in doc["series"]:
                t = e.get("trend")
                if t and len(t["values"]) > 3:
                    vals = t["values"]
                    # halve the resolution: average neighbouring windows
                    t["values"] = [_round(_mean2(vals[i:i + 2])) for i in range(0, len(vals), 2)]
                    t["window_s"] = _round(t["window_s"] * 2)
            if "trend resolution" not in truncated:
                truncated.append("trend resolution")
        while _size(doc) > budget and any("trend" in e for e in doc["series"]):
            for e in reversed(doc["series"]):
                if "trend" in e:
                    del e["trend"]
                    break
            if "trends" not in truncated:
                truncated.append("trends")
        while _size(doc) > budget and doc["series"]:
            doc["series"].pop()
            if "series" not in truncated:
                truncated.append("series")
        while _size(doc) > budget and doc["anomalies"]:
            doc["anomalies"].pop(0)  # keep the most recent
            if "anomalies" not in truncated:
                truncated.append("anomalies")
        bps = doc["breakpoints"]
        while _size(doc) > budget and bps:
            # the ones that never fired go first, then the newest
            idle = [i for i, b in enumerate(bps) if not b.get("hits")]
            bps.pop(idle[-1] if idle else -1)
            if "breakpoints" not in truncated:
                truncated.append("breakpoints")


def _mean2(vals: list[Any]) -> Any:
    nums = [v for v in vals if isinstance(v, int | float)]
    return sum(nums) / len(nums) if nums else None


def _wrap_public(cls: type) -> None:
    """Every public method of `cls` (its own and inherited) runs at an event boundary."""
    for klass in reversed(cls.__mro__[:-1]):
        for name, fn in vars(klass).items():
            if not name.startswith("_") and callable(fn) and not isinstance(
                    fn, (staticmethod, classmethod, type)):
                setattr(cls, name, _at_boundary(fn))


_wrap_public(Exporter)
