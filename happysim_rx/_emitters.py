"""A topic's hot functions, built for the listeners it has (rebuilt when they change).

``Topic.emit(time_s, value, tags=None)`` feeds the stores and the Rx subscribers;
``Topic.publish(...)`` the subscribers only (batching emitters feed the stores in bulk).
Each is a closure specialised for the listeners of the moment: a no-op when nobody
listens, the store's own append when only one store does, and otherwise a loop over the
stores, then one ``Observation`` for the subscribers.

A subscriber's sink defers its observer's code to the next event boundary while a run
is active (see `deferrable`). The bus then holds the queue (``bus.deferred``: a flat list
``[observer, observation, observer, observation, ...]``, which the run loop delivers
after the current handler; flat: a pair tuple per observation cost ~400 instructions of
~5.6k for one delivered observation); for the common case, one plain subscriber, the
emitter appends to that queue itself: no call between the recording component and the
queue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from happysim_rx.observation import Observation, ObservationKind, Span

if TYPE_CHECKING:
    from happysim_rx.bus import ObservationBus, Topic

__all__ = ["build_emit", "build_publish", "deferrable", "noop"]


def noop(time_s: float, value: Any, tags: Any = None) -> None:
    """Emit when nobody listens: nothing happens, nothing is allocated."""


def deferrable(bus: ObservationBus | None, observer: Any) -> Callable[[Observation], None]:
    """The sink of an Rx observer: ``observer.on_next`` at once, or, while a simulation
    runs, queued for the runtime to deliver at the next event boundary, when the
    emitting component is done (``bus.deferred``, or the older
    ``bus.defer(observer, obs)`` protocol)."""
    on_next = observer.on_next
    if bus is None:
        return on_next

    def sink(obs: Observation) -> None:
        q = bus.deferred
        if q is not None:
            q.append(observer)
            q.append(obs)
            return
        defer = bus.defer
        if defer is None:
            on_next(obs)
        else:
            defer(observer, obs)

    # (read by the emitters: they queue for this observer without calling the sink)
    sink.deferred_to = (bus, observer)  # type: ignore[attr-defined]
    return sink


def _own_span(value: Any) -> Any:
    """The subscriber's own copy of a span's attributes (components share one dict
    between spans, and the trace store keeps it)."""
    if value.__class__ is Span and value.attributes is not None:
        return msgspec.structs.replace(value, attributes=dict(value.attributes))
    return value


def _owner(kind: ObservationKind) -> Callable[[Any], Any] | None:
    return _own_span if kind is ObservationKind.SPAN else None


def _one_deferred(sinks: tuple, raws: tuple) -> tuple[Any, Any] | None:
    """(bus, observer) when the only listener besides stores is one deferrable sink."""
    if raws or len(sinks) != 1:
        return None
    return getattr(sinks[0], "deferred_to", None)


def build_publish(t: Topic) -> Callable[..., None]:
    """``publish(time_s, value, tags=None)``: one observation to the Rx subscribers and
    raw listeners of `t` (not to its stores)."""
    sinks, raws = t._sinks, t._raws
    if not sinks and not raws:
        return noop
    kind, source, name = t.kind, t.source, t.name
    # Subscribers get their own tags and span attributes: the stores keep the emitted
    # ones, and emitters may share one dict between samples (a balancer's
    # ``{"backend": ...}``), so a subscriber that edits what it is given changes nothing
    # recorded.
    own = _owner(kind)
    to = _one_deferred(sinks, raws)
    if to is not None and own is None:
        bus, observer = to
        sink = sinks[0]

        def publish_deferred(time_s: float, value: Any, tags: Any = None) -> None:
            q = bus.deferred
            if q is not None:  # (a run is active: queued for its next event boundary)
                q.append(observer)
                q.append(Observation(time_s, kind, source, name, value,
                                     tags if tags is None else dict(tags)))
                return
            sink(Observation(time_s, kind, source, name, value,
                             tags if tags is None else dict(tags)))

        return publish_deferred

    def publish_all(time_s: float, value: Any, tags: Any = None) -> None:
        for raw in raws:
            raw(source, time_s, value)
        if sinks:
            obs = Observation(time_s, kind, source, name, value if own is None else own(value),
                              tags if tags is None else dict(tags))
            for sink in sinks:
                sink(obs)

    return publish_all


def _emit_stored_span(t: Topic) -> Callable[..., None]:
    """A span topic with subscribers and a store: the span goes into the stores, which
    take it in at once (the trace store gives a span recorded without id its id, and a
    component's outermost span its parent, the request's hop it began in), and the
    subscribers get it as stored. Published as recorded, a client's span reached them
    as a root that `spans()` later answered as a child."""
    apps, settle, publish = t._appenders, t.settle, t.publish

    def emit_span(time_s: float, span: Any, tags: Any = None) -> None:
        # (what is pending first: a bounded store's appender takes its pending spans in
        # every 4096, and would take this one in with them, before `settle` could
        # return it)
        settle()
        for a in apps:
            a(time_s, span, tags)
        publish(time_s, _as_stored(settle(), span), tags)

    return emit_span


def _as_stored(settled: list[Any], span: Any) -> Any:
    """`span` as the store took it in (the last of `settled` that is it), else as is."""
    if span.__class__ is not Span:
        return span
    for s in reversed(settled):
        if (s.trace_id == span.trace_id and s.entity == span.entity
                and s.start == span.start and s.end == span.end
                and (span.span_id is None or s.span_id == span.span_id)):
            return s
    return span


def build_emit(t: Topic) -> Callable[..., None]:
    """``emit(time_s, value, tags=None)``: one observation to every listener of `t`."""
    apps, sinks, raws = t._appenders, t._sinks, t._raws
    kind, source, name = t.kind, t.source, t.name
    own = _owner(kind)
    if (sinks or raws) and apps and t.settle is not None:
        return _emit_stored_span(t)
    if raws:

        def emit_raw(time_s: float, value: Any, tags: Any = None) -> None:
            for a in apps:
                a(time_s, value, tags)
            for r in raws:
                r(source, time_s, value)
            if sinks:
                obs = Observation(time_s, kind, source, name, value if own is None else own(value),
                              tags if tags is None else dict(tags))
                for s in sinks:
                    s(obs)

        return emit_raw
    if not sinks:
        if not apps:
            return noop
        if len(apps) == 1:
            return apps[0]  # direct column append

        def emit_stores(time_s: float, value: Any, tags: Any = None) -> None:
            for a in apps:
                a(time_s, value, tags)

        return emit_stores
    to = _one_deferred(sinks, raws)
    if to is not None:
        bus, observer = to
        sink = sinks[0]

        def emit_deferred(time_s: float, value: Any, tags: Any = None) -> None:
            for a in apps:
                a(time_s, value, tags)
            obs = Observation(time_s, kind, source, name, value if own is None else own(value),
                              tags if tags is None else dict(tags))
            q = bus.deferred
            if q is None:
                sink(obs)
                return
            q.append(observer)
            q.append(obs)

        return emit_deferred
    if len(sinks) == 1 and not apps:
        sink = sinks[0]

        def emit_one(time_s: float, value: Any, tags: Any = None) -> None:
            sink(Observation(time_s, kind, source, name, value if own is None else own(value),
                              tags if tags is None else dict(tags)))

        return emit_one

    def emit_all(time_s: float, value: Any, tags: Any = None) -> None:
        for a in apps:
            a(time_s, value, tags)
        obs = Observation(time_s, kind, source, name, value if own is None else own(value),
                              tags if tags is None else dict(tags))
        for s in sinks:
            s(obs)

    return emit_all
