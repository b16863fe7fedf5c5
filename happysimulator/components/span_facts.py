"""Component spans as int facts: how `Client` and `LoadBalancer` hand their spans to the
trace store while it alone listens (`FastRecording.rows` is its list of pending spans).

A span object per request (a `Span`, its two float times) was what recording a
component's span cost most, and every one of them stayed alive until the store was
read. Here a span is six ints appended to a flat list -- trace id, span id, parent
(`NO_PARENT`: none), start and end in ns, and a *kind*: the code of its (entity name,
attributes dict) pair, which a component registers once (`SpanFacts.kind`) -- the ints
the recording holds already, so no new object per span. The list is a batch in the
store's pending spans (`SpanIngest.add_lazy`), made into columns (`SpanArrays`, ids and
parents as recorded) when the store is next read: vectorized, nothing per span in Python.

Order is kept exactly: a batch takes spans while it is the last item of the store's
pending list; once anything else is handed over after it (a user entity's span, a
station's batch, a component emitting one by one), the next component span begins a new
batch behind it. So the store sees the same spans, in the same positions, as if each had
been appended as it came::

    sf = f.facts
    if not rows or rows[-1] is not sf.batch:
        sf.begin()
    sf.ints.extend((trace_id, span_id, NO_PARENT if parent is None else parent,
                    start_ns, end_ns, kind))
"""

from __future__ import annotations

from struct import error as StructError
from struct import pack_into
from typing import Any

import numpy as np

from happysim_rx.stores._span_ingest import SpanArrays
from operators.simtime import TICKS_PER_SECOND, seconds_array

__all__ = ["NO_PARENT", "SpanFacts", "span_facts"]

#: a span recorded without parent (the store's "none" in its id columns)
NO_PARENT = int(np.iinfo(np.int64).min)
_WIDTH = 6  # ints per span
_KEY = "_component_span_facts"


class SpanFacts:
    """The component spans of one simulation not yet taken in by its trace store (see the
    module docstring): ``ints``, the current batch's flat list; ``batch``, that batch as
    it sits in the store's pending list (None: none yet)."""

    __slots__ = ("store", "pending", "batch", "ints", "kinds", "_kind_of")

    def __init__(self, store: Any) -> None:
        self.store = store
        self.pending: list[Any] = store.row_list()
        self.batch: Any = None
        self.ints: list[int] = []
        #: (entity name, attributes dict or None) of each kind code; shared with the
        #: batches (codes only grow)
        self.kinds: list[tuple[str, dict[str, Any] | None]] = []
        self._kind_of: dict[Any, int] = {}

    def kind(self, entity: str, attributes: dict[str, Any] | None) -> int:
        """The code of spans of `entity` with `attributes` (kept: not to be changed)."""
        key = (entity, None if attributes is None else tuple(attributes.items()))
        code = self._kind_of.get(key)
        if code is None:
            code = self._kind_of[key] = len(self.kinds)
            self.kinds.append((entity, attributes))
        return code

    def begin(self) -> list[int]:
        """A new batch at the end of the store's pending spans; its list."""
        ints: list[int] = []
        # (size 0: the batch grows after it is handed over; only a bounded store, which
        # never gives its pending list out, counts sizes)
        self.store.add_lazy((ints, self.kinds), _materialize, 0)
        self.batch = self.pending[-1]
        self.ints = ints
        return ints


def span_facts(runtime: Any, store: Any) -> SpanFacts:
    """The simulation's `SpanFacts` for `store` (one per simulation, shared by its
    components, so their spans keep the order they came in)."""
    facts = runtime.__dict__.get(_KEY)
    if facts is None or facts.store is not store:
        old, facts = facts, SpanFacts(store)
        if old is not None:  # (kind codes stay valid for the whole run: the same table)
            facts.kinds, facts._kind_of = old.kinds, old._kind_of
        runtime.__dict__[_KEY] = facts
    return facts


def _materialize(records: tuple[list[int], list[tuple[str, Any]]],
                 _skip: np.ndarray) -> SpanArrays | list[tuple]:
    """A batch as columns (ids and parents as recorded; attributes as sparse columns of
    the Python values the components gave), or, when a trace id is not an int64 (an
    `odd_ids` request), as rows the store files by their ids."""
    ints, kinds = records
    n = len(ints) // _WIDTH
    a = np.empty(n * _WIDTH, dtype=np.int64)
    try:
        pack_into(f"{n * _WIDTH}q", a, 0, *ints)
    except (StructError, OverflowError):
        return _rows(ints, kinds)
    a = a.reshape(n, _WIDTH)
    tid = a[:, 0]
    if (tid == NO_PARENT).any():  # (outside the store's ids: file them as rows)
        return _rows(ints, kinds)
    kind = a[:, 5]
    present = np.unique(kind)
    names: list[str] = []
    name_code: dict[str, int] = {}
    ent_of_kind = np.zeros(len(kinds), dtype=np.int64)
    keys: dict[str, None] = {}
    for k in present.tolist():
        name, attrs = kinds[k]
        code = name_code.get(name)
        if code is None:
            code = name_code[name] = len(names)
            names.append(name)
        ent_of_kind[k] = code
        for key in attrs or ():
            keys[key] = None
    columns = []
    for key in keys:  # (in the order the components wrote them)
        has = np.zeros(len(kinds), dtype=bool)
        values = np.empty(len(kinds), dtype=object)
        for k in present.tolist():
            attrs = kinds[k][1]
            if attrs and key in attrs:
                has[k] = True
                values[k] = attrs[key]
        rows = np.flatnonzero(has[kind])
        columns.append((rows, key, values[kind[rows]]))
    return SpanArrays(tid.copy(), ent_of_kind[kind], names, seconds_array(a[:, 3]),
                      seconds_array(a[:, 4]), columns, a[:, 2].copy(), a[:, 1].copy())


def _rows(ints: list[int], kinds: list[tuple[str, Any]]) -> list[tuple]:
    out = []
    for i in range(0, len(ints), _WIDTH):
        tid, sid, parent, start, end, k = ints[i:i + _WIDTH]
        name, attrs = kinds[k]
        out.append((tid, sid, None if parent == NO_PARENT else parent, name,
                    start / TICKS_PER_SECOND, end / TICKS_PER_SECOND, attrs))
    return out
