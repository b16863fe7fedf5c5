"""A `Topic`: one stream of observations (kind, source, name) whose ``emit`` is rebuilt
as its listeners (stores, Rx subscribers, raw listeners) come and go -- see
`happysim_rx.bus` for the cases -- and its `TopicInfo`, the description the catalog lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from happysim_rx._emitters import build_emit, build_publish
from happysim_rx._emitters import noop as _noop
from happysim_rx.observation import Observation, ObservationKind

__all__ = ["Appender", "Topic", "TopicInfo"]

Appender = Callable[[float, Any, Any], None]


@dataclass(frozen=True)
class TopicInfo:
    kind: ObservationKind
    source: str
    name: str
    series_kind: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "source": self.source,
            "name": self.name,
            "series_kind": self.series_kind,
        }


class Topic:
    """One stream of observations; ``emit`` is swapped as listeners come and go."""

    __slots__ = (
        "kind", "source", "name", "series_kind", "emit", "_appenders", "_extenders", "_sinks",
        "_watchers", "_raws", "_columns", "columns", "lent", "publish", "settle",
    )

    def __init__(
        self, kind: ObservationKind, source: str, name: str, series_kind: str | None
    ) -> None:
        self.kind, self.source, self.name, self.series_kind = kind, source, name, series_kind
        self._appenders: tuple[Appender, ...] = ()
        self._extenders: tuple[Callable[[Any, Any], None] | None, ...] = ()
        # per appender: its store's (times, values) tail lists, or None (see `columns`)
        self._columns: tuple[tuple[list, list] | None, ...] = ()
        #: the one store's (times, values) tail lists while only that store listens and
        #: lends them (else None): a caller recording a number without tags may append
        #: to both lists itself instead of calling `emit` (same result, no call)
        self.columns: tuple[list, list] | None = None
        #: the one store's tail lists whenever exactly one store listens and lends them,
        #: subscribers or not: a caller recording a number without tags may append to
        #: both and then call `publish` (what `emit` does, without a call per store)
        self.lent: tuple[list, list] | None = None
        self._sinks: tuple[Callable[[Observation], None], ...] = ()
        # raw listeners get (source, time, value): no Observation is built for them
        self._raws: tuple[Callable[[str, float, Any], None], ...] = ()
        self._watchers: tuple[Callable[[Topic], None], ...] = ()
        self.emit: Callable[..., None] = _noop
        #: ``publish(time_s, value, tags=None)``: one observation to the Rx subscribers
        #: only (not to the stores): for batching emitters that feed the stores with
        #: `emit_many(..., subscribers=False)`. Rebuilt, like `emit`, with the listeners.
        self.publish: Callable[..., None] = _noop
        #: spans only: ``settle()`` takes pending spans into the stores and returns them
        #: as stored (ids and parents given), so a live span is published as stored
        self.settle: Callable[[], list[Any]] | None = None

    @property
    def info(self) -> TopicInfo:
        return TopicInfo(self.kind, self.source, self.name, self.series_kind)

    @property
    def active(self) -> bool:
        """True when someone listens (so callers may skip computing a value)."""
        return self.emit is not _noop

    @property
    def has_subscribers(self) -> bool:
        """True when Rx observers (not only stores) listen: they need each observation
        as it happens, so batching emitters must switch to per-observation `emit`."""
        return bool(self._sinks or self._raws)

    @property
    def crossing_points(self) -> tuple[float, ...] | None:
        """The thresholds that matter to this topic's listeners when each of them only
        needs values whose relation (<, =, >) to its thresholds changed (a raw listener
        with a ``thresholds`` attribute: a threshold breakpoint); None when some listener
        needs every value. An emitter may skip values between the same two points."""
        if self._sinks:
            return None
        points: set[float] = set()
        for raw in self._raws:
            thresholds = getattr(raw, "thresholds", None)
            if thresholds is None:
                return None
            points.update(thresholds)
        return tuple(sorted(points))

    def watch(self, callback: Callable[[Topic], None]) -> None:
        """Call ``callback(topic)`` whenever this topic's listeners change."""
        self._watchers = self._watchers + (callback,)

    def emit_many(self, times: Any, values: Any, subscribers: bool = True) -> None:
        """Deliver many samples at once (numpy arrays in time order): stores take them
        as a batch; Rx subscribers, if any (and `subscribers`), get one Observation each."""
        if not len(times):
            return
        for app, ext in zip(self._appenders, self._extenders, strict=True):
            if ext is not None:
                ext(times, values)
            else:
                for t, v in zip(times.tolist(), values.tolist(), strict=True):
                    app(t, v)
        if self._raws and subscribers:
            for t, v in zip(times.tolist(), values.tolist(), strict=True):
                for raw in self._raws:
                    raw(self.source, t, v)
        if self._sinks and subscribers:
            kind, source, name = self.kind, self.source, self.name
            for t, v in zip(times.tolist(), values.tolist(), strict=True):
                obs = Observation(t, kind, source, name, v, None)
                for sink in self._sinks:
                    sink(obs)

    def _rebuild(self) -> None:
        # (`publish` and `columns` first: watchers re-wire emitters that call them)
        apps, sinks, raws = self._appenders, self._sinks, self._raws
        self.lent = self._columns[0] if len(apps) == 1 else None
        self.columns = self.lent if not sinks and not raws else None
        self.publish = build_publish(self)
        for watcher in self._watchers:
            watcher(self)
        self.emit = build_emit(self)

    def __repr__(self) -> str:
        return (
            f"<Topic {self.kind.value} {self.source}.{self.name} ({self.series_kind}) "
            f"stores={len(self._appenders)} subscribers={len(self._sinks)}>"
        )


def _extender(store: Any, info: TopicInfo) -> Callable[[Any, Any], None] | None:
    make = getattr(store, "extender", None)
    return None if make is None else make(info)


def _columns(store: Any, info: TopicInfo) -> tuple[list, list] | None:
    """The store's tail lists for the topic, if it lends them (`Topic.columns`): only
    for metrics, whose values are numbers."""
    lend = getattr(store, "columns", None)
    return None if lend is None or info.kind is not ObservationKind.METRIC else lend(info)
