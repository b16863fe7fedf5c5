"""A toolkit component's recording in one simulation, resolved once: the hot paths of
`Client` and `LoadBalancer` record through it instead of through the
`ObservedEntity` calls (``increment`` / ``observe`` / ``open_span`` / ``record_span``),
with the same result in the stores and for live listeners.

Why: a request through a client and a balancer makes about eight recording calls; each
looks its topic up by name, checks its value and packs its tags and attributes into
dicts. Here every series the hot path records is looked up once per simulation and
kept as its store's tail lists (the `Topic.columns` a caller may append to while only
that store listens) or, when someone else listens (a breakpoint, an Rx subscriber,
a second store), as the topic itself, whose ``emit`` reaches them all as it happens. A
change of listeners drops the resolved form (the topics' watchers), so the next
recording call resolves again::

    f = self._fast                  # (`STALE` until resolved, and when listeners change)
    if f.sim is not self._sim:
        f = self._fast = resolve(self, ("requests", "counter"), ("latency", "sample"))
    if f.on:
        f.add(0, now_s, 1)          # (or inline: see `Client._dispatch`)

A counter of ones or a sample of durations may go further (kinds ``"counter:ns"`` and
``"sample:since"``): while only its store listens, ``series[i]`` is then a list to
append the time in ns to (a `counter:ns`), or an `NsPair` of lists, the time and the
start of the duration, both in ns (a `sample:since`: the value is their difference in
seconds), or an `NsTagged` pair of lists, the time in ns and the sample's tags dict (a
``counter:ns-tagged`` of ones, its tags a few shared dicts): no float made, no store
call. A `NsBatch` turns them into seconds in bulk and
hands them to the store on each bus flush (before any read and when the run completes)
and when the topic's listeners change (then emitted one by one: ``series[i]`` is the
`Topic`). The series must have no other writer in the simulation (its times in order).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from happysim_rx import ObservationKind
from happysim_rx.observation import Span
from happysimulator.core.observed import _OPEN_SPAN
from operators.simtime import seconds_array

_METRIC = ObservationKind.METRIC
_SPAN = ObservationKind.SPAN

__all__ = ["STALE", "FastRecording", "NsBatch", "NsPair", "NsTagged", "close_span",
           "open_span", "resolve", "ride"]

#: the runtime attribute holding the component span id counter (shared with
#: `ObservedEntity.open_span`: one sequence of ids per simulation)
_IDS_KEY = "_component_span_ids"
_WATCHED_KEY = "_fast_recording_watched"
_BATCHES_KEY = "_fast_recording_batches"


class FastRecording:
    """One entity's resolved series in one simulation (see the module docstring).

    ``on``: something is recorded; ``series[i]``: the i-th series asked for, as its
    store's ``(times, values)`` tail lists or as its `Topic` (call ``emit``);
    ``spans``: the entity's span topic (None without traces); ``rows``: while the
    trace store is that topic's only listener and takes spans as they come, its list
    of pending spans (append the `Span` instead of emitting it: no call; else None; a
    sampled run emits through `SampledSpans`); ``ids``: the simulation's component span
    id counter; ``name``: the entity's name."""

    __slots__ = ("sim", "on", "series", "topics", "spans", "rows", "facts", "ids", "name",
                 "shared", "hot")

    def __init__(self, sim: Any, on: bool) -> None:
        self.sim = sim
        self.on = on
        self.series: tuple[Any, ...] = ()
        self.topics: tuple[Any, ...] = ()  # every series' `Topic`
        self.spans: Any = None
        self.rows: list | None = None
        #: with ``rows``: the simulation's `SpanFacts` (spans as ints: `span_facts`)
        self.facts: Any = None
        self.ids: Any = None
        self.name = ""
        #: the component's own cache for this simulation (tags and attributes dicts it
        #: shares between samples): here, not on the entity, whose attributes CPython
        #: reads fastest while they are few
        self.shared: dict[Any, Any] = {}
        #: the component's own handle on its batched lists (None: none; see `ride`)
        self.hot: Any = None

    def add(self, i: int, t: float, v: Any, tags: dict | None = None) -> None:
        """Record `v` at `t` (s) on series `i` (the inline form is the hot path's; not
        for a batched series, whose lists take ns)."""
        s = self.series[i]
        if s.__class__ is tuple and tags is None:
            s[0].append(t)
            s[1].append(v)
        elif s.__class__ is list or s.__class__ is NsPair or s.__class__ is NsTagged:
            raise TypeError(f"series {i} is batched: append its times in ns")
        else:
            self.topics[i].emit(t, v, tags)


class NsPair(tuple):
    """The lists of a batched ``sample:since`` series: (times, starts), in ns."""

    __slots__ = ()


class NsTagged(tuple):
    """The lists of a batched ``counter:ns-tagged`` series: (times in ns, tags dicts)."""

    __slots__ = ()


#: an entity's recording before it is resolved and after its listeners change: its
#: ``sim`` is no simulation (resolve again), so the hot path tests one identity
STALE = FastRecording(object(), False)


def resolve(entity: Any, *series: tuple[str, str]) -> FastRecording:
    """`entity`'s recording of ``series`` ((name, kind) pairs) in its simulation now.
    Tagged values go through the topic (``series[i]`` is then always the `Topic`: name
    such a series with kind ``"counter:tagged"``); kinds ``"counter:ns"``,
    ``"counter:ns-tagged"`` and ``"sample:since"`` are batched (see the module
    docstring)."""
    sim = entity._sim
    rec = entity._recording()  # (None: this simulation records nothing)
    if rec is None:
        return FastRecording(sim, False)
    out = FastRecording(sim, True)
    out.name = entity.name
    # (topics watched already: one watcher per entity and topic, however often the
    # listeners change; kept by the simulation's runtime, which lives as long as they)
    runtime = entity._runtime()
    watched = runtime.__dict__.get(_WATCHED_KEY)
    if watched is None:
        watched = runtime.__dict__[_WATCHED_KEY] = set()
    resolved: list[Any] = []
    topics = []
    for name, spec in series:
        kind, _, how = spec.partition(":")
        # (the seam's own topic cache: both ways of recording reach one topic)
        topic = entity._topic(_METRIC, name, kind)
        topics.append(topic)
        if (id(entity), id(topic)) not in watched:
            watched.add((id(entity), id(topic)))
            topic.watch(_dropper(entity))
        cols = topic.columns
        if how == "tagged" or cols is None:
            resolved.append(topic)
        elif how in _BATCHED:
            resolved.append(_batch(runtime, entity, topic, _BATCHED[how]).lists)
        else:
            resolved.append(cols)
    out.series = tuple(resolved)
    out.topics = tuple(topics)
    if rec.traces:
        if rec.spans is None:
            runtime.claim(entity)
            rec.spans = runtime.bus.topic(_SPAN, entity.name, "span")
        spans = out.spans = rec.spans
        if (id(entity), id(spans)) not in watched:
            watched.add((id(entity), id(spans)))
            spans.watch(_dropper(entity))
        if rec.keep is None:
            out.rows = _row_list(runtime.bus, spans)
            if out.rows is not None:
                from happysimulator.components.span_facts import span_facts

                out.facts = span_facts(runtime, _span_store(runtime.bus))
        else:  # (sampled: every span goes through the filter, none straight to a store)
            from happysimulator.observability.trace_sampling import SampledSpans

            out.spans = SampledSpans(spans, rec.keep)
        ids = rec.ids
        if ids is None:
            ids = runtime.__dict__.get(_IDS_KEY)
            if ids is None:
                from happysim_rx.stores.trace import COMPONENT_SPAN_BASE

                ids = runtime.__dict__[_IDS_KEY] = itertools.count(COMPONENT_SPAN_BASE)
            rec.ids = ids
        out.ids = ids
    return out


#: the batched kinds (the part after ``:``) and the lists each appends to
_BATCHED = {"ns": list, "since": NsPair, "ns-tagged": NsTagged}


class NsBatch:
    """A batched series of one entity in one simulation (see the module docstring):
    ``lists`` is what the entity appends to (times in ns; an `NsPair` of times and
    starts; an `NsTagged` of times and tags); `flush` hands what they hold to the
    topic's stores, in seconds."""

    __slots__ = ("topic", "lists", "also", "_watched")

    def __init__(self, topic: Any, form: type) -> None:
        self.topic = topic
        self.lists: Any = [] if form is list else form(([], []))
        #: a counter of ones whose samples are this `sample:since` batch's times (its
        #: ones go to its stores at each flush), or None (`ride`)
        self.also: Any = None
        self._watched: set[int] = set()

    def flush(self, _topic: Any = None) -> None:
        lists = self.lists
        form = lists.__class__
        times = lists if form is list else lists[0]
        if not times:
            return
        # (int64 ns: `seconds_array` makes the floats `ns / TICKS_PER_SECOND` would)
        t = _ints(times)
        if form is NsPair:
            values = seconds_array(t - _ints(lists[1]))
            also = self.also
            if also is not None:  # (a counter of ones at the same times: `ride`)
                ts = seconds_array(t)
                also.emit_many(ts, np.ones(t.size), subscribers=False)
                self.topic.emit_many(ts, values, subscribers=False)
                return
        else:
            values = np.ones(t.size)
        if form is NsTagged:
            tags = lists[1][:]
            lists[1].clear()
            _emit_tagged(self.topic, seconds_array(t), values, tags)
            return
        self.topic.emit_many(seconds_array(t), values, subscribers=False)


def _ints(values: list[int]) -> np.ndarray:
    """A list of ints as an int64 array, and the list emptied (`np.fromiter`: ns
    times are ints past 2**30, which `struct` packs at 2-7x its time; an int outside
    int64 raises `OverflowError`)."""
    out = np.fromiter(values, np.int64, len(values))
    values.clear()
    return out


def _emit_tagged(topic: Any, times: np.ndarray, values: np.ndarray, tags: list) -> None:
    """`Topic.emit_many` (stores only) of samples with tags: a store series that takes
    tagged batches (``extend_tagged``) takes them at once, any other store one by one
    (each keeps the tags as its ``append`` would)."""
    for app, ext in zip(topic._appenders, topic._extenders, strict=True):
        bulk = getattr(getattr(ext, "__self__", None), "extend_tagged", None)
        if bulk is not None:
            bulk(times, values, tags)
        else:
            for t, v, tg in zip(times.tolist(), values.tolist(), tags, strict=True):
                app(t, v, tg)


def _batch(runtime: Any, entity: Any, topic: Any, form: type) -> NsBatch:
    """`entity`'s batch of `topic` in `runtime`'s simulation: made (and its flushes
    registered) once, kept across resolutions."""
    batches = runtime.__dict__.get(_BATCHES_KEY)
    if batches is None:
        batches = runtime.__dict__[_BATCHES_KEY] = {}
    key = (id(entity), id(topic))
    batch = batches.get(key)
    if batch is None:
        batch = batches[key] = NsBatch(topic, form)
        runtime.bus.add_flusher(batch.flush)
        # (the listeners change: what was batched goes to the stores before anything
        # is emitted one by one)
        topic.watch(batch.flush)
    return batch


def ride(entity: Any, f: FastRecording, counter: int, sample: int) -> NsPair | None:
    """When `f`'s series `counter` (a ``counter:ns`` of ones) and `sample` (a
    ``sample:since``) are both batched, let the counter's samples be the sample's times:
    the sample's `NsPair` is returned (append to it only: each flush hands the counter a
    one at each of its times); else None (record each series on its own). Call it after
    each `resolve`: a counter that someone else listens to is emitted on its own again."""
    c, s = f.series[counter], f.series[sample]
    batches = entity._runtime().__dict__.get(_BATCHES_KEY, {})
    topic = f.topics[sample]
    batch = batches.get((id(entity), id(topic)))
    if batch is None:  # (the sample is not batched)
        return None
    if c.__class__ is not list or s.__class__ is not NsPair:
        batch.also = None
        return None
    also = f.topics[counter]
    if id(also) not in batch._watched:
        # (the counter's listeners change: its ones riding here go to its stores first)
        batch._watched.add(id(also))
        also.watch(batch.flush)
    batch.also = also
    return s


def _span_store(bus: Any) -> Any:
    """The bus's one span store (None: none, or several)."""
    stores = [s for s in bus.stores if _SPAN in s.kinds]
    return stores[0] if len(stores) == 1 else None


def _row_list(bus: Any, topic: Any) -> list | None:
    """The trace store's list of pending spans when it alone listens to `topic` and
    takes spans as they come (`SpanIngest.row_list`); else None (emit them: for
    subscribers, breakpoints, a bounded store)."""
    if len(topic._appenders) != 1 or topic._sinks or topic._raws:
        return None
    row_list = getattr(_span_store(bus), "row_list", None)
    return None if row_list is None else row_list()


def _dropper(entity: Any) -> Any:
    def drop(_topic: Any) -> None:
        # listeners changed: the tail lists may no longer be the only listener
        entity._fast = STALE

    return drop


def open_span(f: FastRecording, ctx: dict) -> tuple[int, Any]:
    """`ObservedEntity.open_span` on a request's context dict, with `f`'s id counter."""
    span_id = next(f.ids)
    parent = ctx.get(_OPEN_SPAN)
    ctx[_OPEN_SPAN] = span_id
    return span_id, parent


def close_span(f: FastRecording, request: Any, span: tuple[int, Any], start: float,
               now: float, attributes: dict | None) -> None:
    """`ObservedEntity.record_span` of `request`'s span opened with `open_span`, ending
    `now` (s)."""
    ctx = request._ctx
    if ctx.__class__ is not dict:
        ctx = request.context
    span_id, parent = span
    if ctx.get(_OPEN_SPAN) == span_id:  # closed: what follows is its parent's
        ctx[_OPEN_SPAN] = parent
    rows = f.rows
    span = Span(ctx["id"], span_id, parent, f.name, start, now, attributes)
    if rows is not None:
        rows.append(span)
    else:
        f.spans.emit(now, span)
