"""Concurrency models: how many requests (or how much weight) a server admits at once.

``FixedConcurrency(n)``, ``DynamicConcurrency(initial, min_limit, max_limit)`` (the limit
changes at run time: autoscaling) and ``WeightedConcurrency(total_capacity)`` (requests
take different amounts of capacity). ``Server(concurrency=model)`` accepts any of them;
a server uses the model's ``limit`` as its concurrency and follows changes to it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable


@runtime_checkable
class ConcurrencyModel(Protocol):
    def acquire(self, weight: int = 1) -> bool: ...

    def release(self, weight: int = 1) -> None: ...

    def has_capacity(self, weight: int = 1) -> bool: ...

    @property
    def available(self) -> int: ...

    @property
    def active(self) -> int: ...

    @property
    def limit(self) -> int: ...


def _weight(weight: int) -> int:
    if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
        raise ValueError(f"weight must be an int >= 1, got {weight!r}")
    return weight


class _Slots:
    """Shared bookkeeping: ``active`` units in use out of ``limit``."""

    def __init__(self) -> None:
        self._active = 0
        self._listeners: list[Callable[[int], None]] = []

    @property
    def limit(self) -> int:
        raise NotImplementedError

    @property
    def active(self) -> int:
        return self._active

    @property
    def available(self) -> int:
        return max(0, self.limit - self._active)

    def has_capacity(self, weight: int = 1) -> bool:
        return self._active + _weight(weight) <= self.limit

    def acquire(self, weight: int = 1) -> bool:
        """Take ``weight`` units if they are free; False (nothing taken) otherwise."""
        w = _weight(weight)
        if self._active + w > self.limit:
            return False
        self._active += w
        return True

    def release(self, weight: int = 1) -> None:
        """Give back ``weight`` units; releasing more than was acquired is an error."""
        w = _weight(weight)
        if w > self._active:
            raise ValueError(
                f"release({w}) with only {self._active} acquired: a release without its "
                "acquire (happysim 0.2.5 silently ignored this)")
        self._active -= w

    def _on_limit_change(self, fn: Callable[[int], None]) -> None:
        self._listeners.append(fn)

    def _notify(self) -> None:
        for fn in list(self._listeners):
            fn(self.limit)


class FixedConcurrency(_Slots):
    """At most ``max_concurrent`` requests at once."""

    def __init__(self, max_concurrent: int) -> None:
        super().__init__()
        if isinstance(max_concurrent, bool) or not isinstance(max_concurrent, int) \
                or max_concurrent < 1:
            raise ValueError(f"max_concurrent must be an int >= 1, got {max_concurrent!r}")
        self._limit = max_concurrent

    @property
    def limit(self) -> int:
        return self._limit

    def __repr__(self) -> str:
        return f"FixedConcurrency({self._limit}, active={self._active})"


class DynamicConcurrency(_Slots):
    """A limit that can change at run time, clamped to ``[min_limit, max_limit]``.

    Lowering it below ``active`` stops admissions until enough requests finish; nothing
    in progress is interrupted.
    """

    def __init__(self, initial: int, min_limit: int = 1, max_limit: int | None = None) -> None:
        super().__init__()
        if min_limit < 1:
            raise ValueError(f"min_limit must be >= 1, got {min_limit}")
        if max_limit is not None and max_limit < min_limit:
            raise ValueError(f"max_limit ({max_limit}) must be >= min_limit ({min_limit})")
        if initial < min_limit or (max_limit is not None and initial > max_limit):
            raise ValueError(
                f"initial ({initial}) must be in [min_limit, max_limit] = "
                f"[{min_limit}, {max_limit if max_limit is not None else 'unbounded'}]")
        self._limit = initial
        self._min = min_limit
        self._max = max_limit

    @property
    def limit(self) -> int:
        return self._limit

    current_limit = limit

    @property
    def min_limit(self) -> int:
        return self._min

    @property
    def max_limit(self) -> int | None:
        return self._max

    def set_limit(self, new_limit: int) -> None:
        """Set the limit (clamped to the bounds)."""
        limit = max(self._min, int(new_limit))
        if self._max is not None:
            limit = min(self._max, limit)
        if limit != self._limit:
            self._limit = limit
            self._notify()

    def scale_up(self, amount: int = 1) -> None:
        self.set_limit(self._limit + amount)

    def scale_down(self, amount: int = 1) -> None:
        self.set_limit(self._limit - amount)

    def __repr__(self) -> str:
        return (f"DynamicConcurrency(limit={self._limit}, bounds=[{self._min}, {self._max}], "
                f"active={self._active})")


class WeightedConcurrency(_Slots):
    """``total_capacity`` units shared by requests of different weights."""

    def __init__(self, total_capacity: int) -> None:
        super().__init__()
        if isinstance(total_capacity, bool) or not isinstance(total_capacity, int) \
                or total_capacity < 1:
            raise ValueError(f"total_capacity must be an int >= 1, got {total_capacity!r}")
        self._total = total_capacity

    @property
    def limit(self) -> int:
        return self._total

    @property
    def total_capacity(self) -> int:
        return self._total

    @property
    def utilization(self) -> float:
        """Fraction of the capacity in use."""
        return self._active / self._total

    def __repr__(self) -> str:
        return f"WeightedConcurrency({self._total}, active={self._active})"


__all__ = [
    "ConcurrencyModel",
    "DynamicConcurrency",
    "FixedConcurrency",
    "WeightedConcurrency",
]
