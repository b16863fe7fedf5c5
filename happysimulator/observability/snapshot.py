"""A point-in-time view of the whole model: ``sim.query.snapshot(at)``.

For every entity: each gauge's value in effect at `at` (the last change at or before
it), each counter's total up to and including `at`, each sample series' count and mean
up to and including `at`; and the requests in the system then (waiting and in service,
from the stations' ``queue_depth`` and ``in_flight`` gauges). Every number comes from
the stores through the query engine, so it is exact when the stores are (``exact``
says so). A streaming store whose raw samples no longer reach `at` answers at the
instant just before the nearest rollup bucket edge instead, and ``at`` says so.

    snap = sim.query.snapshot(120.0)
    snap["entities"]["Server"]["gauges"]["queue_depth"]   # the depth in effect at 120 s
    snap["requests"]["total"]
"""

from __future__ import annotations

import glob
import math
from typing import Any

from happysim_rx.query import QueryEngine, QueryError
from operators.simtime import just_after


def _at(engine: Any, at: Any) -> float:
    now = engine.now()
    if at is None:
        if now is None:
            raise QueryError("snapshot needs a time: this engine has no clock")
        return float(now)
    if hasattr(at, "to_seconds"):
        at = at.to_seconds()
    if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
        raise QueryError(f"snapshot(at): at must be finite seconds, got {at!r}")
    at = float(at)
    if at < 0:
        raise QueryError(f"snapshot(at): at must be >= 0, got {at:g}")
    if now is not None and at > now:
        raise QueryError(f"snapshot(at): at = {at:g} s is after now ({now:g} s): nothing "
                         "is recorded there yet")
    return at


def _value(engine: Any, source: str, name: str, end: float, aggs: tuple[str, ...]) -> Any:
    q = (engine.metrics(glob.escape(name)).from_entity(glob.escape(source))
         .between(0.0, end).aggregate(*aggs))
    return run_query(engine, q)


def run_query(engine: Any, q: Any) -> Any:
    """Run `q` on `engine` from where we are (already between two events: the boundary
    engine's hop through ``sim.control.call`` is skipped)."""
    return QueryEngine.execute(engine, q)


def snapshot(engine: Any, at: Any = None) -> dict[str, Any]:
    """The model's state at `at` seconds (default: now); see the module doc."""
    t = _at(engine, at)
    with engine.held_catalog():
        return _snapshot(engine, t)


def _snapped(engine: Any, t: float) -> tuple[float, float]:
    """(the instant answered, the end of the range [0, end) read): `t` and just after
    it; on a bounded (streaming) store whose raw samples no longer reach `t`, the end
    moves to a rollup bucket's edge (as a query's range does), and the instant answered
    is the one just before that edge."""
    end = just_after(t)  # [0, just after t) includes t (t + 1e-9 is t past ~1.7e7 s)
    store = getattr(engine, "metric_store", None)
    snap = getattr(store, "snap_edges", None)
    if snap is None:
        return t, end
    series = list(store.select("*", "*"))
    if not series:
        return t, end
    e = float(snap(series, [0.0, end])[1])
    if e == end or not e > 0.0:
        return t, end
    return math.nextafter(e, -math.inf), e


def _snapshot(engine: Any, t: float) -> dict[str, Any]:
    t, end = _snapped(engine, t)
    cat = engine._catalog() if hasattr(engine, "_catalog") else engine.catalog()
    order = [e["name"] for e in cat.get("entities", [])]
    entities: dict[str, dict[str, Any]] = {name: {} for name in order}
    exact = True
    waiting = in_service = 0.0
    by_entity: dict[str, float] = {}
    for info in cat["metrics"]:
        source, name, kind = info["source"], info["name"], info["series_kind"]
        slot = entities.setdefault(source, {})
        if kind == "gauge":
            r = _value(engine, source, name, end, ("last",))
            v = r.rows[0].get("last") if r.rows else None
            exact = exact and r.exact
            if v is None:
                continue
            slot.setdefault("gauges", {})[name] = v
            if name == "queue_depth":
                waiting += v
                by_entity[source] = by_entity.get(source, 0.0) + v
            elif name == "in_flight":
                in_service += v
                by_entity[source] = by_entity.get(source, 0.0) + v
        elif kind == "counter":
            r = _value(engine, source, name, end, ("sum",))
            v = r.rows[0].get("sum") if r.rows else None
            exact = exact and r.exact
            slot.setdefault("counters", {})[name] = v if v is not None else 0.0
        else:
            r = _value(engine, source, name, end, ("count", "mean"))
            row = r.rows[0] if r.rows else {}
            exact = exact and r.exact
            n = row.get("count") or 0
            if n:
                slot.setdefault("samples", {})[name] = {"count": n, "mean": row.get("mean")}
    entities = {k: v for k, v in entities.items() if v}
    return {
        "at": t,
        "range": "gauges: the value in effect at `at`; counters and samples: [0, at] "
                 "inclusive",
        "exact": exact,
        "entities": entities,
        "requests": {"waiting": waiting, "in_service": in_service,
                     "total": waiting + in_service,
                     "by_entity": {k: v for k, v in by_entity.items() if v}},
    }


__all__ = ["snapshot"]
