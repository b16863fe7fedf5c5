"""Each standard hop's own parent: the component span open in its request's context when
the request reached the station (a balancer's span of that very attempt, a client's),
recorded then, so a trace store never has to guess it from times.

A station calls `HopParents.arrived` on each arrival (only in a simulation with
components that can open spans: a model of standard components alone pays nothing but
one test per arrival). The spans of a station are made later (a completion, a drop, a
discard), each dated by its arrival: `parent_of` pairs them by (request id, arrival
time), two arrivals of one request at one instant in arrival order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from happysimulator.core.observed import _OPEN_SPAN

__all__ = ["HopParents", "NO_PARENT"]

#: no component span was open: the hop's parent is its request's previous hop
NO_PARENT = np.iinfo(np.int64).min


class HopParents:
    """The component parents of one station's arrivals not yet made into spans."""

    __slots__ = ("_new", "_waiting")

    def __init__(self) -> None:
        self._new: list[tuple[int, int, int | None]] = []  # (id, arrival ns, parent)
        self._waiting: dict[tuple[int, int], list[int | None]] = {}

    def arrived(self, request: Any, now_ns: int) -> None:
        """`request` reaches the station now (its context read as it is now)."""
        c = request._ctx
        if c.__class__ is not dict:
            if c is None:  # no context made yet: no span can be open in it
                return
            c = request.context
        self._new.append((c["id"], now_ns, c.get(_OPEN_SPAN)))

    def parent_of(self, trace_id: int, arrival_ns: int) -> int | None:
        """The parent of the span of the arrival of request `trace_id` at `arrival_ns`
        (None: none recorded), taken out."""
        if self._new:
            waiting = self._waiting
            for tid, t, parent in self._new:
                waiting.setdefault((tid, t), []).append(parent)
            self._new.clear()
        key = (trace_id, arrival_ns)
        parents = self._waiting.get(key)
        if parents is None:
            return None
        parent = parents.pop(0)
        if not parents:
            del self._waiting[key]
        return parent

    def parents_of(self, trace_ids: np.ndarray, arrivals_ns: np.ndarray) -> np.ndarray | None:
        """`parent_of` for many spans, as a column (`NO_PARENT` for none); None when
        none has one."""
        out = [self.parent_of(t, a)
               for t, a in zip(trace_ids.tolist(), arrivals_ns.tolist(), strict=True)]
        if all(p is None for p in out):
            return None
        return np.array([NO_PARENT if p is None else p for p in out], dtype=np.int64)

    def pending(self) -> int:
        """Arrivals whose span is not made yet (in service, waiting, or never ended)."""
        return len(self._new) + sum(len(v) for v in self._waiting.values())
