"""The component-instrumentation seam: what standard components record, and how.

Every ``Entity`` has ``_instr = None``. When the observability package instruments a
standard component it sets ``_instr`` to a ``ComponentInstrumentation`` and the component
*appends facts* to its lists at fixed points instead of calling per-change hooks: these
points are the simulation's hot path, and ``instr.arrived.append(now)`` is a call CPython
specializes: 11 ns in Python 3.11 against 23 ns for a saved bound ``append`` and 35 ns
for a Python method (``benchmarks/micro_append.py``; on 3.13 the first two are both
14 ns). Everything observable (counters, gauges, samples,
spans) is derived from the facts in bulk later, and the lists are emptied then
(``happysimulator.observability.auto_instrument``).

Facts, per component (times are integer nanoseconds unless said otherwise):

=================  ==============================================================
component          appends to
=================  ==============================================================
Source             ``generated`` (now); traced: ``traced_ids`` (request id)
QueuedResource     ``arrived`` (now, queued or started); ``started`` (now) and
                   ``waited`` (now - arrival); ``done`` (now) and ``served``
                   (now - start), traced: ``traced_ids`` (id) and
                   ``traced_starts`` (arrival); queue full: ``dropped`` (now),
                   traced: ``dropped_ids`` (id); a waiting request an active
                   queue policy discards (CoDel, expired deadline): ``removed``
                   (now), traced: ``removed_ids`` (id) and ``removed_starts``
                   (arrival). A ``Server`` skips the start
                   facts unless ``start_facts`` and the service facts unless
                   ``visit_facts`` (they are derived then).
Sink               ``received`` (now_s) and ``latency`` (latency_s), float
                   seconds; traced: ``traced_ids`` (id)
=================  ==============================================================

A request's id (its context's ``"id"``, see `trace_id`) is its trace's id: spans are
rebuilt from these facts (a span per fact with an id) when the trace store is read.
A traced `Source` draws each new request's id when it makes it and keeps it in the
event's ``_id`` slot (no context dict is made until someone asks for ``context``); a
request from an event provider gets a partial context holding its id and creation time. After the appends of a fact a component calls ``live(kind, now_ns, obj)`` if it is
not None (someone follows a series live); ``obj`` is the request (``ARRIVED``,
``DROP``, ``SINK``, ``GEN``) or its visit (``STARTED``, ``DONE``, ``REMOVED``): a ``Server``'s
``ServiceDone`` event or a `Visit`, with ``arr_ns`` and ``start_ns``.
"""

from __future__ import annotations

from typing import Any

# kinds told to `live(kind, now_ns, obj)`; obj is the request, its visit or context
ARRIVED, STARTED, DONE, DROP, SINK, GEN, REMOVED = range(7)


class Visit:
    """One request's stay at a queued resource (for resources without a `ServiceDone`)."""

    __slots__ = ("arr_ns", "start_ns", "request")

    def __init__(self, arr_ns: int, start_ns: int, request: Any) -> None:
        self.arr_ns = arr_ns
        self.start_ns = start_ns
        self.request = request


def trace_id(request: Any) -> int:
    """The id of `request`'s context (its trace id), creating the context if needed."""
    c = request._ctx
    if c.__class__ is dict:
        return c["id"]
    root = request if c is None else c
    if root._ctx is None:  # (no context made yet: the id a traced source drew, if any)
        try:
            tid = root._id
        except AttributeError:
            tid = None
        if tid is not None:
            return tid
    return request.context["id"]


class _Discarding(list):
    """A fact list that keeps nothing: what a bare `ComponentInstrumentation` starts
    with, so that one nobody drains records nothing."""

    __slots__ = ()
    append = id  # (a builtin: not bound as a method; ignores its one argument)


_NOTHING: list = _Discarding()


#: the context key of a request's open component span (`core.observed` records it) and
#: the int a hop's arrival records when none is open (`HopParents`: the int64 minimum)
OPEN_SPAN_KEY = "_open_span"
NO_SPAN_PARENT = -(1 << 63)


class ComponentInstrumentation:
    """What a standard component sees in ``entity._instr`` (see the module docstring)."""

    __slots__ = (
        "traced", "live", "generated", "arrived", "dropped", "started", "waited", "done",
        "served", "received", "latency", "traced_ids", "traced_starts", "dropped_ids",
        "removed", "removed_ids", "removed_starts", "depth_band", "depth_moved", "latency_band", "latency_moved", "start_facts",
        "visit_facts", "reconfigured", "arriving", "hops",
    )

    def __init__(self) -> None:
        self.traced = False
        self.live: Any = None
        # fact lists; these keep nothing until whoever attaches the instrumentation
        # puts real lists in the slots it wants (and empties them)
        self.generated = self.arrived = self.dropped = self.started = _NOTHING
        self.waited = self.done = self.served = self.received = self.latency = _NOTHING
        self.traced_ids = self.traced_starts = self.dropped_ids = _NOTHING
        self.removed = self.removed_ids = self.removed_starts = _NOTHING
        # someone follows the queue depth: call `depth_moved(now)` when, after the depth
        # changed, it is outside the open interval ``(depth_band[0], depth_band[1])``
        self.depth_band: list[float] | None = None
        self.depth_moved: Any = None
        # the same for a sink's latency samples: `latency_moved(now_s, latency_s)`
        self.latency_band: list[float] | None = None
        self.latency_moved: Any = None
        # False: a `Server` leaves out ``started``/``waited`` (``start_facts``) or
        # ``served``/``traced_starts`` (``visit_facts``): the instrumentation derives them
        # from arrivals and completions, which its FIFO queue and concurrency determine.
        self.start_facts = self.visit_facts = True
        # called (if set) just before a component's configuration changes mid-run
        self.reconfigured: Any = None
        # called (if set) as ``arriving(request, now_ns)`` when a request reaches a
        # queued resource, before anything else: its hop's parent is read then
        self.arriving: Any = None
        # with ``arriving``: the list it appends to (`HopParents.new`), for a component
        # that records an arrival inline (one Python call less per request): a request
        # whose context is a dict with an int id appends ``(id, now_ns,
        # context.get(OPEN_SPAN_KEY, NO_SPAN_PARENT))``; any other calls ``arriving``
        self.hops: list | None = None


__all__ = [
    "ComponentInstrumentation", "Visit", "trace_id", "ARRIVED", "STARTED", "DONE", "DROP", "SINK", "GEN",
    "REMOVED", "NO_SPAN_PARENT", "OPEN_SPAN_KEY",
]
