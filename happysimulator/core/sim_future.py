"""``SimFuture``: a value a generator handler can ``yield`` on until it is resolved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_PENDING = object()


class SimFuture:
    """Resolved once with ``resolve(value)``; processes yielding it resume with ``value``."""

    __slots__ = ("_value", "_waiters", "_callbacks", "name")

    def __init__(self, name: str | None = None) -> None:
        self._value: Any = _PENDING
        self._waiters: list[Any] = []
        self._callbacks: list[Callable[[Any], Any]] = []
        self.name = name

    @property
    def is_resolved(self) -> bool:
        return self._value is not _PENDING

    def done(self) -> bool:
        return self._value is not _PENDING

    @property
    def value(self) -> Any:
        if self._value is _PENDING:
            raise RuntimeError("SimFuture is not resolved yet")
        return self._value

    def resolve(self, value: Any = None) -> None:
        """Set the value and wake every waiting process (at the current simulated time)."""
        if self._value is not _PENDING:
            raise RuntimeError("SimFuture already resolved")
        self._value = value
        waiters, self._waiters = self._waiters, []
        for w in waiters:
            w._wake(value)
        callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb(value)

    def add_done_callback(self, fn: Callable[[Any], Any]) -> None:
        """Call ``fn(value)`` when resolved (immediately if already resolved)."""
        if self._value is not _PENDING:
            fn(self._value)
        else:
            self._callbacks.append(fn)

    def _add_waiter(self, process: Any) -> None:
        if self._value is not _PENDING:
            process._wake(self._value)
        else:
            self._waiters.append(process)

    @staticmethod
    def any_of(*futures: SimFuture) -> SimFuture:
        """Resolves with ``(index, value)`` of the first of ``futures`` to resolve."""
        futures = _flatten(futures)
        out = SimFuture("any_of")
        for i, f in enumerate(futures):

            def cb(v: Any, i: int = i) -> None:
                if not out.is_resolved:
                    out.resolve((i, v))

            f.add_done_callback(cb)
        return out

    @staticmethod
    def all_of(*futures: SimFuture) -> SimFuture:
        """Resolves with the list of values once every one of ``futures`` resolved."""
        futures = _flatten(futures)
        out = SimFuture("all_of")
        values: list[Any] = [None] * len(futures)
        remaining = [len(futures)]
        if not futures:
            out.resolve([])
            return out
        for i, f in enumerate(futures):

            def cb(v: Any, i: int = i) -> None:
                values[i] = v
                remaining[0] -= 1
                if remaining[0] == 0:
                    out.resolve(values)

            f.add_done_callback(cb)
        return out

    def __repr__(self) -> str:
        state = "pending" if self._value is _PENDING else f"resolved={self._value!r}"
        return f"<SimFuture {self.name or ''} {state}>"


def _flatten(futures: tuple) -> list[SimFuture]:
    if len(futures) == 1 and isinstance(futures[0], (list, tuple)):
        return list(futures[0])
    return list(futures)


__all__ = ["SimFuture"]
