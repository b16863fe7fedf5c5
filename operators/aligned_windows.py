"""The general tumbling / sliding window state (pane-based); see :mod:`operators.windows`
for the semantics every window operator shares."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Any

from reactivex import abc

from operators._common import TimeOf, ValueOf, to_seconds, to_ticks
from operators.window_result import WindowResult
from operators.window_specs import is_time_weighted

__all__ = ["AlignedWindows"]


class _Pane:
    __slots__ = ("start", "count", "aggs", "last_v")

    def __init__(self, start: int, aggs: list[Any]) -> None:
        self.start = start
        self.count = 0
        self.aggs = aggs
        self.last_v: Any = None


# -- aligned (tumbling / sliding) windows ----------------------------------------------


class AlignedWindows:
    """One subscription of a tumbling/sliding window (tumbling = sliding with step=size).

    State is bounded: at most ``size / gcd(size, step)`` panes (plus one being filled).
    """

    def __init__(
        self,
        observer: abc.ObserverBase[WindowResult],
        clock: Any,
        size: int,
        step: int,
        aggs: list[tuple[str, Callable[[], Any]]],
        emit_empty: bool,
        time_of: TimeOf,
        value_of: ValueOf,
    ) -> None:
        self.observer = observer
        self.clock = clock
        self.size = size
        self.step = step
        self.pane = math.gcd(size, step)
        self.names = [n for n, _ in aggs]
        self.factories = [f for _, f in aggs]
        self.emit_empty = emit_empty
        self.time_of = time_of
        self.value_of = value_of
        probe = [f() for f in self.factories]
        self.tw_index = [i for i, a in enumerate(probe) if is_time_weighted(a)]
        self.time_weighted = bool(self.tw_index)
        self.direct = step == size  # one pane per window: emit the pane's aggs directly
        self.panes: deque[_Pane] = deque()
        self.next_end: int | None = None
        self.emitted = False
        self.last_v: Any = None  # last value seen (gauge carry)
        self.held: Any = None  # value held at the start of the oldest retained pane
        self.last_tick: int | None = None
        self.timer: Any = None
        self.timer_at: int | None = None
        self.done = False
        if clock is not None and emit_empty:
            now = to_ticks(clock.now())
            self.next_end = (now // step + 1) * step
            self._arm()

    # timers ---------------------------------------------------------------------------
    def _arm(self) -> None:
        if self.clock is None or self.done or self.next_end is None:
            return
        if not (self.panes or self.emit_empty or (self.time_weighted and self.held is not None)):
            return
        if self.timer is not None:
            if self.timer_at == self.next_end:
                return
            if self.timer_at is not None and self.timer_at < self.next_end:
                return  # it will fire first and re-arm
            self.timer.cancel()
        at = self.next_end
        self.timer_at = at
        self.timer = self.clock.call_at(to_seconds(at), lambda: self._on_timer(at))

    def _on_timer(self, at: int) -> None:
        if self.timer_at == at:
            self.timer = None
            self.timer_at = None
        if self.done:
            return
        limit = max(at, to_ticks(self.clock.now()))
        self._close_through(limit)
        self._arm()

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
            self.timer_at = None

    # windows --------------------------------------------------------------------------
    def _has_gauge(self) -> bool:
        return self.time_weighted and (self.held is not None or bool(self.panes))

    def _evict(self) -> None:
        assert self.next_end is not None
        self._evict_before(self.next_end - self.size)

    def _evict_before(self, lo: int) -> None:
        panes = self.panes
        while panes and panes[0].start < lo:
            self.held = panes.popleft().last_v

    def _emit(self, end: int, flush_at: int | None = None) -> None:
        if self.direct and flush_at is None and not self.time_weighted:
            self._emit_tumbling(end)
            return
        start = end - self.size
        self._evict_before(start)
        inside = [p for p in self.panes if p.start < end]
        count = sum(p.count for p in inside)
        gauge = self.time_weighted and (self.held is not None or bool(inside))
        if flush_at is not None:
            if count == 0 and not (gauge and start < flush_at):
                return
        elif count == 0 and not gauge and not self.emit_empty:
            return
        if self.direct and len(inside) == 1 and inside[0].start == start:
            aggs = inside[0].aggs
        else:
            aggs = [f() for f in self.factories]
            if self.held is not None and (not inside or inside[0].start > start):
                for i in self.tw_index:
                    aggs[i].add(to_seconds(start), self.held)
            for p in inside:
                for a, pa in zip(aggs, p.aggs, strict=True):
                    a.merge(pa)
        partial = flush_at is not None and end > flush_at
        eff_end = min(end, flush_at) if partial and flush_at is not None else end
        s, e = to_seconds(start), to_seconds(eff_end)
        self.emitted = True
        self.observer.on_next(
            WindowResult(s, to_seconds(end), count, self._results(aggs, s, e), partial))

    def _emit_tumbling(self, end: int) -> None:
        """`_emit` of a complete tumbling window of samples (the common live case, once
        per window): the window is its one pane, if any, with nothing to merge."""
        start = end - self.size
        self._evict_before(start)
        panes = self.panes
        if panes and panes[0].start == start:  # (panes are aligned to the windows)
            pane = panes[0]
            count, aggs = pane.count, pane.aggs
        elif self.emit_empty:
            count, aggs = 0, [f() for f in self.factories]
        else:
            return
        s, e = to_seconds(start), to_seconds(end)
        self.emitted = True
        self.observer.on_next(WindowResult(s, e, count, self._results(aggs, s, e)))

    def _results(self, aggs: list[Any], s: float, e: float) -> dict[str, Any]:
        names = self.names
        if len(names) == 1:
            return {names[0]: aggs[0].result(s, e)}
        return {n: a.result(s, e) for n, a in zip(names, aggs, strict=True)}

    def _close_through(self, limit: int) -> None:
        """Emit every window whose end is <= limit (ticks)."""
        if self.next_end is None:
            return
        step = self.step
        while self.next_end <= limit:
            self._emit(self.next_end)
            self.next_end += step
            self._evict()
            if not self.panes and not self.emit_empty and not self._has_gauge():
                # nothing can be in the windows up to limit: jump over the gap
                jump = (limit // step + 1) * step
                if jump > self.next_end:
                    self.next_end = jump
                break

    # observer callbacks ---------------------------------------------------------------
    def on_next(self, item: Any) -> None:
        if self.done:
            return
        t = self.time_of(item)
        tick = to_ticks(t)
        v = self.value_of(item)
        step = self.step
        if self.next_end is None:
            self.next_end = (tick // step + 1) * step
        elif tick < self.next_end - step:
            if self.emitted or self.panes:
                return  # late: its window was already emitted (or is out of order)
            self.next_end = (tick // step + 1) * step  # re-anchor before the first emission
        else:
            self._close_through(tick)
        if v is None:
            self._arm()
            return
        in_order = self.last_tick is None or tick >= self.last_tick
        if in_order:
            self.last_tick = tick
        pstart = tick - tick % self.pane
        panes = self.panes
        if panes and panes[-1].start == pstart:
            pane = panes[-1]
        elif not panes or panes[-1].start < pstart:
            pane = _Pane(pstart, [f() for f in self.factories])
            if self.last_v is not None:
                ps = to_seconds(pstart)
                for i in self.tw_index:
                    pane.aggs[i].add(ps, self.last_v)
            panes.append(pane)
        else:
            pane = self._pane_out_of_order(pstart)
        for a in pane.aggs:
            a.add(t, v)
        pane.count += 1
        if in_order:
            pane.last_v = v
            self.last_v = v
        elif pane.last_v is None:
            pane.last_v = v
        self._arm()

    def _pane_out_of_order(self, pstart: int) -> _Pane:
        """Rare path: an item older than the newest pane but still in an open window."""
        for i, p in enumerate(self.panes):
            if p.start == pstart:
                return p
            if p.start > pstart:
                pane = _Pane(pstart, [f() for f in self.factories])
                self.panes.insert(i, pane)
                return pane
        raise AssertionError("unreachable: pane is older than the newest one")

    def on_completed(self) -> None:
        if self.done:
            return
        flush_at: int | None
        if self.clock is not None:
            flush_at = to_ticks(self.clock.now())
            if self.last_tick is not None and self.last_tick > flush_at:
                flush_at = self.last_tick
        else:
            flush_at = self.last_tick
        if self.next_end is not None and flush_at is not None:
            self._close_through(flush_at)
            while self.next_end - self.size <= flush_at and (self.panes or self._has_gauge()):
                self._emit(self.next_end, flush_at)
                self.next_end += self.step
                self._evict()
        self.done = True
        self.cancel_timer()
        self.observer.on_completed()

    def on_error(self, error: Exception) -> None:
        self.done = True
        self.cancel_timer()
        self.observer.on_error(error)
