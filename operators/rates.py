"""Rates and smoothing in simulated time: rate, ewma, delta, derivative, time_weighted.

``rate`` and ``time_weighted`` are windowed (they emit :class:`WindowResult`, whose
``.value``/``.time`` make them chainable); ``ewma``, ``delta`` and ``derivative`` emit
one :class:`TimedValue` ``(time, value)`` per input item (except where noted).

>>> import reactivex
>>> out = []
>>> _ = reactivex.of((0.0, 10.0), (1.0, 0.0)).pipe(ewma(halflife=1.0)
...     ).subscribe(lambda x: out.append(x.value))
>>> out                          # half of the gap closed after one half-life
[10.0, 5.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from reactivex import Observable

from operators._common import (
    Emit,
    TimedValue,
    TimeOf,
    ValueOf,
    accessors,
    check_finite,
    duration_ticks,
    per_subscription,
)
from operators.windows import AggSpec, WindowResult, tumbling_window

__all__ = ["rate", "ewma", "delta", "derivative", "time_weighted"]


def rate(
    window: float,
    *,
    of: str = "count",
    clock: Any = None,
    emit_empty: bool | None = None,
    time_of: TimeOf | None = None,
    value_of: ValueOf | None = None,
) -> Callable[[Observable[Any]], Observable[WindowResult]]:
    """Events (``of="count"``) or summed values (``of="sum"``, e.g. counter increments)
    per simulated second, over tumbling windows of ``window`` seconds.

    Emits a :class:`WindowResult` with ``values == {"rate": r}`` (``.value`` is ``r``).
    An empty window's rate is ``0.0`` (zero events per second is a real answer). A
    window flushed on completion (``partial=True``) divides by the elapsed part only.

    >>> import reactivex
    >>> out = []
    >>> _ = reactivex.of(*[(i * 0.25, 1) for i in range(8)]).pipe(rate(1.0)
    ...     ).subscribe(lambda w: out.append((w.end, w.value)))
    >>> out[0]
    (1.0, 4.0)
    """
    if of not in ("count", "sum"):
        raise ValueError(f"of must be 'count' or 'sum', got {of!r}")
    return tumbling_window(
        window,
        "rate",
        clock=clock,
        emit_empty=emit_empty,
        time_of=time_of,
        value_of=value_of,
        agg_options={"rate_of": of},
    )


def time_weighted(
    window: float,
    aggregate: AggSpec | None = None,
    *,
    aggregates: Sequence[AggSpec] | None = None,
    clock: Any = None,
    emit_empty: bool | None = None,
    time_of: TimeOf | None = None,
    value_of: ValueOf | None = None,
) -> Callable[[Observable[Any]], Observable[WindowResult]]:
    """Time-weighted aggregates of a *gauge* over tumbling windows (default ``"mean"``).

    Each item means "the gauge became ``value`` at ``time``"; the value holds until the
    next item, also across window boundaries. ``mean``/``stddev``/``variance``/``pNN``
    are weighted by holding time; a window with no change but a held value is emitted
    (``count == 0``, mean = the held value). The part of a window before the very first
    item is not covered (the gauge is undefined there).

    >>> import reactivex
    >>> out = []
    >>> _ = reactivex.of((0.0, 0.0), (0.5, 10.0), (1.5, 0.0)).pipe(time_weighted(1.0)
    ...     ).subscribe(lambda w: out.append((w.start, w.value)))
    >>> out     # [0,1): 0 for .5 s then 10 for .5 s; [1,2) is flushed at completion
    [(0.0, 5.0), (1.0, 10.0)]

    The last window is partial: without a clock, time is only known up to the last
    item (1.5 s), so [1.0, 1.5) held 10. With a clock it would cover up to ``now()``.
    """
    return tumbling_window(
        window,
        aggregate,
        aggregates=aggregates,
        clock=clock,
        weighting="time",
        emit_empty=emit_empty,
        time_of=time_of,
        value_of=value_of,
    )


def ewma(
    alpha: float | None = None,
    *,
    halflife: float | None = None,
    time_of: TimeOf | None = None,
    value_of: ValueOf | None = None,
) -> Callable[[Observable[Any]], Observable[TimedValue]]:
    """Exponentially weighted moving average, one :class:`TimedValue` per item.

    Give exactly one of ``alpha`` (per item, in (0, 1]: ``s += alpha * (v - s)``) or
    ``halflife`` (simulated seconds: ``alpha = 1 - 0.5 ** (dt / halflife)`` with ``dt``
    the time since the previous item, so irregular sampling is handled). The first item
    initializes the average. ``None`` values are skipped.

    >>> import reactivex
    >>> out = []
    >>> _ = reactivex.of((0, 0.0), (1, 8.0), (2, 8.0)).pipe(ewma(0.5)
    ...     ).subscribe(lambda x: out.append(x.value))
    >>> out
    [0.0, 4.0, 6.0]
    """
    if (alpha is None) == (halflife is None):
        raise ValueError("give exactly one of alpha= or halflife=")
    a = hl = 0.0
    if alpha is not None:
        a = check_finite("alpha", alpha)
        if not 0.0 < a <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
    else:
        duration_ticks("halflife", halflife)
        hl = float(halflife)  # type: ignore[arg-type]
    t_of, v_of = accessors(time_of, value_of)

    def make() -> Callable[[Any, Emit], None]:
        s: float | None = None
        prev_t = 0.0

        def step(item: Any, emit: Emit) -> None:
            nonlocal s, prev_t
            v = v_of(item)
            if v is None:
                return
            t = t_of(item)
            if s is None:
                s = float(v)
            else:
                if alpha is not None:
                    w = a
                else:
                    dt = t - prev_t
                    w = 1.0 - math.pow(0.5, dt / hl) if dt > 0 else 0.0
                s += w * (v - s)
            prev_t = t
            emit(TimedValue(t, s))

        return step

    return per_subscription(make)


def delta(
    *, time_of: TimeOf | None = None, value_of: ValueOf | None = None
) -> Callable[[Observable[Any]], Observable[TimedValue]]:
    """``value - previous value`` from the second item on (e.g. counter increments).

    >>> import reactivex
    >>> out = []
    >>> _ = reactivex.of((0, 1), (1, 4), (2, 9)).pipe(delta()).subscribe(
    ...     lambda x: out.append((x.time, x.value)))
    >>> out
    [(1, 3), (2, 5)]
    """
    t_of, v_of = accessors(time_of, value_of)

    def make() -> Callable[[Any, Emit], None]:
        prev: list[Any] = []

        def step(item: Any, emit: Emit) -> None:
            v = v_of(item)
            if v is None:
                return
            if prev:
                emit(TimedValue(t_of(item), v - prev[0]))
                prev[0] = v
            else:
                prev.append(v)

        return step

    return per_subscription(make)


def derivative(
    *, time_of: TimeOf | None = None, value_of: ValueOf | None = None
) -> Callable[[Observable[Any]], Observable[TimedValue]]:
    """Rate of change per simulated second: ``(v - v_prev) / (t - t_prev)``.

    Emits from the second item on; an item at the same time as the previous one
    (``dt <= 0``) emits nothing but becomes the new reference point.

    >>> import reactivex
    >>> out = []
    >>> _ = reactivex.of((0.0, 0.0), (2.0, 10.0), (2.0, 12.0), (4.0, 12.0)).pipe(
    ...     derivative()).subscribe(lambda x: out.append((x.time, x.value)))
    >>> out
    [(2.0, 5.0), (4.0, 0.0)]
    """
    t_of, v_of = accessors(time_of, value_of)

    def make() -> Callable[[Any, Emit], None]:
        prev: list[Any] = []

        def step(item: Any, emit: Emit) -> None:
            v = v_of(item)
            if v is None:
                return
            t = t_of(item)
            if prev:
                dt = t - prev[0]
                if dt > 0:
                    emit(TimedValue(t, (v - prev[1]) / dt))
                prev[0], prev[1] = t, v
            else:
                prev.extend((t, v))

        return step

    return per_subscription(make)
