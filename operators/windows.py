"""Windows on *simulated* time: tumbling, sliding (pane-based) and session windows.

Semantics (shared by all window operators)
-----------------------------------------
* Time is an item's ``time_of(item)`` (default ``item.time``, or ``item[0]`` for tuples)
  in float simulated seconds, quantized to integer ticks of 1 ns (the nearest tick,
  ``operators.simtime.ticks``; a tick back to seconds is the correctly rounded float,
  ``operators.simtime.seconds``). All boundary arithmetic is on integer ticks, so there is no
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

from collections.abc import Callable, Sequence
from typing import Any

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable

from operators._common import TimeOf, ValueOf, accessors, duration_ticks
from operators.aligned_windows import AlignedWindows
from operators.clock import resolve_clock
from operators.session_windows import session_window
from operators.tumbling import TumblingWindows
from operators.window_result import WindowResult
from operators.window_specs import AggSpec, is_time_weighted, resolve_aggregates

__all__ = ["WindowResult", "tumbling_window", "sliding_window", "session_window", "AggSpec"]


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
    fast: bool = True,
) -> Callable[[Observable[Any]], Observable[WindowResult]]:
    """The tumbling/sliding operator; ``fast=False`` keeps tumbling windows on the
    general pane-based state (the reference the fast one is tested against)."""
    size_t = duration_ticks("size", size)
    step_t = duration_ticks("step", step)
    aggs = resolve_aggregates(aggregate, aggregates, weighting, agg_options, default)
    t_of, v_of = accessors(time_of, value_of)
    if clock is not None:
        resolve_clock(clock)  # validate now
    # tumbling windows of samples (the live common case) have a lean state of their own
    tumbling = step_t == size_t and not any(is_time_weighted(f()) for _, f in aggs)

    def operator(source: Observable[Any]) -> Observable[WindowResult]:
        def subscribe(
            observer: abc.ObserverBase[WindowResult], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            clk = resolve_clock(clock, scheduler)
            ee = (clk is not None) if emit_empty is None else bool(emit_empty)
            state: TumblingWindows | AlignedWindows
            if tumbling and fast:
                state = TumblingWindows(observer, clk, size_t, aggs, ee, t_of, v_of)
            else:
                state = AlignedWindows(observer, clk, size_t, step_t, aggs, ee, t_of, v_of)
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
