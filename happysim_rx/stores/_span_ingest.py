"""How a `TraceStore` takes spans in: appended as they come (O(1) on the simulation's
hot path), put in the columns on the first read after a change (or every
``_INDEX_EVERY`` pending items when bounded, to keep memory flat), ids assigned and the
bound applied there, in the order the spans came."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from happysim_rx._gc import return_free_memory
from happysim_rx.observation import Span
from happysim_rx.stores._span_ids import _NONE, COMPONENT_SPAN_BASE, SpanIds
from happysim_rx.stores._trace_bound import TraceBound, sorted_unique

__all__ = ["SpanColumns", "SpanArrays", "SpanIngest"]

_INDEX_EVERY = 4096


class SpanColumns(NamedTuple):
    """Spans without ids as equal-length lists, in causal order per trace: what an
    `add_lazy` materializer may return instead of rows."""

    trace_ids: list[Any]
    entities: list[str]
    starts: list[float]
    ends: list[float]
    attributes: list[dict[str, Any] | None]


class SpanArrays(NamedTuple):
    """Spans without ids as numpy columns, in causal order per trace (the cheapest form
    an `add_lazy` materializer can return). ``entities`` index into ``names``;
    ``attributes`` are sparse columns ``(rows, key, values)``: span ``rows[i]`` has
    attribute ``key`` = ``values[i]``. ``parents``, if given, holds each span's own
    parent (a component span's id, recorded when the request reached the span's
    entity), or the int64 minimum where the span takes its request's previous span.
    ``span_ids``, if given, holds ids the spans were recorded with (component spans:
    then ``parents`` holds their own parents), the int64 minimum where the store
    assigns one. ``ranks``, if given, orders a request's spans that tie on (end,
    start) (see `happysim_rx.stores._span_ids`)."""

    trace_ids: np.ndarray
    entities: np.ndarray
    names: list[str]
    starts: np.ndarray
    ends: np.ndarray
    attributes: list[tuple[np.ndarray, str, np.ndarray]]
    parents: np.ndarray | None = None
    span_ids: np.ndarray | None = None
    #: per name, the entity's place in a request's path when its spans tie on (end,
    #: start): 0 the source that made it, 1 a visit, 2 the sink (None: all visits)
    ranks: list[int] | None = None


class _Lazy:
    __slots__ = ("records", "materialize", "size", "of_trace", "of_traces", "by_entity")

    def __init__(self, records: Any, materialize: Any, size: int, of_trace: Any,
                 of_traces: Any = None, by_entity: Any = None) -> None:
        self.records, self.materialize, self.size = records, materialize, size
        self.of_trace, self.of_traces, self.by_entity = of_trace, of_traces, by_entity


def _is_id(x: Any) -> bool:
    return type(x) is int and -(2**63) < x < 2**63


class _Block(NamedTuple):
    """New spans with integer ids as columns (entity codes of the store), their
    attributes (``attrs``: offset -> dict; ``attr_cols``: sparse columns) and their
    positions in the stream of spans handed to the store."""

    tid: np.ndarray
    sid: np.ndarray | None  # None: no span has an id (nor a parent) yet
    pid: np.ndarray | None
    ent: np.ndarray
    start: np.ndarray
    end: np.ndarray
    attrs: dict[int, dict[str, Any]]
    attr_cols: list[tuple[np.ndarray, str, np.ndarray]]
    pos: np.ndarray

    def only(self, keep: np.ndarray) -> _Block:
        new_row = np.cumsum(keep) - 1
        cols = [(new_row[r[keep[r]]], key, v[keep[r]]) for r, key, v in self.attr_cols]
        sid, pid = self.sid, self.pid
        return _Block(self.tid[keep], None if sid is None else sid[keep],
                      None if pid is None else pid[keep], self.ent[keep],
                      self.start[keep], self.end[keep],
                      {int(new_row[o]): a for o, a in self.attrs.items() if keep[o]},
                      [c for c in cols if c[0].size], self.pos[keep])

    def spans(self, rows: np.ndarray, names: list[str]) -> list[Span]:
        """These rows as records, as handed over (no ids assigned: ``-(1 + position)``
        for a span without id, and no parent)."""
        out = []
        for r in rows.tolist():
            at = dict(self.attrs.get(r) or {})
            for rows_, key, values in self.attr_cols:
                hit = np.flatnonzero(rows_ == r)
                if hit.size:
                    v = values[hit[0]]
                    at[key] = v.item() if isinstance(v, np.generic) else v
            sid = _NONE if self.sid is None else int(self.sid[r])
            pid = _NONE if self.pid is None else int(self.pid[r])
            out.append(Span(int(self.tid[r]), -(1 + int(self.pos[r])) if sid == _NONE else sid,
                            None if pid == _NONE else pid, names[int(self.ent[r])],
                            float(self.start[r]), float(self.end[r]), at or None))
        return out


class SpanIngest(SpanIds, TraceBound):
    """Mixed into `TraceStore`: writing, and moving what was written into the columns."""

    _pending: list[Any]
    _pending_lazy: int
    _seen: int  # spans handed over and taken in so far (kept or not)
    _appended_from: int = 0  # the first row the last take-in appended
    _names: list[str]
    _codes: dict[str, int]
    _attr_keys: dict[str, set[str]]  # entity -> attribute keys its spans carried
    _components: bool
    _bufs: tuple[np.ndarray, ...] | None
    _by_tid: tuple[np.ndarray, np.ndarray] | None

    def appender(self, info: Any) -> Any:
        pending = self._pending
        bounded = self.max_traces is not None
        index = self._index

        def append(t: float, span: Span, tags: Any = None) -> None:
            pending.append(span)
            if bounded and len(pending) >= _INDEX_EVERY:
                index()

        return append

    def row_list(self) -> list[Any] | None:
        """The list `appender` appends to, while appending to it is all it does (an
        unbounded store; None when bounded). A component whose span topic has this store
        as its only listener may append its `Span`s there itself: the same spans in the
        same order, without a call per span. Keep it equivalent to `appender`."""
        return self._pending if self.max_traces is None else None

    def add(self, span: Span) -> None:
        self._pending.append(span)
        if self.max_traces is not None and len(self._pending) >= _INDEX_EVERY:
            self._index()

    def add_rows(self, rows: list[tuple]) -> None:
        """Many spans at once, each a tuple of `Span`'s fields in order."""
        self._pending.extend(rows)
        if self.max_traces is not None and len(self._pending) >= _INDEX_EVERY:
            self._index()

    def add_lazy(self, records: Any, materialize: Any, size: int,
                 trace_ids: Any = None, of_trace: Any = None, of_traces: Any = None,
                 by_entity: Any = None) -> None:
        """``size`` spans to be made by ``materialize(records, skip)`` (`SpanArrays`,
        `SpanColumns` or rows as for `add_rows`; ``skip`` is an empty id array: columns
        are cheap enough to build for traces a bounded store then drops) when the store
        is next read; batches are taken in the order they came. ``of_trace(trace_id)``,
        if given, returns the `SpanArrays` of one trace, which lets ``trace(id)`` answer
        without building the rest. With ``of_traces(sorted ids)`` (the `SpanArrays` of
        those traces) and ``by_entity()`` (``(entity, trace ids, starts)`` of every
        span, in any order), a range or limited read answers without building the
        rest too. ``trace_ids`` is accepted and not needed."""
        self._pending.append(_Lazy(records, materialize, size, of_trace, of_traces,
                                   by_entity))
        self._pending_lazy += size
        cap = self.max_traces
        if cap is not None and (len(self._pending) >= _INDEX_EVERY
                                or self._pending_lazy >= max(_INDEX_EVERY, 16 * cap)):
            self._index()

    def settle(self) -> list[Span]:
        """Take in everything pending; returns the new spans as `Span` records, those a
        bounded store dropped included (as handed over: without parent, and a span
        without id gets ``-(1 + its position in the stream)``)."""
        self._appended_from = self._tid.size
        dropped: list[Span] = []
        added_other = self._index(dropped)  # (evicts stored rows before it appends)
        new = self._spans_at(np.arange(self._appended_from, self._tid.size))
        return [*new, *added_other, *dropped]

    def _spans_at(self, rows: np.ndarray) -> list[Span]:
        raise NotImplementedError

    # -- into the columns -----------------------------------------------------------------
    def _index(self, dropped: list[Span] | None = None) -> list[Span]:
        """Move pending spans into the columns (the bound applied, ids assigned);
        returns the spans with non-integer ids that were added. ``dropped``, if given,
        receives the spans the bound dropped."""
        if not self._pending:
            return []
        pending = self._pending[:]
        self._pending.clear()  # in place: `appender` closures hold this list
        self._pending_lazy = 0
        self._pending_reads = 0
        blocks: list[_Block | None] = []
        rows: list[Any] = []
        others: list[tuple[int, Span]] = []  # (stream position, span)
        seen0 = p = self._seen
        for item in pending:
            if type(item) is not _Lazy:
                rows.append(item)
                continue
            if rows:
                blocks.append(self._rows_block(rows, others, p))
                p, rows = p + len(rows), []
            made = item.materialize(item.records, np.empty(0, dtype=np.int64))
            if type(made) is SpanArrays:
                blocks.append(self._arrays_block(made, p))
                p += made.trace_ids.size
                continue
            if type(made) is SpanColumns:
                made = [(t, None, None, e, a, b, at)
                        for t, e, a, b, at in zip(*made, strict=True)]
            made = list(made)
            blocks.append(self._rows_block(made, others, p))
            p += len(made)
        if rows:
            blocks.append(self._rows_block(rows, others, p))
            p += len(rows)
        self._seen = p
        kept = [b for b in blocks if b is not None]
        if self.max_traces is not None:
            kept, others = self._apply_bound(kept, others, seen0, dropped)
        self._append_blocks(kept)
        if len(pending) > 1:
            return_free_memory()  # the build's temporaries (not per live span)
        return self._add_others(others)

    def _apply_bound(self, blocks: list[_Block], others: list[tuple[int, Span]], seen0: int,
                     dropped: list[Span] | None) -> tuple[list[_Block],
                                                          list[tuple[int, Span]]]:
        """The batch's spans the bound keeps (`TraceBound._bound`); the starts of those
        it drops move `complete_from`."""
        tids = (np.concatenate([b.tid for b in blocks]) if blocks
                else np.empty(0, dtype=np.int64))
        keep, keep_other = self._bound(tids, [(q - seen0, s.trace_id) for q, s in others])
        out, off = [], 0
        for b in blocks:
            k = b.tid.size
            m = keep[off:off + k]
            off += k
            if m.all():
                out.append(b)
                continue
            self._note_evicted(b.start[~m])
            if dropped is not None:
                dropped.extend(b.spans(np.flatnonzero(~m), self._names))
            if m.any():
                out.append(b.only(m))
        gone = [s for (_, s), k in zip(others, keep_other.tolist(), strict=True) if not k]
        if gone:
            self._note_evicted(np.array([s.start for s in gone], dtype=np.float64))
            if dropped is not None:
                dropped.extend(gone)
        return out, [o for o, k in zip(others, keep_other.tolist(), strict=True) if k]

    def _code(self, name: str) -> int:
        code = self._codes.get(name)
        if code is None:
            code = self._codes[name] = len(self._names)
            self._names.append(name)
        return code

    def _arrays_block(self, b: SpanArrays, p: int) -> _Block | None:
        k = b.trace_ids.size
        # (a batch without spans still registers its entity names)
        codes = np.array([self._code(nm) for nm in b.names], dtype=np.int32)
        if b.ranks is not None:
            self._learn_ranks(b.names, b.ranks)
        if not k:
            return None
        for r, key, _ in b.attributes:  # (the keys spans carry, per entity: kept or not)
            if r.size:
                for c in np.unique(b.entities[r]).tolist():
                    self._attr_keys.setdefault(b.names[c], set()).add(key)
        pid = None if b.parents is None else b.parents.astype(np.int64)  # (a copy)
        sid = None if b.span_ids is None else b.span_ids.astype(np.int64)
        return _Block(b.trace_ids.astype(np.int64, copy=False), sid, pid,
                      codes[b.entities], np.asarray(b.starts, dtype=np.float64),
                      np.asarray(b.ends, dtype=np.float64), {},
                      [(r.astype(np.int64), key, v) for r, key, v in b.attributes],
                      np.arange(p, p + k, dtype=np.int64))

    def _rows_block(self, rows: list[Any], others: list[tuple[int, Span]],
                    p: int) -> _Block | None:
        """Rows and `Span`s (few: live streams, hand-made spans) as a block of columns,
        the first at stream position ``p``; those with non-integer ids go to `others`."""
        tid, sid, pid, ent, start, end, pos = [], [], [], [], [], [], []
        attrs: dict[int, dict[str, Any]] = {}
        keys_of = self._attr_keys
        for i, item in enumerate(rows, p):
            t, s, q, e, a, b, at = (item if type(item) is tuple
                                    else (item.trace_id, item.span_id, item.parent_id,
                                          item.entity, item.start, item.end,
                                          item.attributes))
            if at:  # (the keys a span query may filter or group on: kept or not)
                ks = keys_of.get(e)
                if ks is None:
                    ks = keys_of[e] = set()
                ks.update(at)
            if not (_is_id(t) and (s is None or _is_id(s)) and (q is None or _is_id(q))):
                others.append((i, item if type(item) is Span else Span(*item)))
                continue
            if at is not None:
                attrs[len(tid)] = at
            tid.append(t)
            sid.append(_NONE if s is None else s)
            pid.append(_NONE if q is None else q)
            ent.append(self._code(e))
            start.append(a)
            end.append(b)
            pos.append(i)
        if not tid:
            return None
        return _Block(np.array(tid, dtype=np.int64), np.array(sid, dtype=np.int64),
                      np.array(pid, dtype=np.int64), np.array(ent, dtype=np.int32),
                      np.array(start, dtype=np.float64), np.array(end, dtype=np.float64),
                      attrs, [], np.array(pos, dtype=np.int64))

    _COLUMNS = ("_tid", "_sid", "_pid", "_hop", "_ent", "_start", "_end")

    def _extend(self, new: tuple[np.ndarray, ...]) -> None:
        """Append rows to the columns (copies: a batch's arrays may be its producer's).
        The columns are views of buffers with room to spare (a quarter): intakes of a
        few spans each (a live span subscriber settles every span) cost what they add,
        not a copy of the store. The first intake is sized exactly (a read after a run
        takes everything in at once)."""
        n, k = self._tid.size, new[0].size
        cols = [getattr(self, c) for c in self._COLUMNS]
        bufs = self._bufs
        if (bufs is None or bufs[0].size < n + k
                or any(c.base is not b for c, b in zip(cols, bufs, strict=True))):
            room = n + k if n == 0 else n + k + (n + k) // 4
            bufs = tuple(np.empty(room, dtype=c.dtype) for c in cols)
            for b, c in zip(bufs, cols, strict=True):
                b[:n] = c
            self._bufs = bufs
        for name, b, a in zip(self._COLUMNS, bufs, new, strict=True):
            b[n:n + k] = a
            setattr(self, name, b[:n + k])

    def _append_blocks(self, blocks: list[_Block]) -> None:
        if not blocks:
            return
        base = n = self._appended_from = self._tid.size
        for b in blocks:
            for rows_, key, values in b.attr_cols:
                self._attr_cols.append((rows_ + n, key, values))
            for off, a in b.attrs.items():
                self._attrs[n + off] = a
            n += b.tid.size
        tid, ent, start, end, pos = (
            blocks[0][i] if len(blocks) == 1 else np.concatenate([b[i] for b in blocks])
            for i in (0, 3, 4, 5, 8))
        # (fresh arrays: `_assign_ids` fills them in place)
        sid, pid = (np.concatenate([np.full(b.tid.size, _NONE, dtype=np.int64)
                                    if b[i] is None else b[i] for b in blocks])
                    for i in (1, 2))
        hop = sid == _NONE
        by_tid, redo = self._assign_ids(tid, sid, pid, pos, start, end, ent)
        if not self._components and (sid >= COMPONENT_SPAN_BASE).any():
            self._components = True
        self._extend((tid, sid, pid, hop, ent, start, end))
        # the new block's trace-id order is the whole store's when it was empty (saves
        # the bounded store's eviction a sort); else the index kept covers the rows
        # before this intake (`_tid_index` merges the new ones in when asked)
        if base == 0:
            self._by_tid = by_tid
        self._by_start = None
        self._scanned = False
        if redo.size:
            self._rechain(redo)
        if self._components:
            self._join_component_spans(sorted_unique(tid))
