"""``RenegingQueuedResource``: a queued resource whose waiting customers give up.

Each request has a patience: ``context["patience_s"]`` if set, else
``default_patience_s``, counted from its ``created_at``. A request still waiting when its
patience runs out leaves the line at that moment (``queue_depth`` drops then) and goes to
``reneged_target`` as a ``"Reneged"`` event. Subclasses implement
``_handle_served_event(event)`` for the requests that are served::

    class Agent(RenegingQueuedResource):
        def _handle_served_event(self, event):
            yield self.rng.expovariate(1 / 240)
            return [self.forward(event, self.done, "Served")]

Observed: the `QueuedResource` series (``queue_depth``, ``in_flight``, ``wait_time``
of the served, ``dropped`` counting the reneged too) plus ``reneged`` (counter) and
``patience`` (how long each reneging customer had waited, seconds); a reneging
customer's span ends where it gave up, marked dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from happysimulator.components.queued_resource import QueuedResource
from happysimulator.core.entity import Entity, bind_simulation
from happysimulator.core.event import Event, new_event
from happysimulator.core.observed import ObservedEntity, counter, sample

_RENEGE = "_Renege"
_NS = 1_000_000_000


@dataclass(frozen=True)
class RenegingStats:
    """Served and reneged counts (happysim 0.2.5 shape)."""

    served: int = 0
    reneged: int = 0


class RenegingQueuedResource(QueuedResource, ObservedEntity):
    """A `QueuedResource` whose waiting requests leave when their patience runs out.

    Args:
        name: entity name.
        reneged_target: receives each reneging request (``"Reneged"``), or None.
        default_patience_s: patience of requests without ``context["patience_s"]``
            (``inf``: nobody reneges).
        policy: the waiting line's discipline (default FIFO); it must allow removal
            (``FIFOQueue``, ``LIFOQueue`` and ``BalkingQueue`` over them do).
        concurrency: requests served at once (see `QueuedResource`).
    """

    observed_series = (
        counter("reneged", "requests", "waiting requests that ran out of patience and left"),
        sample("patience", "s", "how long each reneging request had waited (from created_at)"),
    )
    downstream_attributes = ("reneged_target",)

    def __init__(self, name: str, reneged_target: Entity | None = None,
                 default_patience_s: float = float("inf"), policy: Any = None, *,
                 concurrency: int | None = None, queue_capacity: int | None = None) -> None:
        if not default_patience_s >= 0:
            raise ValueError(f"default_patience_s must be >= 0, got {default_patience_s!r}")
        super().__init__(name, policy=policy, concurrency=concurrency,
                         queue_capacity=queue_capacity)
        self.reneged_target = reneged_target
        self.default_patience_s = default_patience_s
        self._served = 0
        self._reneged = 0
        self._timers: dict[int, tuple[Event, Event]] = {}  # id(timer) -> (request, timer)
        self._timer_of: dict[int, Event] = {}  # id(request) -> its patience timer
        self._starting: Event | None = None

    def downstream_entities(self) -> list[Entity]:
        return [self.reneged_target] if self.reneged_target is not None else []

    @property
    def served(self) -> int:
        """Requests that started service."""
        return self._served

    @property
    def reneged(self) -> int:
        """Requests that left the line out of patience."""
        return self._reneged

    @property
    def reneging_stats(self) -> RenegingStats:
        return RenegingStats(served=self._served, reneged=self._reneged)

    def _patience_ns(self, event: Event) -> float:
        c = event.context
        p = c.get("patience_s", self.default_patience_s)
        if p is None:
            p = self.default_patience_s
        if not p >= 0:
            raise ValueError(f"patience_s must be >= 0, got {p!r} (request {c.get('id')})")
        return math.inf if p == math.inf else p * _NS

    def handle_event(self, event: Event) -> Any:
        if event.event_type == _RENEGE and event.target is self:
            return self._patience_ran_out(event)
        sim = self._sim or bind_simulation(self)
        now = sim.now_ns
        patience = self._patience_ns(event)
        deadline = event._created_ns() + patience
        if deadline < now:  # out of patience before it even arrived: leaves at once
            self.arrivals += 1
            self._refuse(sim, event, now)
            return self._renege(event)
        dropped = self.dropped
        self._starting = None
        super().handle_event(event)
        if self._starting is event or self.dropped != dropped or patience == math.inf:
            return None
        timer = new_event(int(deadline), _RENEGE, self, event)
        self._timers[id(timer)] = (event, timer)
        self._timer_of[id(event)] = timer
        return timer

    def _patience_ran_out(self, timer: Event) -> Any:
        entry = self._timers.pop(id(timer), None)
        if entry is None:
            return None
        request = entry[0]
        self._timer_of.pop(id(request), None)
        q = self._queue
        found = next(((k, w) for k, w in enumerate(q) if w[0] is request), None)
        if found is None:  # (already started: its timer is cancelled then)
            return None
        k, item = found
        remove = getattr(q, "remove", None)
        if remove is not None:
            remove(item)
        else:
            try:
                del q[k]
            except TypeError:
                raise TypeError(
                    f"{self.name}: the queue policy {type(q).__name__} cannot remove a "
                    "waiting request (give it remove(item) or use FIFOQueue/LIFOQueue)"
                ) from None
        # the line shrinks now: a loss of this resource (`dropped`, queue_depth, a span
        # ending where the customer gave up)
        self._removed(request, item[1])
        return self._renege(request)

    def _renege(self, request: Event) -> list[Event]:
        self._reneged += 1
        if self._runtime() is not None:
            self.increment("reneged")
            self.observe("patience", (self._sim.now_ns - request._created_ns()) / _NS)
        if self.reneged_target is None:
            return []
        return [self.forward(request, self.reneged_target, "Reneged")]

    def handle_queued_event(self, event: Event) -> Any:
        self._starting = event
        timer = self._timer_of.pop(id(event), None)
        if timer is not None:
            self._timers.pop(id(timer), None)
            timer.cancel()
        self._served += 1
        return self._handle_served_event(event)

    def _handle_served_event(self, event: Event) -> Any:
        """Serve a request that did not renege (override; may be a generator)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement _handle_served_event(event)")


__all__ = ["RenegingQueuedResource", "RenegingStats"]
