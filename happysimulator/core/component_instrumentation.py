"""The component-instrumentation seam: what standard components record, and how.

Every ``Entity`` has ``_instr = None``. When the observability package instruments a
standard component it sets ``_instr`` to a ``ComponentInstrumentation`` and the component
*appends facts* at fixed points instead of calling per-change hooks: these points are the
simulation's hot path, and a C-level ``list.append`` costs ~20 ns where a Python method
call costs ~80. Everything observable (counters, gauges, samples, spans) is derived from
the facts in bulk later (``happysimulator.observability.auto_instrument``).

Facts, per component (times are integer nanoseconds unless said otherwise):

=================  ==============================================================
component          appends
=================  ==============================================================
Source             ``generated(now)``; traced: ``hops((code, now, context))``
QueuedResource     ``arrived(now)`` (queued or started), ``dropped(now)`` and
                   ``hops(request)`` (queue full), ``started(now)`` and
                   ``waited(now - arrival)``, ``done(now)`` and
                   ``served(now - start)`` and ``hops(visit)``
Sink               ``received(now_s)`` and ``latency(latency_s)`` (float seconds),
                   traced: ``hops(request)``
=================  ==============================================================

``hops`` is shared by all the components of a simulation: spans are linked in its
order. A *visit* is a ``Server``'s ``ServiceDone`` event or a `Visit` (``arr_ns``,
``start_ns``, ``end_ns``, ``owner`` and the request's context link ``_ctx``). After the
appends of a fact a component calls ``live(kind, now_ns, obj)`` if it is not None
(someone subscribed to a series live).
"""

from __future__ import annotations

from typing import Any

# kinds told to `live(kind, now_ns, obj)`; obj is the request, its visit or context
ARRIVED, STARTED, DONE, DROP, SINK, GEN = range(6)


class Visit:
    """One request's stay at a queued resource (for resources without a `ServiceDone`)."""

    __slots__ = ("arr_ns", "start_ns", "end_ns", "owner", "_ctx")

    def __init__(self, owner: Any, arr_ns: int, start_ns: int, event: Any) -> None:
        self.owner = owner
        self.arr_ns = arr_ns
        self.start_ns = start_ns
        self.end_ns = start_ns
        c = event._ctx
        self._ctx = event if c is None else c


def discard(fact: Any) -> None:
    return None


class ComponentInstrumentation:
    """What a standard component sees in ``entity._instr`` (see the module docstring)."""

    __slots__ = (
        "hops", "code", "traced", "live",
        "generated", "arrived", "dropped", "started", "waited", "done", "served",
        "received", "latency",
    )

    def __init__(self) -> None:
        self.hops: Any = discard
        self.code = 0
        self.traced = False  # a traced source gives new requests their id now
        self.live: Any = None
        self.generated = self.arrived = self.dropped = self.started = self.waited = discard
        self.done = self.served = self.received = self.latency = discard


__all__ = [
    "ComponentInstrumentation", "Visit", "discard", "ARRIVED", "STARTED", "DONE", "DROP", "SINK", "GEN",
]
