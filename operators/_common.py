"""Shared plumbing for the operators: item accessors, integer ticks, validation, records.

Not public API: the public names are re-exported from :mod:`operators`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import msgspec

# the one conversion between ticks and seconds (re-exported for the operators)
from operators.simtime import TICKS_PER_SECOND  # noqa: F401
from operators.simtime import seconds as to_seconds  # noqa: F401  ticks -> seconds
from operators.simtime import ticks as to_ticks  # seconds -> the nearest tick

TimeOf = Callable[[Any], float]
ValueOf = Callable[[Any], Any]


def default_time_of(item: Any) -> float:
    """``item.time``; for a ``(t, v)`` tuple (or any sequence), ``item[0]``."""
    try:
        return item.time
    except AttributeError:
        return item[0]


def default_value_of(item: Any) -> Any:
    """``item.value``; for a ``(t, v)`` tuple (or any sequence), ``item[1]``."""
    try:
        return item.value
    except AttributeError:
        return item[1]


def accessors(time_of: TimeOf | None, value_of: ValueOf | None) -> tuple[TimeOf, ValueOf]:
    if time_of is not None and not callable(time_of):
        raise TypeError(f"time_of must be callable, got {type(time_of).__name__}")
    if value_of is not None and not callable(value_of):
        raise TypeError(f"value_of must be callable, got {type(value_of).__name__}")
    return (time_of or default_time_of, value_of or default_value_of)


def duration_ticks(name: str, seconds: float, *, allow_zero: bool = False) -> int:
    """Validate a duration in simulated seconds and convert it to ticks.

    Raises ``ValueError`` for NaN, infinite, negative, zero (unless ``allow_zero``) or
    sub-tick durations, and ``TypeError`` for non-numbers.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        # Accept Duration-like objects exposing to_seconds() without importing the engine.
        to_s = getattr(seconds, "to_seconds", None)
        if to_s is None:
            raise TypeError(f"{name} must be a number of simulated seconds, got {seconds!r}")
        seconds = to_s()
    seconds = float(seconds)
    if math.isnan(seconds) or math.isinf(seconds):
        raise ValueError(f"{name} must be a finite number of seconds, got {seconds!r}")
    ticks = to_ticks(seconds)
    if ticks < 0 or (ticks == 0 and not allow_zero):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be {kind} (at least 1 ns), got {seconds!r}")
    return ticks


class TimedValue(msgspec.Struct, frozen=True):
    """A derived scalar at a simulated time (output of rate, ewma, delta, derivative).

    It has ``time`` and ``value`` so it can be piped into any other operator with the
    default accessors, e.g. ``ops.rate(1.0) | ops.threshold("gt", 100)``.
    """

    time: float
    value: Any


Emit = Callable[[Any], None]


def per_subscription(make: Callable[[], Callable[[Any, Emit], None]]) -> Callable[[Any], Any]:
    """Build a pipeable operator from a factory of per-subscription step functions.

    ``make()`` is called once per subscription (fresh state, so re-subscribing replays
    deterministically) and returns ``step(item, emit)``. An exception raised by ``step``
    is forwarded to the observer's ``on_error``.
    """
    import reactivex

    def operator(source: Any) -> Any:
        def subscribe(observer: Any, scheduler: Any = None) -> Any:
            step = make()
            emit = observer.on_next

            def on_next(item: Any) -> None:
                try:
                    step(item, emit)
                except Exception as exc:  # noqa: BLE001 - forwarded like reactivex's map
                    observer.on_error(exc)

            return source.subscribe(
                on_next, observer.on_error, observer.on_completed, scheduler=scheduler
            )

        return reactivex.create(subscribe)

    return operator


def check_finite(name: str, x: Any) -> float:
    """A finite float, or ValueError naming ``name`` (NaN/inf/non-numbers rejected)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError(f"{name} must be a number, got {x!r}")
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    return x
