"""Event / state-change store: by time, type (name) and source; optional ring bound.

>>> es = EventStore(max_events=2)
>>> for i in range(3): es.add(float(i), "event", "Server", "Request", None)
>>> [r["time"] for r in es.between(0.0, 10.0)]
[1.0, 2.0]
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from fnmatch import fnmatchcase
from typing import Any

from happysim_rx.observation import ObservationKind

__all__ = ["EventStore"]


class EventStore:
    """Records EVENT and STATE observations as compact tuples."""

    kinds = frozenset({ObservationKind.EVENT, ObservationKind.STATE})
    exact = True

    def __init__(self, max_events: int | None = None) -> None:
        self.max_events = max_events
        self._rows: deque[tuple[float, str, str, str, Any, Any]] = deque(maxlen=max_events)
        self.n_total = 0
        self._names: set[tuple[str, str, str]] = set()

    def appender(self, info: Any) -> Any:
        row = (info.kind.value, info.source, info.name)
        self._names.add(row)
        rows = self._rows
        kind, source, name = row

        def append(t: float, value: Any, tags: Any = None) -> None:
            rows.append((t, kind, source, name, value, tags))

        return append

    def add(
        self, t: float, kind: str, source: str, name: str, value: Any, tags: Any = None
    ) -> None:
        self._names.add((kind, source, name))
        self._rows.append((t, kind, source, name, value, tags))

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def evicted(self) -> int:
        return 0

    def catalog(self) -> list[tuple[str, str, str]]:
        return sorted(self._names)

    def between(
        self,
        start: float,
        end: float,
        *,
        name: str = "*",
        source: str = "*",
        kind: str | None = None,
    ) -> list[dict[str, Any]]:
        rows = self._rows
        times = [r[0] for r in rows]  # deque has no slicing bisect; rows are time-ordered
        i0, i1 = bisect_left(times, start), bisect_left(times, end)
        out = []
        for j in range(i0, i1):
            t, k, src, nm, value, tags = rows[j]
            if kind is not None and k != kind:
                continue
            if (name == "*" or fnmatchcase(nm, name)) and (
                source == "*" or fnmatchcase(src, source)
            ):
                out.append(
                    {"time": t, "kind": k, "source": src, "name": nm, "value": value, "tags": tags}
                )
        return out

    def finish(self, now: float) -> None:
        pass
