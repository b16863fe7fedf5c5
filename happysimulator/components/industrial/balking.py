"""``BalkingQueue``: a waiting line that arrivals refuse to join when it is long.

A queue policy wrapping another (FIFO, LIFO, ...): an arrival that finds
``balk_threshold`` or more waiting leaves with probability ``balk_probability``. Used as a
`QueuedResource`'s ``policy``, a balk counts as a ``dropped`` arrival of the resource and
in its ``balked`` counter::

    teller = Teller("Teller", policy=BalkingQueue(FIFOQueue(), balk_threshold=5))

With ``balk_threshold`` equal to the room in the line and ``balk_probability=1`` it is
the M/M/c/K loss system (Erlang B when no one may wait).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from happysimulator.components.industrial._common import RecordsUnderOwner, check_count
from happysimulator.components.queue_policy import QueuePolicy
from happysimulator.core.observed import counter


class BalkingQueue(RecordsUnderOwner, QueuePolicy):
    """Refuses an arrival with probability `balk_probability` when `balk_threshold` or
    more items wait; otherwise delegates to `inner`. ``push`` returns False on a balk."""

    observed_series = (
        counter("balked", "arrivals", "arrivals that saw a long line and left"),
    )

    def __init__(self, inner: Any, balk_threshold: int = 5,
                 balk_probability: float = 1.0) -> None:
        if not 0.0 <= balk_probability <= 1.0:
            raise ValueError(
                f"balk_probability must be in [0.0, 1.0], got {balk_probability!r}")
        check_count("balk_threshold", balk_threshold, 0)
        self._inner = inner
        self.balk_threshold = balk_threshold
        self.balk_probability = balk_probability
        self.balked = 0

    @property
    def inner(self) -> Any:
        """The wrapped policy."""
        return self._inner

    @property
    def capacity(self) -> Any:
        return getattr(self._inner, "capacity", None)

    def attach(self, owner: Any, pairs: bool = True) -> BalkingQueue:
        """Let `owner` (a `QueuedResource`) hold this line: balks are counted under the
        owner's name and drawn from its simulation's random stream. Returns the line."""
        if self._owner is not None and self._owner is not owner:
            raise ValueError(f"this BalkingQueue already belongs to {self._owner.name!r}; "
                             "give each resource its own")
        self.bind_owner(owner)
        return self

    def push(self, item: Any) -> bool:
        """Add `item`, or refuse it (False) if the line is long and the arrival balks
        (or the inner policy's ``capacity`` is reached)."""
        cap = self.capacity
        if cap is not None and cap != float("inf") and len(self._inner) >= cap:
            return False
        p = self.balk_probability
        if len(self._inner) >= self.balk_threshold and p > 0.0 and (
                p >= 1.0 or self._rng().random() < p):
            self.balked += 1
            self.increment("balked")
            return False
        return self._inner.push(item) is not False

    def pop(self) -> Any:
        return self._inner.pop()

    def peek(self) -> Any:
        return self._inner.peek()

    def is_empty(self) -> bool:
        return len(self._inner) == 0

    def remove(self, item: Any) -> None:
        """Take `item` out of the line (a waiting customer who reneges)."""
        remove = getattr(self._inner, "remove", None)
        if remove is None:
            raise TypeError(f"the inner policy {type(self._inner).__name__} has no remove()")
        remove(item)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._inner)

    def __len__(self) -> int:
        return len(self._inner)

    def __bool__(self) -> bool:
        return len(self._inner) > 0


__all__ = ["BalkingQueue"]
