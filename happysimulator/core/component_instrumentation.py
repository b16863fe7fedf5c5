"""The component-instrumentation seam: what standard components record, and how.

Every ``Entity`` has ``_instr = None``. When the observability package instruments a
standard component it sets ``_instr`` to a ``ComponentInstrumentation``; the component
then *appends facts* at fixed points instead of calling per-change hooks, because these
points are the simulation's hot path (a C-level ``list.append`` costs ~15 ns, a Python
method call ~80 ns). Everything observable (counters, gauges, samples, spans) is derived
from the facts in bulk later (see ``happysimulator.observability.auto_instrument``).

Facts (times are integer nanoseconds):

* ``hops`` (shared by all components of a simulation, in processing order: spans are
  linked in this order) gets ``(code, now_ns, obj)`` or ``(code, now_ns, obj, x)``
  tuples with ``code = base + kind``:

  ====================  =====  ==================================================
  who                   kind   record
  ====================  =====  ==================================================
  Source                GEN    ``(base+GEN, now, context_or_request)``
  QueuedResource        DONE   ``(base+DONE, now, visit)``  (service ended)
  QueuedResource        DROP   ``(base+DROP, now, request)``  (queue full)
  Sink                  SINK   ``(base+SINK, now, request, created_ns)``
  ====================  =====  ==================================================

* ``arrived(now_ns)``: a request was accepted (queued or started) by a queued resource;
* ``started(visit)``: its service started.

A *visit* is any object with ``arr_ns``, ``start_ns`` and ``_ctx`` (the request's
context link): a ``Server`` uses its ``ServiceDone`` event, other queued resources a
`Visit`. After recording, a component calls ``live(kind, now_ns, obj)`` when it is not
None (someone subscribed to a series live; ``kind`` is also ``ARRIVED`` after ``arrived``
and ``STARTED`` after ``started``) and ``flush()`` when ``len(log)`` reached
``capacity`` (bounded memory between reads).
"""

from __future__ import annotations

from typing import Any

GEN, DONE, DROP, SINK = 0, 1, 2, 3
KINDS = 4  # codes are `entity_index * KINDS + kind`
# what `live(kind, now_ns, obj)` may also be told (facts not in `hops`)
ARRIVED, STARTED = -1, -2


class Visit:
    """One request's stay at a queued resource (for resources without a `ServiceDone`)."""

    __slots__ = ("arr_ns", "start_ns", "_ctx")

    def __init__(self, arr_ns: int, start_ns: int, event: Any) -> None:
        self.arr_ns = arr_ns
        self.start_ns = start_ns
        c = event._ctx
        self._ctx = event if c is None else c


class ComponentInstrumentation:
    """What a standard component sees in ``entity._instr`` (see the module docstring)."""

    __slots__ = (
        "log", "hops", "code", "arrived", "started", "live", "capacity", "flush", "traced",
    )

    def __init__(self) -> None:
        self.log: list = []  # the shared list of hop records
        self.hops: Any = self.log.append
        self.code = 0  # base code: entity index * KINDS
        self.arrived: Any = None
        self.started: Any = None
        self.live: Any = None
        self.capacity = 1 << 62
        self.flush: Any = None
        self.traced = False  # a source gives new requests their id (a partial context)


__all__ = [
    "ComponentInstrumentation", "Visit", "GEN", "DONE", "DROP", "SINK", "KINDS", "ARRIVED",
    "STARTED",
]
