"""``@simulatable``: make a plain class (no ``Entity`` base) a simulation participant."""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from happysimulator.core.temporal import Instant

T = TypeVar("T")


def simulatable(cls: type[T]) -> type[T]:
    """Add ``set_clock(clock)``, a ``now`` property and (if missing) ``has_capacity``.

    The class must set ``name`` and define ``handle_event(event)``. ``Simulation``
    calls ``set_clock`` with itself (anything with a ``now`` Instant works, e.g. a
    ``Clock``); reading ``now`` before that is an error.
    """
    original_init = cls.__init__

    @functools.wraps(original_init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self._clock = None

    def set_clock(self: Any, clock: Any) -> None:
        self._clock = clock

    def now(self: Any) -> Instant:
        clock = getattr(self, "_clock", None)
        if clock is None:
            name = getattr(self, "name", type(self).__name__)
            raise RuntimeError(
                f"{name} is not attached to a simulation (no clock); register it with "
                "Simulation(entities=[...])")
        return clock.now

    cls.__init__ = __init__  # type: ignore[misc]
    cls.set_clock = set_clock  # type: ignore[attr-defined]
    cls.now = property(now)  # type: ignore[attr-defined]
    if not hasattr(cls, "has_capacity"):
        cls.has_capacity = lambda self: True  # type: ignore[attr-defined]
    return cls


__all__ = ["simulatable"]
