"""The aggregates a window computes: names (``"p99"``) or factories, validated once
when the operator is built (a bad name fails there, not at the first item)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["AggSpec", "resolve_aggregates", "is_time_weighted"]

#: An aggregate: a name understood by ``make_aggregator`` or a zero-argument factory.
AggSpec = str | Callable[[], Any]


def resolve_aggregates(
    aggregate: AggSpec | None,
    aggregates: Sequence[AggSpec] | None,
    weighting: str,
    agg_options: dict[str, Any] | None,
    default: Sequence[str] = ("mean",),
) -> list[tuple[str, Callable[[], Any]]]:
    """-> [(name, zero-arg factory)], validated eagerly (bad names fail at build time)."""
    if aggregate is not None and aggregates is not None:
        raise ValueError("give either aggregate= or aggregates=, not both")
    if aggregates is None:
        specs: list[AggSpec] = [aggregate] if aggregate is not None else list(default)
    elif isinstance(aggregates, str):
        specs = [aggregates]
    else:
        specs = list(aggregates)
    if weighting not in ("sample", "time"):
        raise ValueError(f"weighting must be 'sample' or 'time', got {weighting!r}")
    opts = dict(agg_options or {})
    out: list[tuple[str, Callable[[], Any]]] = []
    seen: set[str] = set()
    for spec in specs:
        name: Any  # (a custom aggregator names itself)
        if isinstance(spec, str):
            from operators.aggregators import aggregator_factory

            factory = aggregator_factory(
                spec, weighting="time" if weighting == "time" else "sample", **opts)
            name = spec
        elif callable(spec):
            factory = spec
            attr = getattr(spec, "name", None)
            if isinstance(attr, str):
                name = attr
            else:
                name = getattr(factory(), "name", None) or getattr(spec, "__name__", repr(spec))
        else:
            raise ValueError(
                f"aggregate must be a name like 'mean'/'p99' or a zero-argument factory "
                f"returning an Aggregator, got {spec!r}"
            )
        probe = factory()  # validates names now rather than at the first item
        for attr in ("add", "merge", "result"):
            if not callable(getattr(probe, attr, None)):
                raise TypeError(f"aggregator for {name!r} has no {attr}() method")
        if name in seen:
            raise ValueError(f"duplicate aggregate {name!r}")
        seen.add(name)
        out.append((name, factory))
    return out


def is_time_weighted(agg: Any) -> bool:
    return getattr(agg, "weighting", "sample") == "time"
