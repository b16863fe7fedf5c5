"""Event / state-change store: by time, type (name) and source; optional ring bound.

>>> es = EventStore(max_events=2)
>>> for i in range(3): es.add(float(i), "event", "Server", "Request", None)
>>> [r["time"] for r in es.between(0.0, 10.0)]
[1.0, 2.0]
"""

from __future__ import annotations

import math
import numbers
from bisect import bisect_left
from fnmatch import fnmatchcase
from typing import Any

import numpy as np

from happysim_rx._gc import return_free_memory
from happysim_rx.observation import ObservationKind
from operators.simtime import TICKS_PER_SECOND, seconds, seconds_array

__all__ = ["EventStore"]


def _is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


class _Row(tuple):
    """A finished row among raw items (which are plain ints, entities and names)."""

    __slots__ = ()


class EventStore:
    """Records EVENT and STATE observations as columns: times, a code per
    (kind, source, name), values and tags only where given. A read builds rows for
    the events it returns only."""

    kinds = frozenset({ObservationKind.EVENT, ObservationKind.STATE})
    #: whether a simulation's processed events are logged here (a configuration may
    #: keep only the events entities emit and state changes); questions about those
    #: are then refused, not answered 0
    processed_events = True
    exact = True

    def __init__(self, max_events: int | None = None) -> None:
        self.max_events = max_events
        self._t = np.empty(0)  # times (s), in arrival (= time) order
        self._code = np.empty(0, dtype=np.int32)  # index into _keys
        self._keys: list[tuple[str, str, str]] = []  # (kind, source, name)
        self._key_code: dict[tuple[str, str, str], int] = {}
        self._first = 0  # number of the oldest kept event (the bound drops older ones)
        self._dropped_t = -math.inf  # time of the newest event the bound dropped
        self._values: dict[int, Any] = {}  # event number -> value, when not None
        self._tags: dict[int, Any] = {}
        self.n_total = 0
        self._names: set[tuple[str, str, str]] = set()
        #: (kind, source, name) -> the tag keys any of its events carried (those the bound
        #: dropped included: what an events query may filter or group on)
        self._tag_keys: dict[tuple[str, str, str], set[str]] = {}
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
        keys = self._tag_keys.setdefault(row, set())

        def append(t: float, value: Any, tags: Any = None) -> None:
            if tags:  # (noted at once: the bound may drop the row before it is built)
                keys.update(tags)
            raw.append(_Row((t, kind, source, name, value, tags)))
            self._pending_rows += 1
            if limit is not None and len(raw) >= limit:
                trim()

        return append

    def raw_sink(self, convert: Any) -> list:
        """The list a producer appends raw items to: ``t_ns, source, name`` (three C-level
        appends, e.g. from a simulation's run loop), turned into a row ``(time, kind,
        source, name, value, tags)`` by ``convert(t_ns, source, name)`` when the store is
        read. The row's time must be ``operators.simtime.seconds(t_ns)`` and the rest
        depend on ``source`` and ``name`` only: `convert` is called once per distinct pair, not per event. With
        ``max_events``, call `materialize_if_full` now and then to bound memory."""
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
        self._note_dropped(start)
        del raw[:start]
        self._pending_rows = kept_rows
        # the columns are older than every kept raw item
        self._t, self._code = self._t[:0], self._code[:0]
        self._values, self._tags = {}, {}
        self._first = self.n_total

    def _note_dropped(self, start: int) -> None:
        """The columns and ``_raw[:start]`` are being dropped: remember the newest time."""
        raw = self._raw
        if self._t.size:
            self._dropped_t = max(self._dropped_t, float(self._t[-1]))
        if start:
            t = raw[start - 1][0] if type(raw[start - 1]) is _Row else raw[start - 3] / TICKS_PER_SECOND
            self._dropped_t = max(self._dropped_t, float(t))

    def complete_from(self, now: float | None = None) -> float:
        """Every event at or after this time is kept (-inf: nothing was dropped); the
        bound drops the oldest, so an answer about earlier times would be made up.

        It is the time of the first kept event after the newest dropped one (the bound
        may cut an instant in two: the kept part of that instant is not complete), not
        the float just after the dropped time: a stated range starting one ulp after an
        instant reads as that instant, whose events it does not count. With no kept
        event after the dropped time, nothing happened between it and `now` (when
        given and later), so the store is complete from `now`; else from the float
        just after the dropped time (later than `now`: nothing up to now is complete)."""
        if self.max_events is None:
            return -math.inf  # (an unbounded store drops nothing: no need to build rows)
        self._materialize()
        d = self._dropped_t
        if d == -math.inf:
            return d
        i = int(np.searchsorted(self._t, d, side="right"))
        if i < self._t.size:
            return float(self._t[i])
        return now if now is not None and now > d else math.nextafter(d, math.inf)

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
            self._build_columns()
            if self.max_events is None:
                return_free_memory()  # the raw items and the build's temporaries

    def _build_columns(self) -> None:
        raw = self._raw
        cap = self.max_events
        start, dropped = 0, 0
        if cap is not None:
            # only the newest `cap` items can be kept: columns are built for those only
            start, kept_rows = self._newest(cap)
            prefix_rows = self._pending_rows - kept_rows
            dropped = prefix_rows + (start - prefix_rows) // 3
        if dropped:  # newer raw items fill the bound: the columns go too
            self._note_dropped(start)
            self.n_total += dropped
            self._t, self._code = self._t[:0], self._code[:0]
            self._values, self._tags = {}, {}
            self._first = self.n_total
        items = raw[start:] if start else raw
        if self._pending_rows:
            t, code = self._columns_of_rows(items)
        else:
            t, code = self._columns_of_raw(items)
        raw.clear()
        self._pending_rows = 0
        self.n_total += t.size
        self._t = np.concatenate((self._t, t))
        self._code = np.concatenate((self._code, code))
        if cap is not None and self._t.size > cap:
            cut = self._t.size - cap
            self._dropped_t = max(self._dropped_t, float(self._t[cut - 1]))
            self._t, self._code = self._t[cut:], self._code[cut:]
            self._first += cut
            self._values = {k: v for k, v in self._values.items() if k >= self._first}
            self._tags = {k: v for k, v in self._tags.items() if k >= self._first}

    def _key(self, key: tuple[str, str, str]) -> int:
        code = self._key_code.get(key)
        if code is None:
            code = self._key_code[key] = len(self._keys)
            self._keys.append(key)
            self._names.add(key)
        return code

    def _columns_of_raw(self, items: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Raw items ``t_ns, source, name`` (a simulation's processed events) as columns,
        with one `convert` call per distinct (source, name), not per event."""
        n = len(items) // 3
        t = seconds_array(np.array(items[0::3], dtype=np.int64))
        sources, names = items[1::3], items[2::3]
        try:
            src = {s: i for i, s in enumerate(dict.fromkeys(sources))}
            nm = {s: i for i, s in enumerate(dict.fromkeys(names))}
        except TypeError:  # something unhashable: by identity (items are alive here)
            sources, names = list(map(id, sources)), list(map(id, names))
            src = {s: i for i, s in enumerate(dict.fromkeys(sources))}
            nm = {s: i for i, s in enumerate(dict.fromkeys(names))}
        pair = (np.fromiter(map(src.__getitem__, sources), np.int64, n) * len(nm)
                + np.fromiter(map(nm.__getitem__, names), np.int64, n))
        # an event of each (source, name) present (which one does not matter: the key
        # depends on those two only) is converted to learn its key
        size = len(src) * len(nm)
        present = np.zeros(size, dtype=bool)
        present[pair] = True
        some = np.zeros(size, dtype=np.int64)
        some[pair] = np.arange(n)
        table = np.full(size, -1, dtype=np.int32)
        for p in np.flatnonzero(present).tolist():
            at = 3 * int(some[p])
            row = self._convert(items[at], items[at + 1], items[at + 2])
            table[p] = self._key((row[1], row[2], row[3]))
        return t, table[pair]

    def _columns_of_rows(self, items: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Finished rows mixed with raw items: one at a time."""
        t, code = [], []
        n = self._first + self._t.size  # number of the next event
        values, tags = self._values, self._tags
        it = iter(items)
        for item in it:
            row = item if type(item) is _Row else self._convert(item, next(it), next(it))
            if row[4] is not None:
                values[n] = row[4]
            if row[5] is not None:
                tags[n] = row[5]
            t.append(row[0])
            code.append(self._key((row[1], row[2], row[3])))
            n += 1
        return np.array(t, dtype=np.float64), np.array(code, dtype=np.int32)

    def add(
        self, t: float, kind: str, source: str, name: str, value: Any, tags: Any = None
    ) -> None:
        self._names.add((kind, source, name))
        if tags:
            self._tag_keys.setdefault((kind, source, name), set()).update(tags)
        self._raw.append(_Row((t, kind, source, name, value, tags)))
        self._pending_rows += 1
        self.materialize_if_full()

    def __len__(self) -> int:
        self._materialize()
        return int(self._t.size)

    @property
    def evicted(self) -> int:
        return 0

    def catalog(self) -> list[tuple[str, str, str]]:
        self._materialize()
        return sorted(self._names)

    def tag_keys(self, name: str = "*", source: str = "*") -> set[str]:
        """The tag keys carried by any event or state change of type `name` from
        `source` (globs) recorded so far, those the bound dropped included.

        >>> es = EventStore()
        >>> es.add(0.0, "event", "LB", "health", None, {"backend": "S0"})
        >>> sorted(es.tag_keys("h*")), sorted(es.tag_keys(source="Sink"))
        (['backend'], [])
        """
        return {k for (_, src, nm), keys in self._tag_keys.items()
                if fnmatchcase(nm, name) and fnmatchcase(src, source) for k in keys}

    def tag_keys_by_type(self) -> dict[tuple[str, str], set[str]]:
        """(source, name) -> the tag keys its events carried (types with none left out)."""
        out: dict[tuple[str, str], set[str]] = {}
        for (_, src, nm), keys in self._tag_keys.items():
            if keys:
                out.setdefault((src, nm), set()).update(keys)
        return out

    def between(
        self,
        start: float,
        end: float,
        *,
        name: str = "*",
        source: str = "*",
        kind: str | None = None,
    ) -> list[dict[str, Any]]:
        return self.between_first(start, end, name=name, source=source, kind=kind)[0]

    def between_first(
        self,
        start: float,
        end: float,
        *,
        name: str = "*",
        source: str = "*",
        kind: str | None = None,
        limit: int | None = None,
    ) -> tuple[list[dict[str, Any]], float | None]:
        """The first ``limit`` (all when None) events of ``between(start, end, ...)``, in
        time order, and the time of the last of all of them (None when there are none).

        A narrow range or a small limit converts only the events it returns (the raw
        items of a simulation's processed events are found by time, not built into
        columns first); anything wider builds the columns once, for every later read.

        >>> es = EventStore()
        >>> for i in range(5): es.add(float(i), "event", "Server", "Request", None)
        >>> rows, latest = es.between_first(1.0, 10.0, limit=2)
        >>> [r["time"] for r in rows], latest
        ([1.0, 2.0], 4.0)
        """
        if self._raw and not self._pending_rows and self.max_events is None:
            got = self._raw_range(start, end, name, source, kind, limit)
            if got is not None:
                return got
        self._materialize()
        return self._columns_first(start, end, name, source, kind, limit)

    def _columns_first(self, start: float, end: float, name: str, source: str,
                       kind: str | None, limit: int | None
                       ) -> tuple[list[dict[str, Any]], float | None]:
        """`between_first` over the columns only."""
        at = self._rows_in(start, end, name, source, kind)
        if not at.size:
            return [], None
        latest = float(self._t[at[-1]]) if at.size else None
        if limit is not None:
            at = at[:limit]
        keys, first = self._keys, self._first
        values, tags = self._values, self._tags
        out = []
        for i, t, c in zip(at.tolist(), self._t[at].tolist(), self._code[at].tolist(),
                           strict=True):
            k, src, nm = keys[c]
            out.append({"time": t, "kind": k, "source": src, "name": nm,
                        "value": values.get(first + i), "tags": _copy(tags.get(first + i))})
        return out, latest

    #: raw events a read may look at one by one; past that it builds the columns
    _RAW_SCAN_MAX = 4096

    def _raw_range(self, start: float, end: float, name: str, source: str,
                   kind: str | None, limit: int | None
                   ) -> tuple[list[dict[str, Any]], float | None] | None:
        """`between_first` while a simulation's processed events are still raw items
        (``t_ns, source, name``, in time order; the columns, if any, are older): the
        range found by bisection, and only the events returned (and the last matching
        one, for the latest time) looked at. None when that would mean looking at more
        than ``_RAW_SCAN_MAX`` raw events: then the columns are built, once."""
        raw = self._raw
        events = range(len(raw) // 3)  # (bisected through a key: no copy of the times)

        def time_of(j: int) -> float:
            return seconds(raw[3 * j])

        # `seconds` is monotonic: the events at or after `start` are a suffix
        j0 = bisect_left(events, start, key=time_of)
        j1 = bisect_left(events, end, lo=j0, key=time_of)
        rows, latest = ([], None)
        if self._t.size:  # older than every raw item: their rows come first
            rows, latest = self._columns_first(start, end, name, source, kind, limit)
        convert, budget = self._convert, self._RAW_SCAN_MAX
        matching: dict[tuple[int, int], tuple[str, str, str] | None] = {}

        def key_of(j: int) -> tuple[str, str, str] | None:
            src, nm = raw[3 * j + 1], raw[3 * j + 2]
            pair = (id(src), id(nm))  # (by identity: the items are alive, maybe unhashable)
            got = matching.get(pair, False)
            if got is False:  # one conversion per (source, name): the rest depend on them
                r = convert(raw[3 * j], src, nm)
                got = matching[pair] = (r[1], r[2], r[3]) if (
                    (kind is None or r[1] == kind) and (name == "*" or fnmatchcase(r[3], name))
                    and (source == "*" or fnmatchcase(r[2], source))) else None
            return got

        j = j0
        while j < j1 and (limit is None or len(rows) < limit):
            if budget <= 0:
                return None
            budget -= 1
            k = key_of(j)
            if k is not None:  # (raw events carry no value or tags, as in the columns)
                rows.append({"time": seconds(raw[3 * j]), "kind": k[0], "source": k[1],
                             "name": k[2], "value": None, "tags": None})
            j += 1
        for j in range(j1 - 1, j0 - 1, -1):  # the latest: the last matching raw event
            if budget <= 0:
                return None
            budget -= 1
            if key_of(j) is not None:
                return rows, seconds(raw[3 * j])
        return rows, latest

    def _rows_in(self, start: float, end: float, name: str, source: str,
                 kind: str | None) -> np.ndarray:
        """Column rows of the events in [start, end) matching the globs, in time order."""
        i0, i1 = np.searchsorted(self._t, [start, end])  # times are in order
        codes = [c for c, (k, src, nm) in enumerate(self._keys)
                 if (kind is None or k == kind) and (name == "*" or fnmatchcase(nm, name))
                 and (source == "*" or fnmatchcase(src, source))]
        at = np.arange(i0, i1)
        if len(codes) < len(self._keys):
            at = at[np.isin(self._code[i0:i1], codes)]
        return at

    def columns_between(self, start: float, end: float, *, name: str = "*",
                        source: str = "*", kind: str | None = None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[str, str, str]]]:
        """``between(start, end, ...)`` as columns, in the same (time) order, without
        building a row: ``(times, values, key codes, keys)``; a value is NaN where the
        event has none or a non-number, ``keys[code]`` is its ``(kind, source, name)``.
        What aggregates over events read.

        >>> es = EventStore()
        >>> for i in range(3): es.add(float(i), "event", "Server", "Request", i * 10)
        >>> t, v, codes, keys = es.columns_between(1.0, 10.0)
        >>> t.tolist(), v.tolist(), [keys[c] for c in codes]
        ([1.0, 2.0], [10.0, 20.0], [('event', 'Server', 'Request'), ('event', 'Server', 'Request')])
        """
        self._materialize()
        at = self._rows_in(start, end, name, source, kind)
        values = np.full(at.size, math.nan)
        if self._values and at.size:
            first = self._first
            numbered = at + first
            for number, value in self._values.items():  # (sparse: events with a value)
                if numbered[0] <= number <= numbered[-1] and _is_real(value):
                    j = int(np.searchsorted(numbered, number))
                    if j < at.size and numbered[j] == number:
                        values[j] = float(value)
        return self._t[at], values, self._code[at].astype(np.intp), list(self._keys)

    def finish(self, now: float) -> None:
        pass


def _copy(tags: dict | None) -> dict | None:
    """A row's own tags: the store keeps the recorded dict, which a reader may edit."""
    return tags if tags is None else dict(tags)
