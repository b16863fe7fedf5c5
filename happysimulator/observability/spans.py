"""Spans of the auto-instrumented components: built from request-id facts as columns,
put in causal order per request and sampled only when a trace store reads them (see
`happysimulator.observability.auto_instrument` for the facts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from happysim_rx import ObservationKind
from happysim_rx.stores.trace import SpanArrays
from happysimulator.core.component_instrumentation import DONE, DROP, REMOVED, SINK, trace_id
from happysimulator.observability.odd_ids import split_odd
from happysimulator.observability.trace_sampling import GOLDEN as _GOLDEN
from operators.simtime import TICKS_PER_SECOND

if TYPE_CHECKING:
    from happysimulator.observability.auto_instrument import Recorder, _Instrumentation

_NS = TICKS_PER_SECOND  # int: ns / _NS is the correctly rounded seconds (operators.simtime)
_SPAN = ObservationKind.SPAN
# a request's spans in causal order: by end, then source < resource < sink, then start
ROOT, VISIT, LEAF = 0, 1, 2
_NO_IDS = np.empty(0, dtype=np.int64)
_NO_PARENT = np.iinfo(np.int64).min  # (`SpanArrays.parents`: the previous hop's)


class EntitySpans:
    """Spans of one entity from one flush, as columns (ids not assigned yet)."""

    __slots__ = ("name", "rank", "trace_ids", "starts", "ends", "latency", "dropped",
                 "split", "parents")

    def __init__(self, name: str, rank: int, trace_ids: np.ndarray, starts: np.ndarray,
                 ends: np.ndarray, latency: np.ndarray | None = None,
                 dropped: bool = False,
                 split: tuple[np.ndarray, np.ndarray] | None = None,
                 parents: np.ndarray | None = None) -> None:
        self.name, self.rank, self.trace_ids = name, rank, trace_ids
        self.starts, self.ends, self.latency, self.dropped = starts, ends, latency, dropped
        #: a station's (wait, service) seconds per span
        self.split = split
        #: each span's component parent (`SpanArrays.parents`; None: none has one)
        self.parents = parents


class SpanBatch:
    """The spans of one flush as columns; put in causal order per request (and sampled)
    only when a store asks for them or for their trace ids."""

    __slots__ = ("batch", "rate", "threshold", "size", "_sorted", "_ids")

    def __init__(self, batch: list[EntitySpans], rate: float, threshold: int) -> None:
        self.batch, self.rate, self.threshold = batch, rate, threshold
        self.size = sum(c.trace_ids.size for c in batch)
        self._sorted: tuple[np.ndarray, ...] | None = None
        self._ids: tuple[int, int] | None = None  # (lowest, highest) trace id

    def columns(self) -> tuple[np.ndarray, ...]:
        """(trace ids, starts, ends, entity index, row within the entity's columns)."""
        if self._sorted is None:
            batch = self.batch
            tids = np.concatenate([c.trace_ids for c in batch])
            sizes = [c.trace_ids.size for c in batch]
            which = np.repeat(np.arange(len(batch)), sizes)
            starts = np.concatenate([c.starts for c in batch])
            ends = np.concatenate([c.ends for c in batch])
            rank = np.array([c.rank for c in batch], dtype=np.int64)[which]
            order = np.lexsort((which, starts, rank, ends))
            if self.rate < 1.0:
                order = order[self._sampled(tids)[order]]
            offsets = np.cumsum([0] + sizes)[:-1]
            which = which[order]
            self._sorted = (tids[order], starts[order], ends[order], which,
                            order - offsets[which])
        return self._sorted

    @property
    def trace_ids(self) -> np.ndarray:
        return self.columns()[0]

    def of_trace(self, trace_id: int) -> SpanArrays:
        """The spans of one request, as `rows` gives them, found by a scan of the id
        columns (nothing is sorted or built for the other requests)."""
        return self.of_traces(np.array([trace_id], dtype=np.int64))

    def by_entity(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """``(entity, trace ids, starts)`` of each entity's spans that `rows` would give
        (sampled), in no particular order: what a range read needs to find its traces
        without ordering the batch."""
        out = []
        for c in self.batch:
            tids, starts = c.trace_ids, c.starts
            if self.rate < 1.0:
                keep = self._sampled(tids)
                tids, starts = tids[keep], starts[keep]
            out.append((c.name, tids, starts))
        return out

    def _sampled(self, tids: np.ndarray) -> np.ndarray:
        hashed = (tids.astype(np.uint64) * np.uint64(_GOLDEN)) & np.uint64(0xFFFFFFFF)
        return hashed < self.threshold

    def of_traces(self, trace_ids: np.ndarray) -> SpanArrays:
        """The spans of some requests (``trace_ids`` sorted), as `rows` gives them,
        found by a search of the id columns (nothing is sorted or built for the other
        requests)."""
        part = []
        top = trace_ids.size - 1
        if self._ids is None:
            ids = [(int(c.trace_ids.min()), int(c.trace_ids.max()))
                   for c in self.batch if c.trace_ids.size]
            self._ids = (min(a for a, _ in ids), max(b for _, b in ids)) if ids else (1, 0)
        lo, hi = self._ids
        if top < 0 or int(trace_ids[0]) > hi or int(trace_ids[-1]) < lo:
            # none of them here (a batch holds the requests of one stretch of the run)
            none = np.empty(0, dtype=np.int64)
            return SpanArrays(none, none, [c.name for c in self.batch], np.empty(0),
                              np.empty(0), [])
        for c in self.batch:
            if top < 8:  # a few: compared one by one (no search per span)
                hit = np.zeros(c.trace_ids.size, dtype=bool)
                for t in trace_ids.tolist():
                    hit |= c.trace_ids == t
            else:
                near = trace_ids[np.minimum(np.searchsorted(trace_ids, c.trace_ids), top)]
                hit = near == c.trace_ids
            at = np.flatnonzero(hit)
            part.append(EntitySpans(c.name, c.rank, c.trace_ids[at], c.starts[at], c.ends[at],
                                    None if c.latency is None else c.latency[at], c.dropped,
                                    None if c.split is None else (c.split[0][at],
                                                                  c.split[1][at]),
                                    None if c.parents is None else c.parents[at]))
        return SpanBatch(part, self.rate, self.threshold).rows(_NO_IDS)

    def rows(self, skip: np.ndarray) -> SpanArrays:
        """The spans as columns (ids left to the store), leaving out the traces in
        `skip`; attributes as sparse columns (a sink's latency, a drop's status, a
        station's wait and service seconds)."""
        tids, starts, ends, which, j = self.columns()
        if skip.size:
            keep = ~np.isin(tids, skip)
            tids, starts, ends, which, j = tids[keep], starts[keep], ends[keep], which[keep], (
                j[keep])
        batch = self.batch
        attrs = []
        for w, cols in enumerate(batch):
            if cols.latency is None and not cols.dropped and cols.split is None:
                continue
            at = np.flatnonzero(which == w)
            if cols.latency is not None:
                attrs.append((at, "latency", cols.latency[j[at]]))
            elif cols.split is not None:
                attrs.append((at, "wait", cols.split[0][j[at]]))
                attrs.append((at, "service", cols.split[1][j[at]]))
            else:
                attrs.append((at, "status", np.full(at.size, "dropped", dtype=object)))
        parents = None
        if any(c.parents is not None for c in batch):
            parents = np.full(tids.size, _NO_PARENT, dtype=np.int64)
            for w, cols in enumerate(batch):
                if cols.parents is not None:
                    at = np.flatnonzero(which == w)
                    parents[at] = cols.parents[j[at]]
        return SpanArrays(tids, which, [c.name for c in batch], starts, ends, attrs,
                          parents, ranks=[c.rank for c in batch])


class Tracer:
    """Turns span columns into span rows: causal order per request, sampling.

    The trace store gives each span its id and links it to the request's previous span
    (see `TraceStore`), so ids and parents do not depend on when the store is read."""

    def __init__(self, recorder: Recorder, sample_rate: float) -> None:
        self._recorder = recorder
        self._bus = recorder.bus
        self._rate = sample_rate
        self._threshold = int(sample_rate * 2**32)
        self._topics: dict[str, Any] = {}
        #: the stations recording their hops' component parents, by name
        self._parents: dict[str, Any] = {}
        self.live = False
        # any span topic (a component's too: its outermost span's parent is the hop of
        # its request it began in, which must be in the store when the span is published)
        self._bus.watch_kind(_SPAN, self._on_listeners)

    def register(self, instr: _Instrumentation) -> None:
        name = instr.entity.name
        topic = self._bus.topic(_SPAN, name, "span")
        self._topics[name] = topic
        if getattr(instr, "hop_parents", None) is not None:
            self._parents[name] = instr.hop_parents
        self._on_listeners(topic)

    def _on_listeners(self, topic: Any) -> None:
        live = any(t.has_subscribers for t in self._bus.topics(_SPAN))
        if live != self.live:
            self._recorder.flush()  # spans so far in the store first, in order
            self.live = live
            self._recorder.refresh_live()

    def sampled(self, trace_id: int) -> bool:
        """Deterministic per request, so a trace is either complete or absent."""
        if self._rate >= 1.0 or trace_id.__class__ is not int:
            return True  # (an id of another type: as `trace_sampler` keeps it)
        return (trace_id * _GOLDEN) & 0xFFFFFFFF < self._threshold

    def hand_over(self, batch: list[EntitySpans]) -> None:
        """Give the trace store the spans (as columns, each request's spans in causal
        order), materialized when it is read."""
        if any(c.trace_ids.dtype == object for c in batch):
            batch = self._rows_of_odd_ids(batch)
        columns = SpanBatch(batch, self._rate, self._threshold)
        if columns.size and not self._bus.store_lazy(
                _SPAN, columns, self.materialize, columns.size,
                trace_ids=lambda: columns.trace_ids, of_trace=columns.of_trace,
                of_traces=columns.of_traces, by_entity=columns.by_entity):
            raise RuntimeError("auto-instrumented spans need a TraceStore on the bus")

    def _rows_of_odd_ids(self, batch: list[EntitySpans]) -> list[EntitySpans]:
        """The spans of requests whose id is not an int64 integer (`odd_ids`) into the
        store as rows now (each request's in causal order, with its id as given; always
        sampled, as `trace_sampler` keeps them); the rest of `batch` as columns."""
        kept, rows = [], []
        for c in batch:
            if c.trace_ids.dtype != object:
                kept.append(c)
                continue
            good, odd = split_odd(c, EntitySpans)
            if good is not None:
                kept.append(good)
            rows.extend(odd)
        if rows:
            rank = {c.name: c.rank for c in batch}  # (`SpanBatch.columns`' order)
            rows.sort(key=lambda r: (r[5], rank[r[3]], r[4]))
            if not self._bus.store_rows(_SPAN, rows):
                raise RuntimeError("auto-instrumented spans need a TraceStore on the bus")
        return kept

    @staticmethod
    def materialize(columns: SpanBatch, skip: np.ndarray) -> SpanArrays:
        """The spans as columns (ids left to the store), leaving out the traces in
        `skip` (a bounded store would evict them)."""
        return columns.rows(skip)

    def publish_fact(self, name: str, kind: int, now: int, obj: Any) -> None:
        """Live span streams: the span of one fact, into the store and to subscribers."""
        attrs = parent = None
        start = now
        if kind == DONE or kind == REMOVED:
            trace_id_ = trace_id(obj.request)
            start = obj.arr_ns
            if kind == REMOVED:
                attrs = {"status": "dropped"}
            else:
                attrs = {"wait": (obj.start_ns - start) / _NS,
                         "service": (now - obj.start_ns) / _NS}
        elif obj is None:  # a source's provider made no request
            return
        else:
            trace_id_ = trace_id(obj)
            if kind == DROP:
                attrs = {"status": "dropped"}
            elif kind == SINK:
                attrs = {"latency": (now - obj._created_ns()) / _NS}
        parents = self._parents.get(name)
        if parents is not None and kind != SINK:  # (before sampling: it is consumed)
            parent = parents.parent_of(trace_id_, start)
        if not self.sampled(trace_id_):
            return
        row = (trace_id_, None, parent, name, start / _NS, now / _NS, attrs)
        if not self._bus.store_rows(_SPAN, [row]):
            raise RuntimeError("auto-instrumented spans need a TraceStore on the bus")
        for span in self._bus.settle(_SPAN):
            # (a component's own span -- `ObservedEntity.record_span` -- reached the
            # subscribers through its topic when it was recorded: not again here)
            topic = self._topics.get(span.entity)
            if topic is not None:
                topic.publish(span.end, span)


__all__ = ["EntitySpans", "SpanBatch", "Tracer", "ROOT", "VISIT", "LEAF"]
