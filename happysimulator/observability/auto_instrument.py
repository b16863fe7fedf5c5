"""Auto-instrumentation of the standard components (series names are a public contract).

| entity                  | series                                   | kind    |
|-------------------------|------------------------------------------|---------|
| Server / QueuedResource | queue_depth, in_flight                   | gauge   |
| Server / QueuedResource | wait_time, service_time                  | sample  |
| Server / QueuedResource | arrivals, completed, dropped             | counter |
| Sink / LatencyTracker   | latency (from created_at)                | sample  |
| Source                  | generated                                | counter |

Traces: one span per entity a request visits; ``trace_id`` is the request's context id
and ``parent_id`` the span of the previous hop, carried in the request's context (so
spans are linked causally, never guessed from timestamps). The source's span is the
zero-length root; a sink's span is zero-length at arrival.

How (the hot path is the simulation's): components append *facts* — a tuple to the
simulation's shared hop log, an int or an existing object to a per-resource list — see
`happysimulator.core.component_instrumentation`. A `Recorder` turns them into series in
bulk (numpy) when someone reads a store, when the run completes, or when the log holds
`_FLUSH_RECORDS` facts; spans are materialized (ids, parent links) only when the trace
store is read. Rx subscribers of a series get each observation as it happens through
the component's ``live`` callback; the stores keep being fed in bulk.
"""

from __future__ import annotations

from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from happysim_rx import ObservationKind, Span
from happysimulator.core.component_instrumentation import (
    ARRIVED,
    DONE,
    DROP,
    GEN,
    KINDS,
    SINK,
    STARTED,
    ComponentInstrumentation,
)

if TYPE_CHECKING:
    from happysimulator.observability.integration import ObservabilityRuntime

_SPAN_KEY = "_span"  # context key holding the id of the request's latest span
_GOLDEN = 2654435761  # Knuth's multiplicative hash: spreads consecutive request ids
_FLUSH_RECORDS = 8192  # a hop log holding this many records is flushed (bounded memory)
_NS = 1e9
_SPAN = ObservationKind.SPAN
_code, _time, _obj, _extra = itemgetter(0), itemgetter(1), itemgetter(2), itemgetter(3)
_start_ns, _arr_ns = attrgetter("start_ns"), attrgetter("arr_ns")
_EMPTY = np.empty(0, dtype=np.int64)


def _ints(values: Any, n: int) -> np.ndarray:
    return np.fromiter(values, dtype=np.int64, count=n)


def _gauge_points(t: np.ndarray, values: np.ndarray, last: float) -> tuple[np.ndarray, np.ndarray]:
    """The gauge's changes: the value in effect after *all* records at an instant (a
    server handing over to the next request goes in_flight 1 -> 0 -> 1 within one instant:
    that 0 never held for any time and is not a change), kept where it differs from the
    value before."""
    settled = np.empty(t.size, dtype=bool)
    settled[:-1] = t[1:] != t[:-1]
    settled[-1] = True
    tt, vv = t[settled], values[settled]
    prev = np.empty_like(vv)
    prev[0] = last
    prev[1:] = vv[:-1]
    mask = vv != prev
    return tt[mask], vv[mask]


def _level(ups: np.ndarray, downs: np.ndarray, last: int) -> tuple[np.ndarray, np.ndarray]:
    """A count that goes +1 at each of `ups` and -1 at each of `downs` (ns, sorted),
    starting from `last`: its settled changes as (times in s, values)."""
    if not ups.size and not downs.size:
        return _EMPTY, _EMPTY
    t = np.concatenate((ups, downs))
    step = np.concatenate((np.ones(ups.size, np.int64), np.full(downs.size, -1, np.int64)))
    order = np.argsort(t, kind="stable")
    t = t[order]
    tt, vv = _gauge_points(t, last + np.cumsum(step[order]), last)
    return tt, vv


class Recorder:
    """A simulation's shared hop log and the instrumentations that append to it."""

    def __init__(self, runtime: ObservabilityRuntime) -> None:
        self.runtime = runtime
        self.bus = runtime.bus
        self.log: list[tuple] = []
        self.instrumentations: list[_Instrumentation] = []
        self.metrics = runtime.config.metrics
        self.tracer = Tracer(self, runtime.config.trace_sample_rate) if (
            runtime.config.traces) else None
        self._span_mark = 0  # records of `log` whose spans were already materialized live
        runtime.bus.add_flusher(self.flush)

    def add(self, instr: _Instrumentation) -> None:
        instr.code = len(self.instrumentations) * KINDS
        instr.log = self.log
        instr.hops = self.log.append
        instr.capacity = _FLUSH_RECORDS
        instr.flush = self.flush
        self.instrumentations.append(instr)
        if self.tracer is not None:
            self.tracer.register(instr.entity.name)
        instr.refresh_live()

    def refresh_live(self) -> None:
        for instr in self.instrumentations:
            instr.refresh_live()

    def flush(self) -> None:
        """Derive every series from the facts so far and hand the spans over."""
        log = self.log
        instrs = self.instrumentations
        if not log and not any(i.pending() for i in instrs):
            return
        chunk = log[:]
        log.clear()
        mark, self._span_mark = self._span_mark, 0
        n = len(chunk)
        groups: dict[int, np.ndarray] = {}
        times = _EMPTY
        if n and self.metrics:
            codes = _ints(map(_code, chunk), n)
            times = _ints(map(_time, chunk), n)
            order = np.argsort(codes, kind="stable")
            ordered = codes[order]
            cuts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
            for lo, hi in zip([0, *cuts.tolist()], [*cuts.tolist(), n], strict=True):
                groups[int(ordered[lo])] = order[lo:hi]
        for instr in instrs:
            instr.emit(chunk, times, groups)
        if self.tracer is not None and mark < n:
            self.tracer.hand_over(chunk[mark:] if mark else chunk)

    def spans_now(self) -> None:
        """Materialize and publish the spans of the records so far (live span streams)."""
        log = self.log
        mark = self._span_mark
        if mark < len(log):
            self._span_mark = len(log)
            self.tracer.publish(log[mark:])


class _Instrumentation(ComponentInstrumentation):
    __slots__ = ("entity", "recorder", "topics", "metric_live")

    def __init__(self, recorder: Recorder, entity: Any, series: list[tuple[str, str]]) -> None:
        super().__init__()
        self.entity = entity
        self.recorder = recorder
        self.traced = recorder.tracer is not None
        self.metric_live = False
        metric = recorder.bus.metric
        self.topics = [metric(entity.name, name, kind) for name, kind in series] if (
            recorder.metrics) else []
        for t in self.topics:
            t.watch(self._on_listeners)

    def _on_listeners(self, topic: Any) -> None:
        self.refresh_live()

    def refresh_live(self) -> None:
        metric_live = any(t.has_subscribers for t in self.topics)
        if metric_live and not self.metric_live:
            self.start_live()
        self.metric_live = metric_live
        span_live = self.recorder.tracer is not None and self.recorder.tracer.live
        self.live = self.on_live if (metric_live or span_live) else None

    def on_live(self, kind: int, now: int, obj: Any) -> None:
        if self.metric_live:
            self.publish(kind, now, obj)
        if kind >= 0 and self.recorder.tracer is not None and self.recorder.tracer.live:
            self.recorder.spans_now()

    # per component
    def pending(self) -> bool:
        return False

    def start_live(self) -> None:
        """Live publication starts: gauges continue from the entity's current state."""

    def publish(self, kind: int, now: int, obj: Any) -> None:
        """One fact, published to the series' Rx subscribers (not to the stores)."""

    def emit(self, chunk: list[tuple], times: np.ndarray, groups: dict[int, np.ndarray]) -> None:
        """Feed the stores the series derived from `chunk` (and the component's lists)."""


def _pick(chunk: list[tuple], idx: np.ndarray | None) -> tuple:
    if idx is None or not idx.size:
        return ()
    if idx.size == 1:
        return (chunk[int(idx[0])],)
    return itemgetter(*idx.tolist())(chunk)


class QueueInstrumentation(_Instrumentation):
    """Gauges, samples, counters and spans for a `QueuedResource` or `Server`."""

    __slots__ = ("_arrivals", "_starts", "_last_depth", "_last_in_flight", "_live_depth",
                 "_live_in_flight")

    SERIES = [("queue_depth", "gauge"), ("in_flight", "gauge"), ("wait_time", "sample"),
              ("service_time", "sample"), ("arrivals", "counter"), ("completed", "counter"),
              ("dropped", "counter")]

    def __init__(self, recorder: Recorder, entity: Any) -> None:
        super().__init__(recorder, entity, self.SERIES)
        self._arrivals: list[int] = []
        self._starts: list[Any] = []  # visits
        self.arrived = self._arrivals.append
        self.started = self._starts.append
        self._last_depth = self._live_depth = entity.depth
        self._last_in_flight = self._live_in_flight = entity.in_flight
        if self.topics:
            now = recorder.runtime.sim.clock.now()
            self.topics[0].emit(now, self._last_depth)
            self.topics[1].emit(now, self._last_in_flight)

    def pending(self) -> bool:
        return bool(self._arrivals or self._starts)

    def emit(self, chunk: list[tuple], times: np.ndarray, groups: dict[int, np.ndarray]) -> None:
        arr = np.array(self._arrivals, dtype=np.int64)
        self._arrivals.clear()
        visits = self._starts[:]
        self._starts.clear()
        if not self.topics:  # traces only
            return
        depth_s, flight_s, wait_s, service_s, arrivals_s, completed_s, dropped_s = self.topics
        n = len(visits)
        started = _ints(map(_start_ns, visits), n)
        waited = started - _ints(map(_arr_ns, visits), n)
        idx = groups.get(self.code + DONE)
        done = times[idx] if idx is not None else _EMPTY
        served = done - _ints(map(_start_ns, map(_obj, _pick(chunk, idx))), done.size)
        idx = groups.get(self.code + DROP)
        dropped = times[idx] if idx is not None else _EMPTY

        every = np.sort(np.concatenate((arr, dropped)), kind="stable")
        for series, t, values in (
            (arrivals_s, every, None), (dropped_s, dropped, None), (wait_s, started, waited),
            (service_s, done, served), (completed_s, done, None),
        ):
            if t.size:
                series.emit_many(t / _NS, np.ones(t.size) if values is None else values / _NS,
                                 subscribers=False)
        entity = self.entity
        for series, ups, downs, last, actual in (
            (depth_s, arr, started, self._last_depth, len(entity._queue)),
            (flight_s, started, done, self._last_in_flight, entity.in_flight),
        ):
            t, v = _level(ups, downs, last)
            if t.size:
                series.emit_many(t / _NS, v.astype(np.float64), subscribers=False)
                last = int(v[-1])
            if last != actual:  # changed behind the instrumentation's back (a user's pop)
                series.emit_many(np.array([entity._sim._now_ns / _NS]),
                                 np.array([float(actual)]), subscribers=False)
        self._last_depth = len(entity._queue)
        self._last_in_flight = entity.in_flight

    # -- live delivery to Rx subscribers -------------------------------------------------
    def start_live(self) -> None:
        self._live_depth = len(self.entity._queue)
        self._live_in_flight = self.entity.in_flight

    def publish(self, kind: int, now: int, obj: Any) -> None:
        depth_s, flight_s, wait_s, service_s, arrivals_s, completed_s, dropped_s = self.topics
        t = now / _NS
        if kind == ARRIVED:
            if arrivals_s.has_subscribers:
                arrivals_s.publish(t, 1)
        elif kind == STARTED:
            if wait_s.has_subscribers:
                wait_s.publish(t, (now - obj.arr_ns) / _NS)
        elif kind == DONE:
            if service_s.has_subscribers:
                service_s.publish(t, (now - obj.start_ns) / _NS)
            if completed_s.has_subscribers:
                completed_s.publish(t, 1)
        elif kind == DROP:
            if arrivals_s.has_subscribers:
                arrivals_s.publish(t, 1)
            if dropped_s.has_subscribers:
                dropped_s.publish(t, 1)
        entity = self.entity
        depth = len(entity._queue)
        if depth != self._live_depth:
            self._live_depth = depth
            if depth_s.has_subscribers:
                depth_s.publish(t, depth)
        # a completion with requests waiting is followed, at the same instant, by the next
        # start: its momentary in_flight dip is not a change (see _gauge_points)
        in_flight = entity.in_flight
        if in_flight != self._live_in_flight and not (kind == DONE and depth > 0):
            self._live_in_flight = in_flight
            if flight_s.has_subscribers:
                flight_s.publish(t, in_flight)


class SinkInstrumentation(_Instrumentation):
    """`latency` samples and a zero-length span per request reaching a sink."""

    __slots__ = ()

    def __init__(self, recorder: Recorder, entity: Any) -> None:
        super().__init__(recorder, entity, [("latency", "sample")])

    def emit(self, chunk: list[tuple], times: np.ndarray, groups: dict[int, np.ndarray]) -> None:
        idx = groups.get(self.code + SINK)
        if idx is None:
            return
        t = times[idx]
        created = _ints(map(_extra, _pick(chunk, idx)), t.size)
        self.topics[0].emit_many(t / _NS, (t - created) / _NS, subscribers=False)

    def publish(self, kind: int, now: int, obj: Any) -> None:
        if kind == SINK:
            self.topics[0].publish(now / _NS, (now - obj._created_ns()) / _NS)


class SourceInstrumentation(_Instrumentation):
    """`generated` counter and the zero-length root span of every request."""

    __slots__ = ()

    def __init__(self, recorder: Recorder, entity: Any) -> None:
        super().__init__(recorder, entity, [("generated", "counter")])

    def emit(self, chunk: list[tuple], times: np.ndarray, groups: dict[int, np.ndarray]) -> None:
        idx = groups.get(self.code + GEN)
        if idx is not None:
            self.topics[0].emit_many(times[idx] / _NS, np.ones(idx.size), subscribers=False)

    def publish(self, kind: int, now: int, obj: Any) -> None:
        if kind == GEN:
            self.topics[0].publish(now / _NS, 1)


class Tracer:
    """Turns span-producing hop records into spans: ids, parent links, sampling.

    Records are materialized in the order they were made (chunk after chunk), so span ids
    and parents do not depend on when the trace store is read."""

    def __init__(self, recorder: Recorder, sample_rate: float) -> None:
        self._recorder = recorder
        self._bus = recorder.bus
        self._next_span = 1
        self._rate = sample_rate
        self._threshold = int(sample_rate * 2**32)
        self._names: list[str] = []
        self._topics: list[Any] = []
        self.live = False

    def register(self, name: str) -> None:
        topic = self._bus.topic(_SPAN, name, "span")
        topic.watch(self._on_listeners)
        self._names.append(name)
        self._topics.append(topic)
        self._on_listeners(topic)

    def _on_listeners(self, topic: Any) -> None:
        live = any(t.has_subscribers for t in self._topics)
        if live != self.live:
            if live:
                self._recorder.flush()  # earlier spans first, in order
            self.live = live
            self._recorder.refresh_live()

    def sampled(self, trace_id: int) -> bool:
        """Deterministic per request, so a trace is either complete or absent."""
        if self._rate >= 1.0:
            return True
        return (trace_id * _GOLDEN) & 0xFFFFFFFF < self._threshold

    def materialize(self, records: list[tuple]) -> list[tuple]:
        """Span rows (Span's fields in order) for hop records, in record order."""
        rows = []
        names = self._names
        sid = self._next_span
        sampling = self._rate < 1.0
        for rec in records:
            obj = rec[2]
            if obj is None:
                continue
            c = obj if obj.__class__ is dict else obj._ctx
            if c.__class__ is not dict:
                c = (obj if c is None else c).context
            trace_id = c["id"]
            if sampling and not self.sampled(trace_id):
                continue
            parent = c.get(_SPAN_KEY)
            c[_SPAN_KEY] = sid
            code = rec[0]
            kind = code % KINDS
            end = rec[1] / _NS
            if kind == DONE:
                rows.append((trace_id, sid, parent, names[code // KINDS], obj.arr_ns / _NS,
                             end, None))
            elif kind == SINK:
                rows.append((trace_id, sid, parent, names[code // KINDS], end, end,
                             {"latency": (rec[1] - rec[3]) / _NS}))
            elif kind == DROP:
                rows.append((trace_id, sid, parent, names[code // KINDS], end, end,
                             {"status": "dropped"}))
            else:
                rows.append((trace_id, sid, parent, names[code // KINDS], end, end, None))
            sid += 1
        self._next_span = sid
        return rows

    def hand_over(self, records: list[tuple]) -> None:
        """Give the trace store the records, materialized when it is read."""
        if not self._bus.store_lazy(_SPAN, records, self.materialize):
            self._emit(self.materialize(records))

    def publish(self, records: list[tuple]) -> None:
        """Materialize now: into the stores and to the Rx subscribers of span topics."""
        self._bus.settle(_SPAN)  # spans handed over earlier get their ids first
        rows = self.materialize(records)
        if not self._bus.store_rows(_SPAN, rows):
            self._emit(rows)
            return
        topics = {t.source: t for t in self._topics}
        for row in rows:
            topics[row[3]].publish(row[5], Span(*row))

    def _emit(self, rows: list[tuple]) -> None:
        topics = {t.source: t for t in self._topics}
        for row in rows:
            topics[row[3]].emit(row[5], Span(*row))


def instrumentation_for(runtime: ObservabilityRuntime, entity: Any) -> _Instrumentation | None:
    """The standard instrumentation for `entity`, or None if it is not a standard component."""
    from happysimulator.components.common import Sink
    from happysimulator.components.queued_resource import QueuedResource
    from happysimulator.load.source import Source

    recorder = runtime.recorder
    if isinstance(entity, QueuedResource):
        return QueueInstrumentation(recorder, entity)
    if isinstance(entity, Sink):
        return SinkInstrumentation(recorder, entity)
    if isinstance(entity, Source):
        return SourceInstrumentation(recorder, entity)
    return None
