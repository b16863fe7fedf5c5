"""``Bulkhead``: at most ``max_concurrent`` requests at the target at once.

A request that finds every permit taken waits in a queue of at most ``max_wait_queue``
(default 0: no queue), at most ``max_wait_time`` seconds; one that cannot wait, or waits
too long, is refused (the caller is answered with a rejection, reason ``"bulkhead_full"``
or ``"bulkhead_timeout"``). Observed: ``accepted``, ``rejected`` (tag ``reason``)
counters, ``active``, ``queue_depth`` gauges, ``wait_time`` sample, one span per
accepted request.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from happysimulator.components.forwarding import (
    TargetWrapper,
    answer_rejected,
    forward,
    run_hooks,
    take_hooks,
)
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import counter, gauge, sample
from happysimulator.core.temporal import Instant

WAIT_TIMEOUT = "_bh_timeout"


@dataclass(frozen=True)
class BulkheadStats:
    """Snapshot of a bulkhead's counts."""

    total_requests: int = 0
    accepted_requests: int = 0
    rejected_requests: int = 0
    timed_out_requests: int = 0
    queued_requests: int = 0
    peak_concurrent: int = 0
    peak_queue_depth: int = 0


@dataclass
class WaitingRequest:
    """A request waiting for a permit."""

    event: Event
    enqueue_time: Instant
    request_id: int
    hooks: list | None = None


class Bulkhead(TargetWrapper):
    """Limits the requests in progress at ``target`` (see the module docstring)."""

    observed_series = (
        counter("requests", "requests", "requests that arrived"),
        counter("accepted", "requests", "requests passed to the target"),
        counter("rejected", "requests", "requests refused", tags=("reason",)),
        gauge("active", "requests", "requests at the target"),
        gauge("queue_depth", "requests", "requests waiting for a permit"),
        sample("wait_time", "s", "time an accepted request waited for a permit"),
    )

    def __init__(self, name: str, target: Entity, max_concurrent: int,
                 max_wait_queue: int = 0, max_wait_time: float | None = None) -> None:
        super().__init__(name, target)
        if max_concurrent < 1:
            raise ValueError(f"max_concurrent must be >= 1, got {max_concurrent}")
        if max_wait_queue < 0:
            raise ValueError(f"max_wait_queue must be >= 0, got {max_wait_queue}")
        if max_wait_time is not None and not max_wait_time > 0:
            raise ValueError(f"max_wait_time must be > 0 or None, got {max_wait_time}")
        self._max_concurrent = max_concurrent
        self._max_wait_queue = max_wait_queue
        self._max_wait_time = max_wait_time
        self._active_count = 0
        self._wait_queue: deque[WaitingRequest] = deque()
        self._accepted_requests = 0
        self._rejected_requests = 0
        self._timed_out_requests = 0
        self._queued_requests = 0
        self._peak_concurrent = 0
        self._peak_queue_depth = 0

    @property
    def max_concurrent(self) -> int:
        return self._max_concurrent

    @property
    def max_wait_queue(self) -> int:
        return self._max_wait_queue

    @property
    def max_wait_time(self) -> float | None:
        return self._max_wait_time

    @property
    def active_count(self) -> int:
        return self._active_count

    @property
    def queue_depth(self) -> int:
        return len(self._wait_queue)

    @property
    def available_permits(self) -> int:
        return max(0, self._max_concurrent - self._active_count)

    @property
    def stats(self) -> BulkheadStats:
        return BulkheadStats(self._total_requests, self._accepted_requests,
                             self._rejected_requests, self._timed_out_requests,
                             self._queued_requests, self._peak_concurrent,
                             self._peak_queue_depth)

    def handle_event(self, event: Event) -> Any:
        if event.event_type == WAIT_TIMEOUT:
            return self._on_wait_timeout(event)
        self._arrived()
        hooks = take_hooks(event)
        if self._active_count < self._max_concurrent:
            return [self._admit(event, hooks, self.now)]
        if len(self._wait_queue) < self._max_wait_queue:
            return self._enqueue(event, hooks)
        self._rejected_requests += 1
        self.increment("rejected", reason="bulkhead_full")
        return answer_rejected(self, event, hooks, "bulkhead_full")

    def _admit(self, event: Event, hooks: list | None, since: Instant) -> Event:
        self._active_count += 1
        self._accepted_requests += 1
        self._peak_concurrent = max(self._peak_concurrent, self._active_count)
        if self._recording() is not None:
            self.increment("accepted")
            self.set_gauge("active", self._active_count)
            self.observe("wait_time", (self.now - since).to_seconds())
        start = since.to_seconds()
        span = self.open_span(event)
        return forward(self, event, self._target,
                       lambda: self._done(event, hooks, start, span))

    def _enqueue(self, event: Event, hooks: list | None) -> list[Event]:
        self._next_request_id += 1
        self._wait_queue.append(WaitingRequest(event, self.now, self._next_request_id, hooks))
        self._queued_requests += 1
        self._peak_queue_depth = max(self._peak_queue_depth, len(self._wait_queue))
        self.set_gauge("queue_depth", len(self._wait_queue))
        if self._max_wait_time is None:
            return []
        return [self._timer(self._max_wait_time, WAIT_TIMEOUT, self._next_request_id)]

    def _done(self, event: Event, hooks: list | None, start: float,
              span: Any = None) -> list[Event]:
        self._active_count = max(0, self._active_count - 1)
        self.set_gauge("active", self._active_count)
        self.record_span(event, start, span=span)
        out = run_hooks(self, hooks)
        if self._wait_queue and self._active_count < self._max_concurrent:
            w = self._wait_queue.popleft()
            self.set_gauge("queue_depth", len(self._wait_queue))
            out.append(self._admit(w.event, w.hooks, w.enqueue_time))
        return out

    def _on_wait_timeout(self, event: Event) -> list[Event] | None:
        rid = event.context["metadata"]["request_id"]
        for i, w in enumerate(self._wait_queue):
            if w.request_id == rid:
                del self._wait_queue[i]
                self._timed_out_requests += 1
                self._rejected_requests += 1
                self.increment("rejected", reason="bulkhead_timeout")
                self.set_gauge("queue_depth", len(self._wait_queue))
                return answer_rejected(self, w.event, w.hooks, "bulkhead_timeout")
        return None


__all__ = ["Bulkhead", "BulkheadStats", "WaitingRequest"]
