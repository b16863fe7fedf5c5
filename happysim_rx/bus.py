"""The observation bus: topics (one per (kind, source, name): `happysim_rx.topic`) with
swappable emitters.

``Topic.emit(time_s, value, tags=None)`` is the hot path. Its implementation is
rebuilt whenever listeners change:

* nobody listens              -> a no-op (no allocation at all);
* only stores                 -> the store's column append (no ``Observation``); with
                                 one store that lends its columns, ``Topic.columns`` are
                                 its tail lists, for callers to append to themselves;
* Rx subscribers (+ stores)   -> appends, then one ``Observation`` to every subscriber.

>>> from happysim_rx.clock import ManualClock
>>> bus = ObservationBus(ManualClock())
>>> depth = bus.topic(ObservationKind.METRIC, "Server", "queue_depth", "gauge")
>>> seen = []
>>> sub = bus.metrics("queue_*", source="Serv*").subscribe(lambda o: seen.append(o.value))
>>> depth.emit(1.0, 3); sub.dispose(); depth.emit(2.0, 4)
>>> seen
[3]
"""

from __future__ import annotations

from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from happysim_rx._emitters import deferrable
from happysim_rx.observation import SERIES_KINDS, Observation, ObservationKind
from happysim_rx.topic import Topic, TopicInfo, _columns, _extender

if TYPE_CHECKING:  # reactivex is imported when someone subscribes or listens, not before
    from reactivex import abc
    from reactivex.disposable import Disposable

    from happysim_rx.clock import SimClock
    from happysim_rx.scheduler import SimObservable, SimulatedTimeScheduler

__all__ = ["ObservationBus", "Topic", "TopicInfo"]

class _PatternSub:
    """An Rx observer attached to every topic matching (kinds, name, source) globs."""

    __slots__ = ("kinds", "name", "source", "observer", "sink", "topics", "raw", "make",
                 "made")

    def __init__(self, kinds: frozenset, name: str, source: str, observer: Any,
                 raw: Any = None, bus: ObservationBus | None = None,
                 make: Callable[[TopicInfo], Callable] | None = None) -> None:
        self.kinds, self.name, self.source, self.observer = kinds, name, source, observer
        self.raw = raw is not None or make is not None
        # one function (or the raw fn), so removal can use identity
        self.sink = raw if raw is not None else (
            None if make is not None else deferrable(bus, observer))
        self.make = make  # a raw listener of its own for each topic (see `listen_each`)
        self.made: dict[int, Callable] = {}
        self.topics: list[Topic] = []

    def sink_for(self, t: Topic) -> Callable:
        if self.make is None:
            return self.sink
        fn = self.made.get(id(t))
        if fn is None:
            fn = self.made[id(t)] = self.make(t.info)
        return fn

    def matches(self, t: Topic) -> bool:
        return (
            t.kind in self.kinds
            and (self.name == "*" or fnmatchcase(t.name, self.name))
            and (self.source == "*" or fnmatchcase(t.source, self.source))
        )


class ObservationBus:
    """Topics, pattern subscriptions and attached stores for one simulation.

    ``bus.scheduler`` is the simulated-time Rx scheduler on ``clock``.
    """

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self._scheduler: SimulatedTimeScheduler | None = None
        self._topics: dict[tuple[ObservationKind, str, str], Topic] = {}
        self._subs: list[_PatternSub] = []
        self._stores: list[Any] = []
        self._flushers: list[Callable[[], None]] = []
        self._kind_watchers: dict[ObservationKind, list[Callable[[Topic], None]]] = {}
        self.is_stopped = False
        self._error: Exception | None = None
        # While observer code must not run where an observation is emitted (a run is
        # active), the runtime sets ``deferred`` (the queue, flat: observer, observation,
        # observer, ..., that its run loop delivers at the next event boundary), or
        # ``defer(observer, obs)``; None otherwise (see `happysim_rx._emitters.deferrable`)
        self.deferred: list[Any] | None = None
        # ``on_observer()`` or None: called when an Rx observer subscribes (the runtime's,
        # during a run without one so far: its loop starts testing ``deferred``)
        self.on_observer: Callable[[], None] | None = None
        self.defer: Callable[[Any, Observation], None] | None = None
        # ``on_fault(observer, obs, exc)`` or None: where an observer's exception goes when
        # it is called outside `defer` (the runtime's: its on_error, or pause the run)
        self.on_fault: Callable[[Any, Observation, Exception], None] | None = None

    @property
    def scheduler(self) -> SimulatedTimeScheduler:
        """The simulated-time Rx scheduler on ``clock`` (made on first use: a run that
        nobody subscribes to never imports reactivex)."""
        scheduler = self._scheduler
        if scheduler is None:
            from happysim_rx.scheduler import SimulatedTimeScheduler

            scheduler = self._scheduler = SimulatedTimeScheduler(self.clock)
        return scheduler

    # -- topics ----------------------------------------------------------------------
    def topic(
        self,
        kind: ObservationKind | str,
        source: str,
        name: str,
        series_kind: str | None = None,
    ) -> Topic:
        """Get or create the topic (idempotent). ``series_kind``: gauge|sample|counter."""
        kind = ObservationKind(kind)
        if series_kind is not None and series_kind not in SERIES_KINDS:
            raise ValueError(
                f"series_kind must be one of {SERIES_KINDS} or None, got {series_kind!r}"
            )
        key = (kind, source, name)
        t = self._topics.get(key)
        if t is not None:
            if series_kind is not None and t.series_kind != series_kind:
                if t.series_kind is not None:
                    raise ValueError(
                        f"{source}.{name} already declared as {t.series_kind!r}, not {series_kind!r}"
                    )
                t.series_kind = series_kind
                for store in self._stores:  # let stores learn the weighting
                    declare = getattr(store, "declare", None)
                    if declare is not None:
                        declare(t.info)
            return t
        t = Topic(kind, source, name, series_kind)
        self._topics[key] = t
        apps, exts, cols = [], [], []
        for store in self._stores:
            if kind in store.kinds:
                a = store.appender(t.info)
                if a is not None:
                    apps.append(a)
                    exts.append(_extender(store, t.info))
                    cols.append(_columns(store, t.info))
        t._appenders = tuple(apps)
        t._extenders = tuple(exts)
        t._columns = tuple(cols)
        sinks, raws = [], []
        for sub in self._subs:
            if sub.matches(t):
                sub.topics.append(t)
                (raws if sub.raw else sinks).append(sub.sink_for(t))
        t._sinks = tuple(sinks)
        t._raws = tuple(raws)
        t._watchers = tuple(self._kind_watchers.get(kind, ()))
        if kind is ObservationKind.SPAN:
            t.settle = lambda: self.settle(ObservationKind.SPAN)
        t._rebuild()
        return t

    def watch_kind(self, kind: ObservationKind, callback: Callable[[Topic], None]) -> None:
        """Call ``callback(topic)`` whenever the listeners of a topic of `kind` change
        (topics made later too)."""
        self._kind_watchers.setdefault(kind, []).append(callback)
        for t in self.topics(kind):
            t.watch(callback)

    def metric(self, source: str, name: str, series_kind: str | None = None) -> Topic:
        """Shorthand for ``topic(METRIC, source, name, series_kind)``."""
        return self.topic(ObservationKind.METRIC, source, name, series_kind)

    def topics(self, kind: ObservationKind | None = None) -> list[Topic]:
        return [t for t in self._topics.values() if kind is None or t.kind is kind]

    def catalog(self) -> list[TopicInfo]:
        """Every declared or emitted topic (what queries can ask for)."""
        return [t.info for t in self._topics.values()]

    def emit(
        self,
        kind: ObservationKind,
        source: str,
        name: str,
        time_s: float,
        value: Any,
        tags: dict | None = None,
    ) -> None:
        """Convenience (slower) emit: looks the topic up each time."""
        self.topic(kind, source, name).emit(time_s, value, tags)

    # -- stores ----------------------------------------------------------------------
    def attach_store(self, store: Any) -> Any:
        """Attach a materialized view. It must have ``kinds`` (set of ObservationKind)
        and ``appender(info) -> Callable[[t, v, tags], None] | None``."""
        self._stores.append(store)
        bind = getattr(store, "bind", None)
        if bind is not None:
            bind(self)
        for t in self._topics.values():
            if t.kind in store.kinds:
                a = store.appender(t.info)
                if a is not None:
                    t._appenders = t._appenders + (a,)
                    t._extenders = t._extenders + (_extender(store, t.info),)
                    t._columns = t._columns + (_columns(store, t.info),)
                    t._rebuild()
        return store

    def store_rows(self, kind: ObservationKind, rows: list[tuple]) -> bool:
        """Hand pre-built rows straight to the stores of `kind` (every one of them must
        have ``add_rows``); False, with nothing delivered, when one cannot take rows. For
        batching emitters whose topics have no Rx subscribers."""
        stores = [s for s in self._stores if kind in s.kinds]
        if not all(hasattr(s, "add_rows") for s in stores):
            return False
        for s in stores:
            s.add_rows(rows)
        return True

    def store_lazy(self, kind: ObservationKind, records: Any,
                   materialize: Callable[[Any, Any], list[tuple]], size: int,
                   **hints: Any) -> bool:
        """Hand `records` (``size`` observations) to the one store of `kind` to be turned
        into rows by ``materialize(records, skip)`` when it is read (see the store's
        ``add_lazy`` for ``skip`` and the hints); False (nothing delivered) unless exactly
        one store takes `kind` and it can do that."""
        stores = [s for s in self._stores if kind in s.kinds]
        if len(stores) != 1 or not hasattr(stores[0], "add_lazy"):
            return False
        stores[0].add_lazy(records, materialize, size, **hints)
        return True

    def settle(self, kind: ObservationKind) -> list[Any]:
        """Make the stores of `kind` materialize what was handed to them lazily; returns
        what they materialized (without flushing batching emitters)."""
        settled: list[Any] = []
        for s in self._stores:
            if kind in s.kinds and hasattr(s, "settle"):
                settled.extend(s.settle())
        return settled

    # -- batching emitters ------------------------------------------------------------
    def add_flusher(self, flush: Callable[[], None]) -> None:
        """Register a batching emitter's ``flush()``; `flush` runs them all before any
        query reads the stores and when the run completes."""
        self._flushers.append(flush)

    def flush(self) -> None:
        """Deliver everything batching emitters hold (cheap when nothing is pending)."""
        for flush in self._flushers:
            flush()

    @property
    def stores(self) -> list[Any]:
        return list(self._stores)

    # -- raw listeners ------------------------------------------------------------------
    def listen(
        self, kind: ObservationKind, name: str, source: str,
        fn: Callable[[str, float, Any], None],
    ) -> Disposable:
        """Call ``fn(source, time_s, value)`` for each observation of the matching topics
        (globs; later topics too). The cheap way for internal watchers (breakpoints) to
        follow a series: no `Observation` is allocated for them. If ``fn`` has a
        ``thresholds`` attribute, it may be given only the values whose relation to those
        thresholds changed (see `Topic.crossing_points`). Dispose to stop."""
        return self._listen(_PatternSub(frozenset({ObservationKind(kind)}), name, source,
                                        None, raw=fn))

    def listen_each(
        self, kind: ObservationKind, name: str, source: str,
        make: Callable[[TopicInfo], Callable[[str, float, Any], None]],
    ) -> Disposable:
        """As `listen`, with a listener of its own for each matching topic:
        ``make(topic_info)`` is called once per topic (later topics too) and returns the
        function that topic calls -- for watchers whose state depends on the series (a
        counter's running total, say). Dispose to stop."""
        return self._listen(_PatternSub(frozenset({ObservationKind(kind)}), name, source,
                                        None, make=make))

    def _listen(self, sub: _PatternSub) -> Disposable:
        from reactivex.disposable import Disposable

        self.flush()
        self._subs.append(sub)
        for t in self._topics.values():
            if sub.matches(t):
                sub.topics.append(t)
                t._raws = t._raws + (sub.sink_for(t),)
                t._rebuild()

        def dispose() -> None:
            if sub in self._subs:
                self._subs.remove(sub)
            for t in sub.topics:
                fn = sub.sink_for(t)
                t._raws = tuple(r for r in t._raws if r is not fn)
                t._rebuild()
            sub.topics.clear()
            sub.made.clear()

        return Disposable(dispose)

    # -- Rx observables -----------------------------------------------------------------
    def _observable(self, kinds: frozenset, name: str, source: str) -> SimObservable:
        from reactivex.disposable import Disposable

        from happysim_rx.scheduler import SimObservable

        def subscribe(observer: abc.ObserverBase, scheduler: Any = None) -> abc.DisposableBase:
            if self.is_stopped:
                if self._error is not None:
                    observer.on_error(self._error)
                else:
                    observer.on_completed()
                return Disposable()
            # pending batched observations predate this subscriber: deliver them first
            self.flush()
            sub = _PatternSub(kinds, name, source, observer, bus=self)
            self._subs.append(sub)
            for t in self._topics.values():
                if sub.matches(t):
                    sub.topics.append(t)
                    t._sinks = t._sinks + (sub.sink,)
                    t._rebuild()
            if self.on_observer is not None:
                self.on_observer()
            if not sub.raw:
                self._hand_gauges_in_effect(sub)

            def dispose() -> None:
                if sub in self._subs:
                    self._subs.remove(sub)
                for t in sub.topics:
                    t._sinks = tuple(s for s in t._sinks if s is not sub.sink)
                    t._rebuild()
                sub.topics.clear()

            return Disposable(dispose)

        return SimObservable(subscribe, self.scheduler)

    def _hand_gauges_in_effect(self, sub: _PatternSub) -> None:
        """A gauge holds its value: a new subscriber starts from the value in effect now
        (as the stores know it), not from the next change — a live time-weighted window
        then covers the time before that change as a query over it does."""
        now = float(self.clock.now())
        for topic in sub.topics:
            if topic.kind is not ObservationKind.METRIC or topic.series_kind != "gauge":
                continue
            value = self._last_stored(topic.source, topic.name)
            if value is None:
                continue
            obs = Observation(now, topic.kind, topic.source, topic.name, value, None)
            try:
                sub.sink(obs)
            except Exception as exc:  # (subscribing outside a run: nothing defers it)
                if self.on_fault is None:
                    raise
                self.on_fault(sub.observer, obs, exc)

    def _last_stored(self, source: str, name: str) -> float | None:
        for store in self._stores:
            series = getattr(store, "_series", {}).get((source, name)) if (
                ObservationKind.METRIC in store.kinds) else None
            if series is None:
                continue
            t, v = series.arrays() if hasattr(series, "arrays") else series.ring()
            if len(t):
                return float(v[-1])
        return None

    @property
    def has_observers(self) -> bool:
        """True when some Rx observer is subscribed (its observations may be deferred)."""
        return any(sub.observer is not None for sub in self._subs)

    def metrics(self, name: str = "*", source: str = "*") -> SimObservable:
        """Metric observations whose name and source match the globs."""
        return self._observable(frozenset({ObservationKind.METRIC}), name, source)

    def spans(self, source: str = "*") -> SimObservable:
        """Span observations (value is a ``Span``) from matching entities."""
        return self._observable(frozenset({ObservationKind.SPAN}), "*", source)

    def events(self, event_type: str = "*", source: str = "*") -> SimObservable:
        """Processed-event observations (name = event type)."""
        return self._observable(frozenset({ObservationKind.EVENT}), event_type, source)

    def state(self, name: str = "*", source: str = "*") -> SimObservable:
        """State-change observations."""
        return self._observable(frozenset({ObservationKind.STATE}), name, source)

    def lifecycle(self) -> SimObservable:
        """No values; completes (or errors) when the bus does. Costs nothing per emit."""
        return self._observable(frozenset(), "*", "*")

    def all(self) -> SimObservable:
        """Every observation of every kind."""
        return self._observable(frozenset(ObservationKind), "*", "*")

    # -- lifecycle --------------------------------------------------------------------
    def complete(self, on_fault: Callable[[Any, Exception], None] | None = None) -> None:
        """End of the run: flush stores' open state and complete every subscriber once.

        ``on_fault(observer, exc)``: told when a subscriber's ``on_completed`` (or what
        it flushes downstream) raises; the others are completed all the same. Without
        it, the first such exception is raised after every subscriber was completed."""
        if self.is_stopped:
            return
        self.flush()
        self.is_stopped = True
        subs, self._subs = self._subs, []
        for t in self._topics.values():
            t._sinks = ()
            t._raws = ()
            t._rebuild()
        for store in self._stores:
            fin = getattr(store, "finish", None)
            if fin is not None:
                fin(self.clock.now())
        first: Exception | None = None
        for sub in subs:
            if sub.observer is not None:
                try:
                    sub.observer.on_completed()
                except Exception as exc:
                    if on_fault is not None:
                        on_fault(sub.observer, exc)
                    elif first is None:
                        first = exc
        if first is not None:
            raise first

    def error(self, exc: Exception) -> None:
        """Propagate a fatal error to every subscriber."""
        if self.is_stopped:
            return
        self.is_stopped, self._error = True, exc
        subs, self._subs = self._subs, []
        for t in self._topics.values():
            t._sinks = ()
            t._raws = ()
            t._rebuild()
        for sub in subs:
            if sub.observer is not None:
                sub.observer.on_error(exc)

    def __repr__(self) -> str:
        return f"<ObservationBus topics={len(self._topics)} subscribers={len(self._subs)}>"
