"""Windows on *simulated* time: tumbling, sliding (pane-based) and session windows.

Semantics (shared by all window operators)
-----------------------------------------
* Time is an item's ``time_of(item)`` (default ``item.time``, or ``item[0]`` for tuples)
  in float simulated seconds, quantized to integer ticks of 1 ns
  (``tick = round(t * 1e9)``). All boundary arithmetic is on integer ticks, so there is no
  float drift: an item at exactly ``k * size`` belongs to window ``k``.
* Windows are half-open ``[start, end)``. Tumbling windows are aligned to integer
  multiples of ``size`` from time 0; sliding windows end on multiples of ``step``.
* A window is emitted when simulated time reaches its end: by a clock timer
  (``clock.call_at(end, ...)``) even when no item arrives, or -- whichever comes first --
  when an item at or after ``end`` arrives. Without a clock only items and completion
  move time forward.
* On completion the open windows that hold data are flushed with ``partial=True``
  (their end had not been reached yet). Errors are forwarded without a flush.
* Empty windows: with a clock, tumbling and sliding windows emit empty windows too
  (``emit_empty`` defaults to ``clock is not None``), so the series is regular from the
  window containing the subscription time. An empty window has ``count == 0``, a
  ``"count"`` aggregate of 0 and ``None`` for every other aggregate (never a made-up 0).
* ``weighting="time"`` (gauges): the value holds until the next item; time-weighted
  aggregates (mean, stddev, variance, quantiles) carry the held value into windows
  without items, and such windows are emitted (the gauge is defined there).
* Items are expected in time order (a simulation emits them so). An item earlier than
  an already-emitted window is dropped -- except before the first emission, where the
  window series re-anchors to the first item (so a cold replay of old items works).

Each window is a :class:`WindowResult` ``(start, end, count, values, partial)``; it also
has ``time`` (= ``end``) and ``value`` (the single aggregate's value) so windowed
streams can be piped into conditions: ``tumbling_window(1.0, "p99") | threshold(">", 0.5)``.

>>> import reactivex
>>> items = [(0.5, 1.0), (1.0, 3.0), (1.5, 5.0)]
>>> out = []
>>> reactivex.from_iterable(items).pipe(tumbling_window(1.0, aggregates=["mean", "max"])
... ).subscribe(out.append)                                    # doctest: +ELLIPSIS
<...>
>>> [(w.start, w.end, w.count, w.values) for w in out]
[(0.0, 1.0, 1, {'mean': 1.0, 'max': 1.0}), (1.0, 2.0, 2, {'mean': 4.0, 'max': 5.0})]
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
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

__all__ = ["WindowResult", "tumbling_window", "sliding_window", "session_window"]

AggSpec = str | Callable[[], Any]


class WindowResult(msgspec.Struct, frozen=True):
    """One closed window: ``[start, end)`` in simulated seconds, number of items,
    ``values`` = {aggregate name: result or None}, and ``partial`` (flushed on
    completion before simulated time reached ``end``).

    >>> w = WindowResult(0.0, 1.0, 2, {"mean": 1.5})
    >>> w.time, w.value, w["mean"]
    (1.0, 1.5, 1.5)
    """

    start: float
    end: float
    count: int
    values: dict[str, Any]
    partial: bool = False

    @property
    def time(self) -> float:
        """The window's end (when it was complete), for chaining into other operators."""
        return self.end

    @property
    def value(self) -> Any:
        """The aggregate's value when there is exactly one aggregate, else ``values``."""
        if len(self.values) == 1:
            return next(iter(self.values.values()))
        return self.values

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


# -- aggregator specs -------------------------------------------------------------------


def _resolve_aggs(
    aggregate: AggSpec | None,
    aggregates: Sequence[AggSpec] | None,
    weighting: str,
    agg_options: dict[str, Any] | None,
    default: Sequence[str] = ("mean",),
) -> list[tuple[str, Callable[[], Any]]]:
    """-> [(name, zero-arg factory)], validated eagerly (bad names fail at build time)."""
    if aggregate is not None and aggregates is not None:
        raise ValueError("give either aggregate= or aggregates=, not both")
    if aggregates is None:
        specs: list[AggSpec] = [aggregate] if aggregate is not None else list(default)
    elif isinstance(aggregates, str):
        specs = [aggregates]
    else:
        specs = list(aggregates)
    if weighting not in ("sample", "time"):
        raise ValueError(f"weighting must be 'sample' or 'time', got {weighting!r}")
    opts = dict(agg_options or {})
    out: list[tuple[str, Callable[[], Any]]] = []
    seen: set[str] = set()
    for spec in specs:
        if isinstance(spec, str):
            from operators.aggregators import aggregator_factory

            factory = aggregator_factory(spec, weighting=weighting, **opts)

            name = spec
        elif callable(spec):
            factory = spec
            name = getattr(spec, "name", None)
            if not isinstance(name, str):
                name = getattr(factory(), "name", None) or getattr(spec, "__name__", repr(spec))
        else:
            raise ValueError(
                f"aggregate must be a name like 'mean'/'p99' or a zero-argument factory "
                f"returning an Aggregator, got {spec!r}"
            )
        probe = factory()  # validates names now rather than at the first item
        for attr in ("add", "merge", "result"):
            if not callable(getattr(probe, attr, None)):
                raise TypeError(f"aggregator for {name!r} has no {attr}() method")
        if name in seen:
            raise ValueError(f"duplicate aggregate {name!r}")
        seen.add(name)
        out.append((name, factory))
    return out


def _is_time_weighted(agg: Any) -> bool:
    return getattr(agg, "weighting", "sample") == "time"


class _Pane:
    __slots__ = ("start", "count", "aggs", "last_v")

    def __init__(self, start: int, aggs: list[Any]) -> None:
        self.start = start
        self.count = 0
        self.aggs = aggs
        self.last_v: Any = None


# -- aligned (tumbling / sliding) windows ----------------------------------------------


class _AlignedWindows:
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
        self.tw_index = [i for i, a in enumerate(probe) if _is_time_weighted(a)]
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
        values = {n: a.result(s, e) for n, a in zip(self.names, aggs, strict=True)}
        self.emitted = True
        self.observer.on_next(WindowResult(s, to_seconds(end), count, values, partial))

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


def _aligned_operator(
    size: float,
    step: float,
    aggregate: AggSpec | None,
    aggregates: Sequence[AggSpec] | None,
    clock: Any,
    weighting: str,
    emit_empty: bool | None,
    time_of: TimeOf | None,
    value_of: ValueOf | None,
    agg_options: dict[str, Any] | None,
    default: Sequence[str] = ("mean",),
) -> Callable[[Observable[Any]], Observable[WindowResult]]:
    size_t = duration_ticks("size", size)
    step_t = duration_ticks("step", step)
    aggs = _resolve_aggs(aggregate, aggregates, weighting, agg_options, default)
    t_of, v_of = accessors(time_of, value_of)
    if clock is not None:
        resolve_clock(clock)  # validate now

    def operator(source: Observable[Any]) -> Observable[WindowResult]:
        def subscribe(
            observer: abc.ObserverBase[WindowResult], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            clk = resolve_clock(clock, scheduler)
            ee = (clk is not None) if emit_empty is None else bool(emit_empty)
            state = _AlignedWindows(observer, clk, size_t, step_t, aggs, ee, t_of, v_of)
            sub = source.subscribe(
                state.on_next, state.on_error, state.on_completed, scheduler=scheduler
            )
            return CompositeDisposable(sub, Disposable(state.cancel_timer))

        return reactivex.create(subscribe)

    return operator


def tumbling_window(
    size: float,
    aggregate: AggSpec | None = None,
    *,
    aggregates: Sequence[AggSpec] | None = None,
    clock: Any = None,
    weighting: str = "sample",
    emit_empty: bool | None = None,
    time_of: TimeOf | None = None,
    value_of: ValueOf | None = None,
    agg_options: dict[str, Any] | None = None,
) -> Callable[[Observable[Any]], Observable[WindowResult]]:
    """Fixed, non-overlapping windows ``[k*size, (k+1)*size)`` of simulated time.

    ``aggregate`` / ``aggregates``: names understood by
    :func:`operators.aggregators.make_aggregator` (``"mean"``, ``"p99"``, ``"rate"``...)
    or zero-argument factories returning an Aggregator; default ``"mean"``.
    ``clock``: a SimClock (see :mod:`operators.clock`) so windows close on time;
    ``weighting="time"`` for gauges; ``emit_empty`` defaults to ``clock is not None``;
    ``agg_options`` are passed to ``make_aggregator`` (e.g. ``{"exact": True}``).

    >>> import reactivex
    >>> out = []
    >>> _ = reactivex.of((0.0, 1), (2.0, 5), (2.5, 7)).pipe(tumbling_window(1.0, "sum")
    ...     ).subscribe(lambda w: out.append((w.start, w.count, w.value)))
    >>> out
    [(0.0, 1, 1.0), (2.0, 2, 12.0)]
    """
    return _aligned_operator(
        size, size, aggregate, aggregates, clock, weighting, emit_empty, time_of, value_of,
        agg_options,
    )


def sliding_window(
    size: float,
    step: float,
    aggregate: AggSpec | None = None,
    *,
    aggregates: Sequence[AggSpec] | None = None,
    clock: Any = None,
    weighting: str = "sample",
    emit_empty: bool | None = None,
    time_of: TimeOf | None = None,
    value_of: ValueOf | None = None,
    agg_options: dict[str, Any] | None = None,
) -> Callable[[Observable[Any]], Observable[WindowResult]]:
    """Overlapping windows ``[e - size, e)`` emitted every ``step`` (ends ``e = k*step``).

    Pane-based: items are aggregated once into panes of ``gcd(size, step)``; each window
    merges its ``size / gcd`` panes with the aggregators' ``merge``. State is bounded by
    the number of panes per window. Same options as :func:`tumbling_window`; windows
    that start before the first item (warm-up) are emitted like any other.

    >>> import reactivex
    >>> out = []
    >>> _ = reactivex.of((0.5, 1), (1.5, 3)).pipe(sliding_window(2.0, 1.0, "sum")
    ...     ).subscribe(lambda w: out.append((w.start, w.end, w.value)))
    >>> out
    [(-1.0, 1.0, 1.0), (0.0, 2.0, 4.0), (1.0, 3.0, 3.0)]
    """
    return _aligned_operator(
        size, step, aggregate, aggregates, clock, weighting, emit_empty, time_of, value_of,
        agg_options,
    )


# -- session windows --------------------------------------------------------------------


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
    aggs = _resolve_aggs(aggregate, aggregates, weighting, agg_options)
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
