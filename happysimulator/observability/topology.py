"""The model's structure as the catalog shows it: entities in flow order, their role,
capacity, configured service time or rate, downstream edges as wired and as seen in
spans, and the series each records (kind, unit).

Read generically, never by component name: the standard `Source`/`QueuedResource`/`Sink`
by their attributes (``target``, ``downstream``, ``concurrency``, ``service_time``),
components built on the observation seam by ``downstream_attributes`` and their declared
series (`happysimulator.core.observed`), and any other entity by the entities its
attributes hold. A class may name its role with a class attribute
``observed_role = "router"`` (``source``, ``station``, ``sink``, ``router``,
``detector``, ``other``).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from happysimulator.core.attributes import attribute_values
from happysimulator.core.entity import Entity
from happysimulator.core.observed import declared_series, downstream_of

ROLES = ("source", "station", "sink", "router", "detector", "other")

# units of the auto-instrumented series (the documented contract)
STANDARD_UNITS = {"queue_depth": "requests", "in_flight": "requests", "wait_time": "s",
                  "service_time": "s", "latency": "s", "arrivals": "requests",
                  "completed": "requests", "dropped": "requests", "generated": "requests",
                  "utilization": "fraction"}


def unit_of(name: str, kind: str | None, declared: str | None = None) -> str:
    """The unit of a series: declared, standard, or guessed from its name and kind."""
    if declared:
        return declared
    unit = STANDARD_UNITS.get(name)
    if unit is not None:
        return unit
    if name.endswith(("_time", "latency", "_s", "delay")):
        return "s"
    return "count" if kind == "counter" else ""


def _entities_in(value: Any) -> list[Entity]:
    if isinstance(value, Entity):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, Entity)]
    return []


def wired_downstream(entity: Any) -> list[Entity]:
    """The entities `entity` sends requests to, as wired: declared downstream attributes,
    ``downstream_entities()``, a ``downstream`` or ``target`` attribute, else every
    entity its attributes hold."""
    if getattr(type(entity), "downstream_attributes", ()):
        return downstream_of(entity)
    method = getattr(entity, "downstream_entities", None)
    if callable(method):
        try:
            out = _entities_in(list(method()))
        except Exception:  # a model's own method: its failure is not the catalog's
            out = []
        if out:
            return out
    for attr in ("downstream", "target"):
        found = _entities_in(getattr(entity, attr, None))
        if found:
            return found
    out, seen = [], set()
    # (its attribute values, not through `__dict__`: on CPython 3.11 reading an entity's
    # __dict__ slows every later attribute access of it, and the catalog is often read
    # before the run; private attributes count too, their names are not seen)
    for value in attribute_values(entity):
        for e in _entities_in(value):
            if id(e) not in seen and e is not entity:
                seen.add(id(e))
                out.append(e)
    return out


def _role(entity: Any, downstream: list[Entity]) -> str:
    declared = getattr(type(entity), "observed_role", None)
    if isinstance(declared, str) and declared in ROLES:
        return declared
    from happysimulator.components.common import Sink
    from happysimulator.components.queued_resource import QueuedResource
    from happysimulator.instrumentation.probe import Probe
    from happysimulator.load.source import Source

    if isinstance(entity, Source):
        return "source"
    if isinstance(entity, Sink):
        return "sink"
    if isinstance(entity, Probe):
        return "detector"
    if isinstance(entity, QueuedResource):
        return "station"
    if len(downstream) > 1 and getattr(type(entity), "downstream_attributes", ()):
        return "router"
    return "other"


def _number(x: Any) -> float | int | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return x if math.isfinite(x) else None


def _distribution(dist: Any) -> dict[str, Any] | None:
    if dist is None:
        return None
    name = type(dist).__name__
    out: dict[str, Any] = {"distribution": name.removesuffix("Latency").lower() or name}
    try:
        mean = _number(dist.mean)
    except Exception:  # a distribution with no mean (or a model's own raising)
        mean = None
    if mean is not None:
        out["mean"] = mean
    return out


def _rate(entity: Any) -> Any:
    provider = getattr(entity, "arrival_time_provider", None)
    rate = getattr(provider, "rate", None) if provider is not None else None
    if rate is None:
        rate = getattr(entity, "rate", None)
    value = _number(rate)
    if value is not None:
        return value
    if rate is not None:
        return type(rate).__name__.lower()  # e.g. "profile": a rate that varies
    return None


def _traversal(roots: list[Any], everything: list[Any]) -> list[Any]:
    """Sources first, then breadth-first along the wired edges, then the rest."""
    order: list[Any] = []
    seen: set[int] = set()
    queue = deque(roots)
    while queue:
        e = queue.popleft()
        if id(e) in seen:
            continue
        seen.add(id(e))
        order.append(e)
        queue.extend(wired_downstream(e))
    order.extend(e for e in everything if id(e) not in seen)
    return order


def topology(sim: Any, series: list[dict[str, Any]],
             observed_edges: list[tuple[str, str, int]],
             edges_of: str | None = None) -> list[dict[str, Any]]:
    """The catalog's ``entities``: every entity in flow order (see the module doc).

    `series` are the catalog's metric entries (``source``, ``name``, ``series_kind``,
    ``unit``?), `observed_edges` the trace store's ``(from, to, requests)``; `edges_of`
    says which requests those counts are of when not all (sampled or bounded traces):
    each edge then carries it as ``of``."""
    from happysimulator.observability.integration import _reachable

    everything = _reachable(list(sim.sources) + list(sim.entities))
    sources = [e for e in everything if _role(e, []) == "source"]
    ordered = _traversal(sources, everything)
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for s in series:
        by_entity.setdefault(s["source"], []).append(
            {"name": s["name"], "kind": s.get("series_kind") or "sample",
             "unit": unit_of(s["name"], s.get("series_kind"), s.get("unit"))})
    seen_edges: dict[str, list[dict[str, Any]]] = {}
    for a, b, n in observed_edges:
        edge: dict[str, Any] = {"to": b, "requests": n}
        if edges_of:
            edge["of"] = edges_of
        seen_edges.setdefault(a, []).append(edge)
    out = []
    names = set()
    for e in ordered:
        name = getattr(e, "name", None) or type(e).__name__
        names.add(name)
        down = wired_downstream(e)
        entry: dict[str, Any] = {"name": name, "type": type(e).__name__,
                                 "role": _role(e, down)}
        conc = _number(getattr(e, "concurrency", None))
        if conc is not None and conc < 2**62:
            entry["concurrency"] = conc
        cap = _number(getattr(e, "queue_capacity", None)) or _number(
            getattr(e, "capacity", None))
        if cap is not None:
            entry["capacity"] = cap
        dist = getattr(e, "service_time", None)
        if dist is not None and hasattr(dist, "sample"):  # a distribution, not a number
            entry["service_time"] = _distribution(dist)
        if entry["role"] == "source":
            rate = _rate(e)
            if rate is not None:
                entry["rate"] = rate
        entry["downstream"] = [getattr(d, "name", type(d).__name__) for d in down]
        entry["observed_downstream"] = seen_edges.get(name, [])
        listed = by_entity.get(name, [])
        known = {s["name"] for s in listed}
        for spec in declared_series(type(e)).values():
            if spec.name not in known:  # declared, not on the bus (metrics off)
                listed.append({"name": spec.name, "kind": spec.kind,
                               "unit": unit_of(spec.name, spec.kind, spec.unit)})
        entry["series"] = listed
        out.append(entry)
    # series of names that are not entities of the model (an observer's own): listed too
    for name, listed in by_entity.items():
        if name not in names:
            out.append({"name": name, "type": "observer", "role": "detector",
                        "downstream": [], "observed_downstream": seen_edges.get(name, []),
                        "series": listed})
    return out


__all__ = ["ROLES", "STANDARD_UNITS", "topology", "unit_of", "wired_downstream"]
