"""Deterministic sampling: every_nth, sample_probability (seeded), per_interval.

>>> import reactivex
>>> out = []
>>> _ = reactivex.from_iterable(range(7)).pipe(every_nth(3)).subscribe(out.append)
>>> out
[0, 3, 6]
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from reactivex import Observable

from operators._common import (
    Emit,
    TimeOf,
    accessors,
    check_finite,
    duration_ticks,
    per_subscription,
    to_ticks,
)

__all__ = ["every_nth", "sample_probability", "per_interval"]


def every_nth(n: int, *, offset: int = 0) -> Callable[[Observable[Any]], Observable[Any]]:
    """Pass items number ``offset, offset + n, offset + 2n, ...`` (0-based), i.e. by
    default the first item and then every ``n``-th one.

    >>> import reactivex
    >>> out = []
    >>> _ = reactivex.from_iterable(range(7)).pipe(every_nth(3, offset=2)).subscribe(out.append)
    >>> out
    [2, 5]
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset < n:
        raise ValueError(f"offset must be an integer in [0, n), got {offset!r}")

    def make() -> Callable[[Any, Emit], None]:
        i = -offset

        def step(item: Any, emit: Emit) -> None:
            nonlocal i
            if i % n == 0 and i >= 0:
                emit(item)
            i += 1

        return step

    return per_subscription(make)


def sample_probability(
    p: float, seed: int | None = None
) -> Callable[[Observable[Any]], Observable[Any]]:
    """Pass each item independently with probability ``p`` (Bernoulli sampling).

    Every subscription draws from its own ``random.Random(seed)`` (never the global
    RNG), so the same seed and input give the same sample, run after run. With
    ``seed=None`` the stream is not reproducible.

    >>> import reactivex
    >>> a, b = [], []
    >>> _ = reactivex.from_iterable(range(100)).pipe(sample_probability(0.2, seed=7)).subscribe(a.append)
    >>> _ = reactivex.from_iterable(range(100)).pipe(sample_probability(0.2, seed=7)).subscribe(b.append)
    >>> a == b and 0 < len(a) < 100
    True
    """
    prob = check_finite("p", p)
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got {p!r}")

    def make() -> Callable[[Any, Emit], None]:
        rnd = random.Random(seed).random

        def step(item: Any, emit: Emit) -> None:
            if rnd() < prob:
                emit(item)

        return step

    return per_subscription(make)


def per_interval(
    seconds: float, *, time_of: TimeOf | None = None
) -> Callable[[Observable[Any]], Observable[Any]]:
    """Pass the first item of each simulated-time interval ``[k*seconds, (k+1)*seconds)``
    (aligned to multiples of ``seconds`` from 0, on integer ticks like the windows).

    >>> import reactivex
    >>> out = []
    >>> _ = reactivex.of((0.1, "a"), (0.9, "b"), (1.0, "c"), (3.5, "d")).pipe(
    ...     per_interval(1.0)).subscribe(lambda x: out.append(x[1]))
    >>> out
    ['a', 'c', 'd']
    """
    size = duration_ticks("seconds", seconds)
    t_of, _ = accessors(time_of, None)

    def make() -> Callable[[Any, Emit], None]:
        last: int | None = None

        def step(item: Any, emit: Emit) -> None:
            nonlocal last
            k = to_ticks(t_of(item)) // size
            if last is None or k > last:
                last = k
                emit(item)

        return step

    return per_subscription(make)
