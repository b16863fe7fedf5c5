"""``SimFuture``: a value a generator handler can ``yield`` on until it is resolved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class SimFuture:
    """Resolved once with ``resolve(value)``; processes yielding it resume with ``value``.

    A second ``resolve`` is ignored (the first value wins), so a reply and a timeout may
    both try to settle the same future.
    """

    __slots__ = ("_resolved", "_value", "_waiters", "_callbacks", "_settle", "name")

    def __init__(self, name: str | None = None) -> None:
        self._resolved = False
        self._value: Any = None
        self._waiters: list[Any] = []
        self._callbacks: list[Callable[[Any], Any]] = []
        self._settle: list[Callable[[SimFuture], Any]] = []
        self.name = name

    @property
    def is_resolved(self) -> bool:
        return self._resolved

    def done(self) -> bool:
        return self._resolved

    @property
    def value(self) -> Any:
        if not self._resolved:
            raise RuntimeError("SimFuture has not been resolved yet")
        return self._value

    def resolve(self, value: Any = None) -> None:
        """Set the value and wake every waiting process (at the current simulated time);
        a no-op if already resolved."""
        if self._resolved:
            return
        self._resolved = True
        self._value = value
        self._fire_callbacks()

    def _fire_callbacks(self) -> None:
        value = self._value
        waiters, self._waiters = self._waiters, []
        for w in waiters:
            w._wake(value)
        callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb(value)
        settle, self._settle = self._settle, []
        for fn in settle:
            fn(self)

    def add_done_callback(self, fn: Callable[[Any], Any]) -> None:
        """Call ``fn(value)`` when resolved (immediately if already resolved)."""
        if self._resolved:
            fn(self._value)
        else:
            self._callbacks.append(fn)

    def _add_settle_callback(self, fn: Callable[[SimFuture], Any]) -> None:
        """Call ``fn(future)`` when resolved (immediately if already resolved)."""
        if self._resolved:
            fn(self)
        else:
            self._settle.append(fn)

    def _add_waiter(self, process: Any) -> None:
        if self._resolved:
            process._wake(self._value)
        else:
            self._waiters.append(process)

    @staticmethod
    def any_of(*futures: SimFuture) -> SimFuture:
        """Resolves with ``(index, value)`` of the first of ``futures`` to resolve."""
        return _any_of(_flatten(futures))

    @staticmethod
    def all_of(*futures: SimFuture) -> SimFuture:
        """Resolves with the list of values once every one of ``futures`` resolved."""
        return _all_of(_flatten(futures))

    def __repr__(self) -> str:
        state = f"resolved={self._value!r}" if self._resolved else "pending"
        label = f"{self.name}, " if self.name else ""
        return f"SimFuture({label}{state})"


def _any_of(futures: list[SimFuture]) -> SimFuture:
    out = SimFuture("any_of")
    for i, f in enumerate(futures):

        def settled(f: SimFuture, i: int = i) -> None:
            out.resolve((i, f._value))  # later ones are ignored: first wins

        f._add_settle_callback(settled)
        if out._resolved:
            break
    return out


def _all_of(futures: list[SimFuture]) -> SimFuture:
    out = SimFuture("all_of")
    if not futures:
        out.resolve([])
        return out
    values: list[Any] = [None] * len(futures)
    remaining = [len(futures)]
    for i, f in enumerate(futures):

        def settled(f: SimFuture, i: int = i) -> None:
            values[i] = f._value
            remaining[0] -= 1
            if remaining[0] == 0:
                out.resolve(values)

        f._add_settle_callback(settled)
    return out


def any_of(*futures: SimFuture) -> SimFuture:
    """Resolves with ``(index, value)`` of the first of two or more futures to resolve."""
    if len(futures) < 2:
        raise ValueError(f"any_of needs at least 2 futures, got {len(futures)}")
    return _any_of(list(futures))


def all_of(*futures: SimFuture) -> SimFuture:
    """Resolves with the values (in argument order) once two or more futures resolved."""
    if len(futures) < 2:
        raise ValueError(f"all_of needs at least 2 futures, got {len(futures)}")
    return _all_of(list(futures))


def _flatten(futures: tuple) -> list[SimFuture]:
    if len(futures) == 1 and isinstance(futures[0], (list, tuple)):
        return list(futures[0])
    return list(futures)


__all__ = ["SimFuture", "all_of", "any_of"]
