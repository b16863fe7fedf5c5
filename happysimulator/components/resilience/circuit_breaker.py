"""``CircuitBreaker``: stops sending to a failing target for a while.

CLOSED: requests pass; ``failure_threshold`` consecutive failures open the circuit.
OPEN: requests are refused at once (the caller is answered with a rejection, reason
``"circuit_open"``); after ``timeout`` seconds the circuit is HALF_OPEN. HALF_OPEN: at
most ``half_open_max_requests`` trial requests pass; ``success_threshold`` successes
close the circuit, one failure opens it again.

A request fails when the target refused it (a downstream rejection, e.g. a
`TimeoutWrapper`'s timeout) or when ``failure_predicate(request)`` says so; otherwise its
answer is a success. Observed: ``state`` gauge (0 closed, 1 half-open, 2 open),
``rejected``, ``requests``, ``successes``, ``failures`` counters, ``state_change`` events,
one span per passed request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from happysimulator.components.forwarding import (
    TargetWrapper,
    answer_rejected,
    forward,
    rejection,
    run_hooks,
    take_hooks,
)
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import counter, gauge
from happysimulator.core.temporal import Duration, Instant
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion

HALF_OPEN_CHECK = "_cb_half_open"


def _at_least_one(what: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be an int >= 1, got {value!r}")
    return value


class CircuitState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


#: the ``state`` gauge's value per state
STATE_VALUE = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}


@dataclass(frozen=True)
class CircuitBreakerStats:
    """Snapshot of a circuit breaker's counts."""

    total_requests: int = 0
    successful_requests: int = 0
    failed_requests: int = 0
    rejected_requests: int = 0
    state_changes: int = 0
    times_opened: int = 0
    times_closed: int = 0


class CircuitBreaker(TargetWrapper):
    """Passes requests to ``target`` while it is healthy (see the module docstring)."""

    #: the attribute keys its spans carry (see its `record_span` calls)
    span_attributes = ("outcome",)
    observed_series = (
        gauge("state", "", "0 closed, 1 half-open, 2 open"),
        counter("requests", "requests", "requests that arrived"),
        counter("rejected", "requests", "requests refused without reaching the target",
                tags=("state",)),
        counter("successes", "requests", "passed requests answered successfully"),
        counter("failures", "requests", "passed requests that failed"),
    )

    def __init__(self, name: str, target: Entity, failure_threshold: int = 5,
                 success_threshold: int = 2, timeout: float = 30.0,
                 half_open_max_requests: int = 1,
                 failure_predicate: Callable[[Event], bool] | None = None,
                 on_state_change: Callable[[CircuitState, CircuitState], None] | None = None,
                 ) -> None:
        super().__init__(name, target)
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {failure_threshold}")
        if success_threshold < 1:
            raise ValueError(f"success_threshold must be >= 1, got {success_threshold}")
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        if half_open_max_requests < 1:
            raise ValueError(
                f"half_open_max_requests must be >= 1, got {half_open_max_requests}")
        self._failure_threshold = failure_threshold
        self._success_threshold = success_threshold
        self._timeout = timeout
        self._half_open_max_requests = half_open_max_requests
        self._failure_predicate = failure_predicate
        self._on_state_change = on_state_change
        self._state = CircuitState.CLOSED
        self._failure_count = 0
        self._success_count = 0
        self._opened_at: Instant | None = None
        self._half_open_in_flight = 0
        self._successful_requests = 0
        self._failed_requests = 0
        self._rejected_requests = 0
        self._state_changes = 0
        self._times_opened = 0
        self._times_closed = 0

    # ---- configuration and state ---------------------------------------------------------
    @property
    def state(self) -> CircuitState:
        """The state now (an open circuit whose ``timeout`` has passed is half-open)."""
        if self._state is CircuitState.OPEN and self._reset_due():
            self._transition_to(CircuitState.HALF_OPEN)
        return self._state

    # (the thresholds and the timeout are settable, e.g. in a what-if fork: each setter
    # checks what the constructor checks; the counts so far are kept)
    @property
    def failure_threshold(self) -> int:
        return self._failure_threshold

    @failure_threshold.setter
    def failure_threshold(self, value: int) -> None:
        self._failure_threshold = _at_least_one("failure_threshold", value)

    @property
    def success_threshold(self) -> int:
        return self._success_threshold

    @success_threshold.setter
    def success_threshold(self, value: int) -> None:
        self._success_threshold = _at_least_one("success_threshold", value)

    @property
    def half_open_max_requests(self) -> int:
        """Trial requests let through at once while half-open."""
        return self._half_open_max_requests

    @half_open_max_requests.setter
    def half_open_max_requests(self, value: int) -> None:
        self._half_open_max_requests = _at_least_one("half_open_max_requests", value)

    @property
    def timeout(self) -> float:
        """Seconds the circuit stays open before trial requests."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {value!r}")
        self._timeout = float(value)

    def _settings_changed(self) -> None:
        """After a what-if setting: an open circuit turns half-open at its new time (a
        shorter timeout must not wait for the check scheduled under the old one)."""
        sim = self._sim
        if (self._state is CircuitState.OPEN and self._opened_at is not None
                and sim is not None and hasattr(sim, "schedule")):
            at = max(self._opened_at + Duration.from_seconds(self._timeout), sim.now)
            sim.schedule(Event(at, HALF_OPEN_CHECK, self, daemon=True))

    @property
    def failure_count(self) -> int:
        return self._failure_count

    @property
    def success_count(self) -> int:
        return self._success_count

    @property
    def stats(self) -> CircuitBreakerStats:
        return CircuitBreakerStats(self._total_requests, self._successful_requests,
                                   self._failed_requests, self._rejected_requests,
                                   self._state_changes, self._times_opened,
                                   self._times_closed)

    # ---- requests ------------------------------------------------------------------------
    def handle_event(self, event: Event) -> Any:
        if event.event_type == HALF_OPEN_CHECK:
            _ = self.state  # opens the trial period if it is due
            return None
        state = self.state
        if not self._total_requests:
            self.set_gauge("state", STATE_VALUE[state])  # the value in effect from the start
        self._arrived()
        if state is CircuitState.OPEN or (
                state is CircuitState.HALF_OPEN
                and self._half_open_in_flight >= self._half_open_max_requests):
            self._rejected_requests += 1
            self.increment("rejected", state=state.value)
            return answer_rejected(self, event, take_hooks(event), "circuit_open")
        if state is CircuitState.HALF_OPEN:
            self._half_open_in_flight += 1
        hooks = take_hooks(event)
        start = self._sim.now_ns / _NS
        span = self.open_span(event)
        return forward(self, event, self._target,
                       lambda: self._answered(event, hooks, state, start, span))

    def _answered(self, event: Event, hooks: list | None, sent_in: CircuitState,
                  start: float, span: Any = None) -> list[Event]:
        failed = rejection(event) is not None
        if not failed and self._failure_predicate is not None:
            failed = bool(self._failure_predicate(event))
        if sent_in is CircuitState.HALF_OPEN:
            self._half_open_in_flight = max(0, self._half_open_in_flight - 1)
        out = self._on_failure(sent_in) if failed else self._on_success(sent_in)
        self.record_span(event, start, span=span, outcome="failure" if failed else "success")
        return out + run_hooks(self, hooks)

    def _on_success(self, sent_in: CircuitState) -> list[Event]:
        self._successful_requests += 1
        self.increment("successes")
        if sent_in is CircuitState.HALF_OPEN and self._state is CircuitState.HALF_OPEN:
            self._success_count += 1
            if self._success_count >= self._success_threshold:
                self._transition_to(CircuitState.CLOSED)
        elif sent_in is CircuitState.CLOSED and self._state is CircuitState.CLOSED:
            self._failure_count = 0
        return []

    def _on_failure(self, sent_in: CircuitState) -> list[Event]:
        self._failed_requests += 1
        self.increment("failures")
        if sent_in is CircuitState.HALF_OPEN and self._state is CircuitState.HALF_OPEN:
            self._transition_to(CircuitState.OPEN)
        elif sent_in is CircuitState.CLOSED and self._state is CircuitState.CLOSED:
            self._failure_count += 1
            if self._failure_count >= self._failure_threshold:
                self._transition_to(CircuitState.OPEN)
        return []

    # ---- manual control ------------------------------------------------------------------
    def record_success(self) -> None:
        """Count a success observed outside the breaker."""
        self._on_success(self._state)

    def record_failure(self) -> None:
        """Count a failure observed outside the breaker."""
        self._on_failure(self._state)

    def force_open(self) -> None:
        self._transition_to(CircuitState.OPEN)

    def force_close(self) -> None:
        self._transition_to(CircuitState.CLOSED)

    def reset(self) -> None:
        """Back to CLOSED with clean counts (statistics are kept)."""
        self._state = CircuitState.CLOSED
        self._failure_count = 0
        self._success_count = 0
        self._opened_at = None
        self._half_open_in_flight = 0
        self.set_gauge("state", 0)

    # ---- internals -----------------------------------------------------------------------
    def _reset_due(self) -> bool:
        sim = self._sim
        if sim is None or self._opened_at is None:
            return False
        return sim.now_ns - self._opened_at.nanoseconds >= round(self._timeout * 1e9)

    def _transition_to(self, new: CircuitState) -> None:
        old = self._state
        if new is old:
            return
        self._state = new
        self._state_changes += 1
        if new is CircuitState.CLOSED:
            self._failure_count = 0
            self._success_count = 0
            self._times_closed += 1
        elif new is CircuitState.OPEN:
            self._success_count = 0
            self._times_opened += 1
            sim = self._sim
            if sim is not None:
                self._opened_at = Instant(sim.now_ns)
                if hasattr(sim, "schedule") and hasattr(sim, "_push_checked"):
                    # so the state gauge turns half-open on time, not at the next request
                    sim.schedule(Event(self._opened_at + Duration.from_seconds(self._timeout),
                                       HALF_OPEN_CHECK, self, daemon=True))
        else:
            self._success_count = 0
            self._half_open_in_flight = 0
        if self._recording() is not None:
            self.set_gauge("state", STATE_VALUE[new])
            self.emit_event("state_change", {"from": old.value, "to": new.value})
        if self._on_state_change is not None:
            self._on_state_change(old, new)


__all__ = ["STATE_VALUE", "CircuitBreaker", "CircuitBreakerStats", "CircuitState"]
