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

from happysim_rx._gc import bulk_allocation
from happysim_rx.observation import ObservationKind

__all__ = ["EventStore"]


class _Row(tuple):
    """A finished row among raw items (which are plain ints, entities and names)."""

    __slots__ = ()


class EventStore:
    """Records EVENT and STATE observations as compact tuples."""

    kinds = frozenset({ObservationKind.EVENT, ObservationKind.STATE})
    exact = True

    def __init__(self, max_events: int | None = None) -> None:
        self.max_events = max_events
        self._rows: deque[tuple[float, str, str, str, Any, Any]] = deque(maxlen=max_events)
        self.n_total = 0
        self._names: set[tuple[str, str, str]] = set()
        # Everything arrives in `_raw` first (a C-level list append), as a finished row or
        # as a raw item for `_convert`; rows are built on the first read after a change.
        self._raw: list[Any] = []
        self._convert: Any = None
        self._pending_rows = 0  # finished rows in `_raw`
        # raw items (three per event) kept before trimming: ~8x the events kept, so that
        # trimming is rare and rows are built for few of the events that get dropped
        self._limit = None if max_events is None else 3 * 8 * max_events

    def appender(self, info: Any) -> Any:
        row = (info.kind.value, info.source, info.name)
        self._names.add(row)
        raw = self._raw
        kind, source, name = row
        limit = self._limit
        trim = self._trim

        def append(t: float, value: Any, tags: Any = None) -> None:
            raw.append(_Row((t, kind, source, name, value, tags)))
            self._pending_rows += 1
            if limit is not None and len(raw) >= limit:
                trim()

        return append

    def raw_sink(self, convert: Any) -> list:
        """The list a producer appends raw items to: ``t_ns, source, name`` (three C-level
        appends, e.g. from a simulation's run loop), turned into a row ``(time, kind,
        source, name, value, tags)`` by ``convert(t_ns, source, name)`` when the store is
        read. With ``max_events``, call `materialize_if_full` now and then to bound memory."""
        if self._convert is not None and self._convert is not convert:
            raise ValueError("this EventStore already has a raw sink")
        self._convert = convert
        return self._raw

    def materialize_if_full(self) -> None:
        """Bound memory: once the raw items hold many more than ``max_events`` events,
        drop all but the newest ``max_events`` (rows are built only when read)."""
        if self._limit is not None and len(self._raw) >= self._limit:
            self._trim()

    def _trim(self) -> None:
        raw, cap = self._raw, self.max_events
        start, kept_rows = self._newest(cap)
        prefix_rows = self._pending_rows - kept_rows
        self.n_total += prefix_rows + (start - prefix_rows) // 3
        del raw[:start]
        self._pending_rows = kept_rows
        self._rows.clear()  # older than every kept raw item

    def _newest(self, cap: int) -> tuple[int, int]:
        """Where the newest `cap` items of `_raw` begin, and how many of them are rows."""
        raw = self._raw
        if not self._pending_rows:  # only raw events: three items each
            return max(0, len(raw) - 3 * cap), 0
        j, kept, kept_rows = len(raw), 0, 0
        while j > 0 and kept < cap:
            if type(raw[j - 1]) is _Row:
                j -= 1
                kept_rows += 1
            else:
                j -= 3
            kept += 1
        return j, kept_rows

    def _materialize(self) -> None:
        if self._raw:
            with bulk_allocation():
                self._build_rows()

    def _build_rows(self) -> None:
        raw = self._raw
        convert = self._convert
        cap = self.max_events
        start, dropped = 0, 0
        if cap is not None:
            # only the newest `cap` items can be kept: rows are built for those only
            start, kept_rows = self._newest(cap)
            prefix_rows = self._pending_rows - kept_rows
            dropped = prefix_rows + (start - prefix_rows) // 3
        rows: list[tuple] = []
        items = iter(raw[start:]) if start else iter(raw)
        for item in items:
            rows.append(item if type(item) is _Row else convert(item, next(items),
                                                                 next(items)))
        if convert is not None:
            self._names.update({(r[1], r[2], r[3]) for r in rows})
        raw.clear()
        self._pending_rows = 0
        self.n_total += dropped + len(rows)
        self._rows.extend(rows)

    def add(
        self, t: float, kind: str, source: str, name: str, value: Any, tags: Any = None
    ) -> None:
        self._names.add((kind, source, name))
        self._raw.append(_Row((t, kind, source, name, value, tags)))
        self._pending_rows += 1
        self.materialize_if_full()

    def __len__(self) -> int:
        self._materialize()
        return len(self._rows)

    @property
    def evicted(self) -> int:
        return 0

    def catalog(self) -> list[tuple[str, str, str]]:
        self._materialize()
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
        self._materialize()
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
