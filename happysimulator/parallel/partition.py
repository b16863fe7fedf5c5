"""``SimulationPartition``: a named part of a model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SimulationPartition:
    """The entities, sources and probes (and optionally a fault schedule and a trace
    recorder) of one partition."""

    name: str
    entities: list[Any] = field(default_factory=list)
    sources: list[Any] = field(default_factory=list)
    probes: list[Any] = field(default_factory=list)
    fault_schedule: Any = None
    trace_recorder: Any = None


__all__ = ["SimulationPartition"]
