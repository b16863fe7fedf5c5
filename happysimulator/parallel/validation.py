"""Checks of a partitioning (see `validate_partitions`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from happysimulator.core.callback_entity import CallbackEntity
from happysimulator.core.entity import Entity
from happysimulator.parallel.link import PartitionLink
from happysimulator.parallel.partition import SimulationPartition

_DEPTH = 3  # how deep plain objects held by an entity are searched for entity references


def validate_partitions(partitions: list[SimulationPartition],
                        links: list[PartitionLink] | None = None,
                        window_size: float | None = None) -> None:
    """Raise ValueError unless: partition names are unique; each entity is in one
    partition; a source feeds an entity of its own partition; links name known
    partitions; an entity refers to another partition's entity only along a link; and
    ``window_size`` is at most the shortest link's ``min_latency``."""
    links = list(links or [])
    names: set[str] = set()
    for p in partitions:
        if p.name in names:
            raise ValueError(f"Duplicate partition name: {p.name!r}")
        names.add(p.name)
    home: dict[int, str] = {}
    for p in partitions:
        for e in p.entities:
            if id(e) in home:
                raise ValueError(f"Entity {_name(e)!r} is in partitions {home[id(e)]!r} "
                                 f"and {p.name!r}")
            home[id(e)] = p.name
    for p in partitions:
        for s in p.sources:
            target = _source_target(s)
            where = home.get(id(target)) if target is not None else None
            if where is not None and where != p.name:
                raise ValueError(f"Source {_name(s)!r} in partition {p.name!r} targets "
                                 f"entity {_name(target)!r} in partition {where!r}")
    for link in links:
        if link.source_partition not in names:
            raise ValueError(f"PartitionLink references unknown source partition "
                             f"{link.source_partition!r}; partitions: {sorted(names)}")
        if link.dest_partition not in names:
            raise ValueError(f"PartitionLink references unknown dest partition "
                             f"{link.dest_partition!r}; partitions: {sorted(names)}")
    linked = {(link.source_partition, link.dest_partition) for link in links}
    for p in partitions:
        for e in p.entities:
            for ref in _references(e, 0):
                where = home.get(id(ref))
                if where is not None and where != p.name and (p.name, where) not in linked:
                    raise ValueError(
                        f"Entity in partition {p.name!r} references entity {_name(ref)!r} "
                        f"in partition {where!r} but no PartitionLink exists from "
                        f"{p.name!r} to {where!r}")
    if window_size is not None and links:
        shortest = min(link.min_latency for link in links)
        if window_size > shortest:
            raise ValueError(f"window_size ({window_size}s) must be <= the shortest link "
                             f"min_latency ({shortest}s)")


def build_entity_sets(partitions: list[SimulationPartition]) -> dict[str, frozenset[int]]:
    """Per partition, the ids of its entities, sources and probes."""
    return {p.name: frozenset(id(x) for x in (*p.entities, *p.sources, *p.probes))
            for p in partitions}


def _name(obj: Any) -> str:
    return getattr(obj, "name", repr(obj))


def _source_target(source: Any) -> Any:
    for holder in (source, getattr(source, "_event_provider", None),
                   getattr(source, "event_provider", None)):
        if holder is None:
            continue
        for attr in ("_target", "target"):
            target = getattr(holder, attr, None)
            if isinstance(target, Entity):
                return target
    return None


def _references(obj: Any, depth: int) -> Iterable[Entity]:
    """Entities held in `obj`'s public attributes (lists, tuples and dicts included;
    plain objects searched up to a small depth)."""
    if depth >= _DEPTH or isinstance(obj, CallbackEntity):
        return
    for attr, value in getattr(obj, "__dict__", {}).items():
        if attr.startswith("_"):
            continue
        items = (list(value.values()) if isinstance(value, dict)
                 else list(value) if isinstance(value, list | tuple) else [value])
        for item in items:
            if isinstance(item, Entity):
                yield item
            elif (item is value and hasattr(item, "__dict__")
                  and not isinstance(item, type)):
                yield from _references(item, depth + 1)


__all__ = ["build_entity_sets", "validate_partitions"]
