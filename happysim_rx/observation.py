"""The observation record that flows on the bus.

>>> o = Observation(1.5, ObservationKind.METRIC, "Server", "queue_depth", 3)
>>> o.kind.value, o.tags
('metric', None)
"""

from __future__ import annotations

import enum
from typing import Any

import msgspec

__all__ = ["Observation", "ObservationKind", "Span", "SERIES_KINDS"]

#: How a metric series aggregates: gauges are time-weighted, samples per sample,
#: counters emit increments (rate = sum per second).
SERIES_KINDS = ("gauge", "sample", "counter")


class ObservationKind(enum.Enum):
    METRIC = "metric"
    SPAN = "span"
    EVENT = "event"
    STATE = "state"


class Span(msgspec.Struct, frozen=True, gc=False):
    """One request's visit to one entity. ``start``/``end`` are simulated seconds.

    Not tracked by the cyclic garbage collector (``gc=False``, like `Observation`): a
    trace store keeps every span a component records, and the collector would walk them
    all, again and again, as they pile up. A span never refers to itself; attributes
    that make one do so make a cycle that is never freed.

    >>> Span(trace_id=7, span_id=1, parent_id=None, entity="Server", start=1.0, end=1.25).duration
    0.25
    """

    trace_id: Any
    span_id: Any
    parent_id: Any
    entity: str
    start: float
    end: float
    attributes: dict[str, Any] | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        d = msgspec.structs.asdict(self)
        d["duration"] = self.duration
        return d


class Observation(msgspec.Struct, gc=False):
    """``time`` is simulated seconds; ``value`` is a number (metric/state), a ``Span``
    (span) or anything (event payload).

    Not tracked by Python's cyclic garbage collector (``gc=False``): a subscriber that
    keeps every observation would otherwise make the collector walk them all, again and
    again, as they pile up. An observation never refers to itself; code that makes one
    do so (through ``value`` or ``tags``) makes a cycle that is never freed."""

    time: float
    kind: ObservationKind
    source: str
    name: str
    value: Any
    tags: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        v = self.value
        return {
            "time": self.time,
            "kind": self.kind.value,
            "source": self.source,
            "name": self.name,
            "value": v.to_dict() if isinstance(v, Span) else v,
            "tags": self.tags,
        }
