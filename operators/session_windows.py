"""Session windows: activity separated by gaps of silence (simulated time); see
:mod:`operators.windows` for what all window operators share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable

from operators._common import (
    TimeOf,
    ValueOf,
    accessors,
    duration_ticks,
    to_seconds,
    to_ticks,
)
from operators.clock import resolve_clock
from operators.window_result import WindowResult
from operators.window_specs import AggSpec, resolve_aggregates

__all__ = ["session_window"]


class _Sessions:
    def __init__(
        self,
        observer: abc.ObserverBase[WindowResult],
        clock: Any,
        gap: int,
        aggs: list[tuple[str, Callable[[], Any]]],
        time_of: TimeOf,
        value_of: ValueOf,
    ) -> None:
        self.observer = observer
        self.clock = clock
        self.gap = gap
        self.names = [n for n, _ in aggs]
        self.factories = [f for _, f in aggs]
        self.time_of = time_of
        self.value_of = value_of
        self.aggs: list[Any] | None = None
        self.first = 0
        self.last = 0
        self.count = 0
        self.timer: Any = None
        self.timer_at: int | None = None
        self.done = False

    def _close(self, partial: bool = False, flush_at: int | None = None) -> None:
        aggs = self.aggs
        assert aggs is not None
        end = self.last + self.gap
        eff = min(end, flush_at) if partial and flush_at is not None else end
        s, e = to_seconds(self.first), to_seconds(max(eff, self.first))
        values = {n: a.result(s, e) for n, a in zip(self.names, aggs, strict=True)}
        self.aggs = None
        self.observer.on_next(WindowResult(s, to_seconds(end), self.count, values, partial))

    def _arm(self) -> None:
        if self.clock is None or self.aggs is None or self.done:
            return
        end = self.last + self.gap
        if self.timer is not None and self.timer_at is not None and self.timer_at <= end:
            return  # fires earlier and re-arms (avoids a cancel per item)
        if self.timer is not None:
            self.timer.cancel()
        self.timer_at = end
        self.timer = self.clock.call_at(to_seconds(end), lambda: self._on_timer(end))

    def _on_timer(self, at: int) -> None:
        if self.timer_at == at:
            self.timer = None
            self.timer_at = None
        if self.done or self.aggs is None:
            return
        now = max(at, to_ticks(self.clock.now()))
        if self.last + self.gap <= now:
            self._close()
        else:
            self._arm()

    def on_next(self, item: Any) -> None:
        if self.done:
            return
        t = self.time_of(item)
        tick = to_ticks(t)
        v = self.value_of(item)
        if self.aggs is not None:
            if tick < self.last:
                return  # out of order: dropped
            if tick >= self.last + self.gap:
                self._close()
        if v is None:
            return
        if self.aggs is None:
            self.aggs = [f() for f in self.factories]
            self.first = tick
            self.count = 0
        for a in self.aggs:
            a.add(t, v)
        self.count += 1
        self.last = tick
        self._arm()

    def on_completed(self) -> None:
        if self.done:
            return
        if self.aggs is not None:
            now = to_ticks(self.clock.now()) if self.clock is not None else self.last
            if self.last + self.gap <= now:
                self._close()
            else:
                self._close(partial=True, flush_at=max(now, self.last))
        self.done = True
        self.cancel_timer()
        self.observer.on_completed()

    def on_error(self, error: Exception) -> None:
        self.done = True
        self.cancel_timer()
        self.observer.on_error(error)

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
            self.timer_at = None


def session_window(
    gap: float,
    aggregate: AggSpec | None = None,
    *,
    aggregates: Sequence[AggSpec] | None = None,
    clock: Any = None,
    weighting: str = "sample",
    time_of: TimeOf | None = None,
    value_of: ValueOf | None = None,
    agg_options: dict[str, Any] | None = None,
) -> Callable[[Observable[Any]], Observable[WindowResult]]:
    """Sessions of activity separated by at least ``gap`` simulated seconds of silence.

    A session starts at its first item and is ``[first, last + gap)``: an item less than
    ``gap`` after the previous one extends it, an item exactly ``gap`` later starts a new
    one. It is emitted when simulated time reaches ``last + gap`` (clock timer) or when
    the next item shows it ended; on completion an open session is flushed
    (``partial=True`` unless its end was reached). Sessions are never empty.

    >>> import reactivex
    >>> out = []
    >>> _ = reactivex.of((0, 1), (1, 1), (5, 1)).pipe(session_window(2.0, "count")
    ...     ).subscribe(lambda w: out.append((w.start, w.end, w.count)))
    >>> out
    [(0.0, 3.0, 2), (5.0, 7.0, 1)]
    """
    gap_t = duration_ticks("gap", gap)
    aggs = resolve_aggregates(aggregate, aggregates, weighting, agg_options)
    t_of, v_of = accessors(time_of, value_of)
    if clock is not None:
        resolve_clock(clock)

    def operator(source: Observable[Any]) -> Observable[WindowResult]:
        def subscribe(
            observer: abc.ObserverBase[WindowResult], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            state = _Sessions(observer, resolve_clock(clock, scheduler), gap_t, aggs, t_of, v_of)
            sub = source.subscribe(
                state.on_next, state.on_error, state.on_completed, scheduler=scheduler
            )
            return CompositeDisposable(sub, Disposable(state.cancel_timer))

        return reactivex.create(subscribe)

    return operator
