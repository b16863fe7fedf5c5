"""The debugger's live queueing view: the model's entities in flow order, each station
with its utilization, queue length, throughput and the requests waiting in it.

The flow order is the catalog's topology (``catalog["entities"]``) when the session
provides one; otherwise it is derived from the wiring (``downstream``/``target`` and the
attributes an entity declares in ``downstream_attributes``) and the request flows the
spans show. Detectors (sources of ``anomaly`` reports that are not model entities) are
listed apart. The requests waiting are read from a station's waiting line (its
``queue.policy``: ``(request, arrival_ns)`` pairs, the shape of the standard queued
components), without changing anything.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from happysimulator.core.attributes import attribute_values
from happysimulator.observability.protocol.answers import _request_id
from happysimulator.observability.web._shared import _past_now, span_flows
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion

_RECENT_S = 10.0  # rates and utilization are over the last this many simulated seconds
_WAITING_SHOWN = 8  # waiting requests listed per station (the oldest)
_EDGES_EVERY_S = 5.0  # wall seconds between two span scans for flows while running


class QueueOps:
    """``queues`` (mixed into `Debugger`: uses its worker's session and queries)."""

    def _init_queues(self) -> None:
        self.queues: dict[str, Any] = {"entities": [], "detectors": [], "edges": []}
        self._observed: dict[tuple[str, str], int] = {}
        self._edges_at = -1e9

    def _op_queues(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, **self.queues}

    def _refresh_queues(self, now: float, catalog: dict[str, Any] | None,
                        fresh: bool) -> None:
        """Recompute the view (at most every 0.5 s while running) and push it."""
        if catalog is None:
            return
        wall = time.perf_counter()
        if not catalog.get("entities") and (fresh or wall - self._edges_at > _EDGES_EVERY_S):
            self._edges_at = wall  # (a catalog topology has its observed flows itself)
            self._observed = self._span_flows(now)
        entities, detectors = self._topology(catalog)
        units = {(m["source"], m["name"]): m.get("unit") for m in catalog.get("metrics", [])}
        series = {}
        for m in catalog.get("metrics", []):
            series.setdefault(m["source"], set()).add(m["name"])
        objects = self._entity_objects()
        lo = max(0.0, now - _RECENT_S)
        view = []
        for ent in entities:
            name = ent["name"]
            have = series.get(name, set())
            stats: dict[str, Any] = {}
            span = now - lo

            def agg(metric: str, aggregate: str, start: float = lo,
                    _name: str = name, _have: set[str] = have) -> Any:
                return self._aggs(_name, _have, metric, [aggregate], start, now)[0]

            def last(metric: str) -> Any:  # set in the last 10 s (cheap to read), or before
                value = agg(metric, "last")
                return agg(metric, "last", 0.0) if value is None else value

            if "queue_depth" in have:
                stats["queue_length"] = last("queue_depth")
            if "in_flight" in have:
                stats["in_service"] = last("in_flight")
            if "utilization" in have:
                stats["utilization"] = agg("utilization", "mean")
                stats["utilization_from"] = "utilization, time-weighted mean"
            elif "in_flight" in have and isinstance(ent.get("concurrency"), int | float) \
                    and ent["concurrency"] > 0:
                busy = agg("in_flight", "mean")
                stats["utilization"] = None if busy is None else busy / ent["concurrency"]
                stats["utilization_from"] = "in_flight time-weighted mean / concurrency"
            for metric, key in (("completed", "throughput"), ("arrivals", "arrival_rate"),
                                ("generated", "rate"), ("dropped", "drop_rate")):
                if metric in have:
                    stats[key] = agg(metric, "rate")
            if "latency" in have:
                stats["latency_p50"], stats["latency_p99"] = self._aggs(
                    name, have, "latency", ["p50", "p99"], lo, now)
            waiting, total = _waiting(objects.get(name), now)
            view.append({**ent, "stats": stats, "recent_s": span, "waiting": waiting,
                         "waiting_total": total,
                         "units": {k: units.get((name, k)) for k in have}})
        edges = [{"from": e["name"], "to": o.get("to"), "requests": o.get("requests")}
                 for e in entities for o in e.get("observed_downstream") or []
                 if isinstance(o, dict)]
        self.queues = {"time": now, "recent_s": min(_RECENT_S, now), "entities": view,
                       "detectors": detectors, "edges": edges,
                       "topology": "catalog" if catalog.get("entities") else "derived"}
        self.push({"type": "queues", **self.queues})

    def _aggs(self, entity: str, have: set[str], metric: str, aggregates: list[str],
              start: float, now: float) -> list[Any]:
        """`aggregates` of `metric` on `entity` over [start, now] (None: no such series)."""
        if metric not in have or now <= start:
            return [None] * len(aggregates)
        r = self._query({"kind": "metrics", "name": metric, "entity": entity,
                         "start": start, "end": _past_now(now), "aggregates": aggregates})
        rows = r.get("result", {}).get("rows", []) if r.get("ok") else []
        return [rows[0].get(a) if rows else None for a in aggregates]

    def _entity_objects(self) -> dict[str, Any]:
        sim = getattr(self.session, "sim", None)
        if sim is None:
            return {}
        out = {}
        for e in [*getattr(sim, "sources", []), *getattr(sim, "entities", [])]:
            name = getattr(e, "name", None)
            if isinstance(name, str):
                out.setdefault(name, e)
        return out

    def _span_flows(self, now: float) -> dict[tuple[str, str], int]:
        return span_flows(self._query, now, limit=2000)

    def _topology(self, catalog: dict[str, Any]) -> tuple[list[dict[str, Any]],
                                                          list[dict[str, Any]]]:
        """(model entities in flow order, detectors)."""
        given = catalog.get("entities")
        if isinstance(given, list) and given:
            ents = [dict(e) for e in given if isinstance(e, dict) and "name" in e]
            return ([e for e in ents if e.get("role") != "detector"],
                    [e for e in ents if e.get("role") == "detector"])
        objects = self._entity_objects()
        sim = getattr(self.session, "sim", None)
        sources = {getattr(s, "name", None) for s in getattr(sim, "sources", [])}
        # detectors: sources of anomaly reports, and the detectors anomaly breakpoints
        # armed (named in their descriptions), that are not entities of the model
        reporters = {e["source"] for e in catalog.get("events", [])
                     if e.get("name") == "anomaly"}
        armed = " ".join(b.get("description") or "" for b in self.breakpoints
                         if b.get("kind") == "anomaly")
        names: list[str] = []
        for n in [*objects, *(m["source"] for m in catalog.get("metrics", [])),
                  *catalog.get("span_entities", [])]:
            if n not in names:
                names.append(n)
        detectors = [{"name": n, "role": "detector", "type": "detector"}
                     for n in names if n not in objects and (n in reporters or n in armed)]
        model = [n for n in names if not any(d["name"] == n for d in detectors)]
        wired = {n: _wired(objects.get(n)) for n in model}
        edges = [(a, b) for a in model for b in wired[a] if b in wired] + \
            [e for e in self._observed if e[0] in wired and e[1] in wired]
        order = _flow_order(model, edges, [n for n in model if n in sources])
        series = {}
        for m in catalog.get("metrics", []):
            series.setdefault(m["source"], set()).add(m["name"])
        out = []
        for n in order:
            obj, have = objects.get(n), series.get(n, set())
            if n in sources:
                role = "source"
            elif "queue_depth" in have or _waiting_line(obj) is not None:
                role = "station"
            elif "latency" in have and not wired[n]:
                role = "sink"
            else:
                role = "other"
            ent: dict[str, Any] = {"name": n, "role": role,
                                   "type": type(obj).__name__ if obj is not None else None,
                                   "downstream": wired[n],
                                   "observed_downstream": [
                                       {"to": b, "requests": c}
                                       for (a, b), c in self._observed.items() if a == n]}
            conc = getattr(obj, "concurrency", None)
            if isinstance(conc, int) and not isinstance(conc, bool):
                ent["concurrency"] = conc
            out.append(ent)
        return out, detectors


def _wired(obj: Any) -> list[str]:
    """Names of the entities `obj` sends requests to, as its attributes wire them."""
    if obj is None:
        return []
    values = []
    for attr in ("downstream", "target", *getattr(type(obj), "downstream_attributes", ())):
        try:
            values.append(getattr(obj, attr, None))
        except Exception:  # a property that cannot answer now
            continue
    # and any attribute holding an entity (a client's `server`, say), read without
    # `__dict__`: on CPython 3.11 that would slow the entity for the rest of the run
    values += attribute_values(obj)
    out: list[str] = []
    for value in values:
        if isinstance(value, dict):
            value = list(value.values())
        for item in value if isinstance(value, list | tuple) else [value]:
            name = getattr(item, "name", None)
            if isinstance(name, str) and hasattr(item, "handle_event") and name not in out:
                out.append(name)
    return out


def _waiting_line(obj: Any) -> Any:
    q = getattr(obj, "queue", None) if obj is not None else None
    policy = getattr(q, "policy", None) if q is not None else None
    return policy if hasattr(policy, "__iter__") and hasattr(policy, "__len__") else None


def _waiting(obj: Any, now: float) -> tuple[list[dict[str, Any]], int | None]:
    """The oldest requests in `obj`'s waiting line: id and how long they have waited."""
    line = _waiting_line(obj)
    if line is None:
        return [], None
    out = []
    for item in itertools.islice(iter(line), _WAITING_SHOWN):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], int):
            req, arrived = item[0], item[1] / _NS
        else:
            req, arrived = item, None
        out.append({"id": _request_id(req),
                    "waited_s": None if arrived is None else max(0.0, now - arrived),
                    "since": arrived})
    return out, len(line)


def _flow_order(nodes: list[str], edges: list[tuple[str, str]],
                roots: list[str]) -> list[str]:
    """Nodes in the order requests reach them: breadth first from the sources (then from
    nodes nothing sends to), following edges; answers flowing back do not reorder."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    indeg = dict.fromkeys(nodes, 0)
    for a, b in edges:
        if b not in succ[a]:
            succ[a].append(b)
            indeg[b] += 1
    order: list[str] = []
    seen: set[str] = set()
    for root in [*roots, *(n for n in nodes if indeg[n] == 0), *nodes]:
        if root in seen:
            continue
        seen.add(root)
        frontier = [root]
        while frontier:
            order.extend(frontier)
            nxt = []
            for n in frontier:
                for b in succ[n]:
                    if b not in seen:
                        seen.add(b)
                        nxt.append(b)
            frontier = nxt
    return order
