"""What a window operator emits: :class:`WindowResult`."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["WindowResult"]


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
