"""Tumbling windows of samples: the live common case (``tumbling_window(1.0, "p99")``).

Same semantics as the general pane-based state (:mod:`operators.aligned_windows`, see
:mod:`operators.windows`), for ``step == size`` with no time-weighted aggregate. Then at
most one window holds data (the one ending at ``next_end``: an item is only added
after every window ending at or before it was closed), so there is no pane list, no
merge, no gauge carry, and closing a window is: its results, one ``WindowResult``, one
timer for the next end. When every aggregate is a sample quantile the open window keeps
its raw values (no aggregator objects) up to the exact limit, where the aggregators take
over from the same values in the same order. tests/operators/test_ops_tumbling_fast.py
checks it against the general state on random streams.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactivex import abc

from operators._common import (
    TICKS_PER_SECOND,
    TimeOf,
    ValueOf,
    default_time_of,
    default_value_of,
    to_ticks,
)
from operators.quantiles import EXACT_LIMIT, linear_quantile
from operators.sample_aggregators import quantile_of_factory
from operators.window_result import WindowResult

__all__ = ["TumblingWindows"]


class TumblingWindows:
    """One subscription of a tumbling window of samples (bounded: one open window)."""

    __slots__ = (
        "observer", "clock", "size", "names", "factories", "single", "emit_empty",
        "time_of", "value_of", "plain_items", "qs", "aggs", "raw", "count", "next_end",
        "emitted", "last_tick", "timer", "timer_at", "done",
    )

    def __init__(
        self,
        observer: abc.ObserverBase[WindowResult],
        clock: Any,
        size: int,
        aggs: list[tuple[str, Callable[[], Any]]],
        emit_empty: bool,
        time_of: TimeOf,
        value_of: ValueOf,
    ) -> None:
        self.observer = observer
        self.clock = clock
        self.size = size
        self.names = tuple(n for n, _ in aggs)
        self.factories = tuple(f for _, f in aggs)
        self.single = self.names[0] if len(self.names) == 1 else None
        self.emit_empty = emit_empty
        self.time_of = time_of
        self.value_of = value_of
        self.plain_items = time_of is default_time_of and value_of is default_value_of
        # every aggregate a sample quantile: a window keeps its raw values (what the
        # aggregator would keep) until there are too many for an exact answer
        qs = [quantile_of_factory(f) for f in self.factories]
        self.qs: tuple[float, ...] | None = (
            None if None in qs else tuple(q for q in qs if q is not None))
        # the window ending next_end: its aggregators, or (raw) its values
        self.aggs: list[Any] | None = None
        self.raw = False
        self.count = 0
        self.next_end: int | None = None  # ticks
        self.emitted = False
        self.last_tick: int | None = None  # latest item time with a value
        self.timer: Any = None
        self.timer_at: int | None = None
        self.done = False
        if clock is not None and emit_empty:
            now = to_ticks(clock.now())
            self.next_end = (now // size + 1) * size
            self._arm()

    # timers ---------------------------------------------------------------------------
    def _arm(self) -> None:
        """A timer at ``next_end`` unless one fires there or earlier (it re-arms)."""
        if self.clock is None or self.done or self.next_end is None:
            return
        if self.aggs is None and not self.emit_empty:
            return
        at = self.next_end
        timer_at = self.timer_at
        if self.timer is not None:
            if timer_at is not None and timer_at <= at:
                return
            self.timer.cancel()
        self.timer_at = at
        self.timer = self.clock.call_at(at / TICKS_PER_SECOND, self._fire)

    def _fire(self) -> None:
        """The timer at ``timer_at`` (the only one pending: a replaced timer is
        cancelled, and a SimClock never runs a cancelled timer)."""
        at = self.timer_at
        self.timer = None
        self.timer_at = None
        if self.done:
            return
        limit = to_ticks(self.clock.now())
        if at is not None and at > limit:
            limit = at  # (float seconds -> ticks may land a tick short)
        end = self.next_end
        if end is not None and end <= limit:
            aggs = self.aggs
            size = self.size
            if aggs is not None and limit < end + size:
                # the common case, inlined: the one window with data ends now
                s, e = (end - size) / TICKS_PER_SECOND, end / TICKS_PER_SECOND
                single = self.single
                if single is None:
                    values = self._results(aggs, s, e, self.raw)
                elif self.raw:
                    values = {single: linear_quantile(aggs, self.qs[0])}  # type: ignore[index]
                else:
                    values = {single: aggs[0].result(s, e)}
                self.emitted = True
                self.observer.on_next(WindowResult(s, e, self.count, values))
                self.aggs = None
                self.next_end = end = end + size
                if self.emit_empty and self.timer is None and not self.done:
                    self.timer_at = end
                    self.timer = self.clock.call_at(end / TICKS_PER_SECOND, self._fire)
                    return
            else:
                self._close_through(limit)
        self._arm()

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
            self.timer_at = None

    # windows --------------------------------------------------------------------------
    def _results(self, aggs: list[Any], s: float, e: float, raw: bool) -> dict[str, Any]:
        """{name: result} of aggregators, or of raw values (``raw``: every aggregate a
        quantile, at most EXACT_LIMIT values)."""
        if raw:
            return {n: linear_quantile(aggs, q)
                    for n, q in zip(self.names, self.qs, strict=True)}  # type: ignore[arg-type]
        single = self.single
        if single is not None:
            return {single: aggs[0].result(s, e)}
        return {n: a.result(s, e) for n, a in zip(self.names, aggs, strict=True)}

    def _unbuffer(self, t: float) -> None:
        """Past the exact limit: the aggregators, fed the values in order (the state
        they would have reached item by item, e.g. a sketch from the 257th value)."""
        values = self.aggs
        assert values is not None
        aggs = [f() for f in self.factories]
        for a in aggs:
            for v in values:
                a.add(t, v)
        self.aggs = aggs
        self.raw = False

    def _close_through(self, limit: int) -> None:
        """Emit every window whose end is <= limit (ticks)."""
        end = self.next_end
        if end is None or end > limit:
            return
        size = self.size
        while True:
            aggs = self.aggs
            if aggs is not None:
                s, e = (end - size) / TICKS_PER_SECOND, end / TICKS_PER_SECOND
                self.emitted = True
                self.observer.on_next(
                    WindowResult(s, e, self.count, self._results(aggs, s, e, self.raw)))
                self.aggs = None
            elif self.emit_empty:
                s, e = (end - size) / TICKS_PER_SECOND, end / TICKS_PER_SECOND
                self.emitted = True
                empty = [f() for f in self.factories]
                self.observer.on_next(WindowResult(s, e, 0, self._results(empty, s, e, False)))
            end += size
            self.next_end = end
            if not self.emit_empty:
                # nothing can be in the windows up to limit: jump over the gap
                jump = (limit // size + 1) * size
                if jump > end:
                    self.next_end = jump
                return
            if end > limit:
                return

    # observer callbacks ---------------------------------------------------------------
    def _move_to(self, tick: int) -> bool:
        """An item at ``tick`` outside the open window: close the windows before it, or
        re-anchor; False when the item is late (dropped)."""
        end = self.next_end
        if end is None:
            self.next_end = (tick // self.size + 1) * self.size
        elif tick >= end:
            self._close_through(tick)
        elif tick < end - self.size:
            if self.emitted or self.aggs is not None:
                return False  # late: its window was already emitted (or is out of order)
            self.next_end = (tick // self.size + 1) * self.size  # re-anchor before any emission
        return True

    def on_next(self, item: Any) -> None:
        if self.done:
            return
        if self.plain_items:  # the default accessors, inlined
            try:
                t = item.time
            except AttributeError:
                t = item[0]
            tick = to_ticks(t)
            try:
                v = item.value
            except AttributeError:
                v = item[1]
        else:
            t = self.time_of(item)
            tick = to_ticks(t)
            v = self.value_of(item)
        end = self.next_end
        if (end is None or tick >= end or tick < end - self.size) and not self._move_to(tick):
            return
        if v is None:
            self._arm()
            return
        last = self.last_tick
        if last is None or tick >= last:
            self.last_tick = tick
        aggs = self.aggs
        if self.raw and aggs is not None:  # (raw only while the window has values)
            aggs.append(v)
            self.count += 1
            if len(aggs) > EXACT_LIMIT:
                self._unbuffer(t)
            if self.timer_at != self.next_end:
                self._arm()
            return
        if aggs is None:
            if self.qs is not None:
                self.aggs = [v]
                self.raw = True
                self.count = 1
                if self.timer_at != self.next_end:
                    self._arm()
                return
            factories = self.factories
            self.aggs = aggs = [factories[0]()] if self.single is not None else [
                f() for f in factories]
            self.count = 0
        if self.single is not None:
            aggs[0].add(t, v)
        else:
            for a in aggs:
                a.add(t, v)
        self.count += 1
        if self.timer_at != self.next_end:
            self._arm()

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
            end = self.next_end
            start = end - self.size
            aggs = self.aggs
            if start <= flush_at and aggs is not None:
                # the open window, flushed before simulated time reached its end
                s, e = start / TICKS_PER_SECOND, flush_at / TICKS_PER_SECOND
                self.emitted = True
                self.observer.on_next(WindowResult(
                    s, end / TICKS_PER_SECOND, self.count, self._results(aggs, s, e, self.raw), True))
                self.aggs = None
                self.next_end = end + self.size
        self.done = True
        self.cancel_timer()
        self.observer.on_completed()

    def on_error(self, error: Exception) -> None:
        self.done = True
        self.cancel_timer()
        self.observer.on_error(error)
