"""What the queueing rate limiters share: a bounded FIFO of held requests drained by a
poll event, forwarding with the caller's completion hooks, statistics and series."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from happysimulator.components.forwarding import answer_rejected, forward, run_hooks, take_hooks
from happysimulator.components.rate_limiter._history import HISTORY_LIMIT, History
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter, gauge, sample
from happysimulator.core.temporal import Duration, Instant
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion


@dataclass(frozen=True)
class LimiterStats:
    """Snapshot of a rate limiter's counts."""

    received: int = 0
    forwarded: int = 0
    queued: int = 0
    dropped: int = 0


class QueueingLimiter(ObservedEntity):
    """A limiter that forwards what it may now, holds the rest (up to
    ``queue_capacity``) and refuses what does not fit (reason ``"rate_limited"``)."""

    observed_series = (
        counter("requests", "requests", "requests that arrived"),
        counter("admitted", "requests", "requests passed downstream"),
        counter("rejected", "requests", "requests refused: the queue was full"),
        counter("delayed", "requests", "requests held before being passed on"),
        gauge("queue_depth", "requests", "requests held"),
        sample("wait_time", "s", "arrival to being passed on, per admitted request"),
    )
    downstream_attributes = ("downstream",)
    _poll_prefix = "rate_limit_poll"

    def __init__(self, name: str, downstream: Entity, queue_capacity: int,
                 history_limit: int | None = HISTORY_LIMIT) -> None:
        super().__init__(name)
        if queue_capacity < 0:
            raise ValueError(f"queue_capacity must be >= 0, got {queue_capacity}")
        self._downstream = downstream
        self._capacity = queue_capacity
        self._queue: deque[tuple[Event, list | None, int]] = deque()
        self._poll_type = f"{self._poll_prefix}::{name}"
        self._poll_scheduled = False
        self._received = 0
        self._forwarded = 0
        self._queued = 0
        self._dropped = 0
        # the newest `history_limit` times of each (flat memory in long runs)
        self.received_times: History[Instant] = History(history_limit)
        self.forwarded_times: History[Instant] = History(history_limit)
        self.dropped_times: History[Instant] = History(history_limit)

    @property
    def downstream(self) -> Entity:
        return self._downstream

    @property
    def queue_depth(self) -> int:
        return len(self._queue)

    def downstream_entities(self) -> list[Entity]:
        return [self._downstream]

    def set_clock(self, sim: Any) -> None:
        super().set_clock(sim)
        self._downstream.set_clock(sim)

    # ---- to override ---------------------------------------------------------------------
    def _admit(self, now: Instant) -> bool:
        """Take a permit now if there is one."""
        raise NotImplementedError

    def _next_poll(self, now: Instant) -> Duration:
        """When the head of the queue may pass."""
        raise NotImplementedError

    def _after_decision(self) -> None:
        """Record the limiter's state after a decision (e.g. its tokens)."""

    # ---- mechanics -----------------------------------------------------------------------
    def handle_event(self, event: Event) -> list[Event]:
        if event.event_type == self._poll_type:
            return self._poll(event.time)
        now = event.time  # (also when a test calls handle_event outside a run)
        self._received += 1
        self.received_times.append(now)
        observed = self._recording() is not None
        if observed:
            self.increment("requests")
        hooks = take_hooks(event)
        if not self._queue and self._admit(now):
            out = [self._forward(event, hooks, now, now.nanoseconds)]
        elif len(self._queue) < self._capacity:
            self._queue.append((event, hooks, now.nanoseconds))
            self._queued += 1
            if observed:
                self.increment("delayed")
                self.set_gauge("queue_depth", len(self._queue))
            out = self._ensure_poll(now)
        else:
            self._dropped += 1
            self.dropped_times.append(now)
            if observed:
                self.increment("rejected")
            out = answer_rejected(self, event, hooks, "rate_limited")
        if observed:
            self._after_decision()
        return out

    def _poll(self, now: Instant) -> list[Event]:
        self._poll_scheduled = False
        if not self._queue:
            return []
        out: list[Event] = []
        while self._queue and self._admit(now):
            event, hooks, arrived = self._queue.popleft()
            out.append(self._forward(event, hooks, now, arrived))
        if self._recording() is not None:
            self.set_gauge("queue_depth", len(self._queue))
            self._after_decision()
        if self._queue:
            out.extend(self._ensure_poll(now))
        return out

    def _forward(self, event: Event, hooks: list | None, now: Instant, arrived: int) -> Event:
        self._forwarded += 1
        self.forwarded_times.append(now)
        if self._recording() is not None:
            self.increment("admitted")
            self.observe("wait_time", (now.nanoseconds - arrived) / _NS)
            self.record_span(event, arrived / _NS, now.nanoseconds / _NS,
                             span=self.open_span(event))
        out = forward(self, event, self._downstream,
                      None if hooks is None else (lambda: run_hooks(self, hooks)),
                      event_type=f"forward::{event.event_type}", at_ns=now.nanoseconds)
        return out

    def _ensure_poll(self, now: Instant) -> list[Event]:
        if self._poll_scheduled:
            return []
        self._poll_scheduled = True
        # not a daemon: held requests are work the run must finish
        return [Event(now + self._next_poll(now), self._poll_type, self)]
