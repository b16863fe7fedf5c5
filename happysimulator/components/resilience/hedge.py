"""``Hedge``: sends a second copy of a request if the first is slow.

The request goes to ``target``; if no answer came within ``hedge_delay`` seconds, a copy
follows (up to ``max_hedges`` copies, ``hedge_delay`` apart). The caller is answered by
the first answer; the others are counted and ignored. Observed: ``requests``,
``hedges`` counters, ``wins`` counter (tag ``winner``: ``primary`` / ``hedge``), one span
per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from happysimulator.components.forwarding import Pending, TargetWrapper, forward, run_hooks
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.observed import counter

SEND_HEDGE = "_hg_send_hedge"


@dataclass(frozen=True)
class HedgeStats:
    """Snapshot of a hedge's counts."""

    total_requests: int = 0
    primary_wins: int = 0
    hedge_wins: int = 0
    hedges_sent: int = 0
    hedges_cancelled: int = 0


class _Pending(Pending):
    __slots__ = ("completed", "hedges_sent", "answers")

    def __init__(self, event: Event, hooks: list | None, start: float) -> None:
        super().__init__(event, hooks, start)
        self.completed = False
        self.hedges_sent = 0
        self.answers = 0


class Hedge(TargetWrapper):
    """Redundant copies of slow requests (see the module docstring)."""

    #: the attribute keys its spans carry (see its `record_span` calls)
    span_attributes = ("winner", "hedges")
    observed_series = (
        counter("requests", "requests", "requests that arrived"),
        counter("hedges", "requests", "copies sent because the first answer was late"),
        counter("wins", "requests", "which copy answered first", tags=("winner",)),
    )

    def __init__(self, name: str, target: Entity, hedge_delay: float,
                 max_hedges: int = 1) -> None:
        super().__init__(name, target)
        if not hedge_delay > 0:
            raise ValueError(f"hedge_delay must be > 0 seconds, got {hedge_delay}")
        if max_hedges < 1:
            raise ValueError(f"max_hedges must be >= 1, got {max_hedges}")
        self._hedge_delay = hedge_delay
        self._max_hedges = max_hedges
        self._primary_wins = 0
        self._hedge_wins = 0
        self._hedges_sent = 0
        self._hedges_cancelled = 0

    @property
    def hedge_delay(self) -> float:
        return self._hedge_delay

    @property
    def max_hedges(self) -> int:
        return self._max_hedges

    @property
    def in_flight_count(self) -> int:
        return len(self._in_flight)

    @property
    def stats(self) -> HedgeStats:
        return HedgeStats(self._total_requests, self._primary_wins, self._hedge_wins,
                          self._hedges_sent, self._hedges_cancelled)

    def handle_event(self, event: Event) -> Any:
        if event.event_type == SEND_HEDGE:
            meta = event.context["metadata"]
            return self._send_hedge(meta["request_id"], meta["hedge_number"])
        rid, _ = self._track(event, _Pending)
        return [forward(self, event, self._target, lambda: self._answered(rid, False)),
                self._hedge_timer(rid, 1)]

    def _hedge_timer(self, rid: int, number: int) -> Event:
        return self._timer(self._hedge_delay, SEND_HEDGE, rid, hedge_number=number)

    def _send_hedge(self, rid: int, number: int) -> list[Event] | None:
        p = self._in_flight.get(rid)
        if p is None:
            return None
        if p.completed:
            self._hedges_cancelled += 1
            return None
        if p.hedges_sent >= self._max_hedges:
            return None
        p.hedges_sent += 1
        self._hedges_sent += 1
        self.increment("hedges")
        out = [forward(self, p.event, self._target, lambda: self._answered(rid, True))]
        if number < self._max_hedges:
            out.append(self._hedge_timer(rid, number + 1))
        return out

    def _answered(self, rid: int, is_hedge: bool) -> list[Event] | None:
        p = self._in_flight.get(rid)
        if p is None:
            return None
        p.answers += 1
        out = None
        if not p.completed:
            p.completed = True
            if is_hedge:
                self._hedge_wins += 1
            else:
                self._primary_wins += 1
            self.increment("wins", winner="hedge" if is_hedge else "primary")
            self.record_span(p.event, p.start, span=p.span, winner="hedge" if is_hedge else "primary",
                             hedges=p.hedges_sent)
            out = run_hooks(self, p.hooks)
        if p.answers >= 1 + p.hedges_sent:
            del self._in_flight[rid]
        return out


__all__ = ["Hedge", "HedgeStats"]
