"""``History``: the most recent entries of a per-request record, so a long run's memory
stays flat.

The rate limiters keep, as happysim 0.2.5 did, the times requests arrived, passed and
were refused (``received_times``, ...) for plots and tests. 0.2.5 kept every one, so a
limiter's memory grew with the run. Here each is a `History`: it reads like the list it
was (``len``, iteration, indexing, slices) but holds only the newest ``limit`` entries
(`HISTORY_LIMIT` unless the component is given ``history_limit``; None keeps all) and
says how many older ones it let go (``discarded``). The whole run's counts are in the
component's ``stats`` and its series::

    limiter = RateLimitedEntity("rl", server, TokenBucketPolicy(10, 5), history_limit=1000)
    ...
    len(limiter.received_times)        # <= 1000: the newest arrivals
    limiter.received_times.discarded   # arrivals before those
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar, overload

T = TypeVar("T")

#: entries a `History` keeps by default (per record, per component)
HISTORY_LIMIT = 100_000


def check_limit(limit: int | None) -> int | None:
    """``limit`` if it is None or an int >= 1; else a ValueError naming the choices."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit < 1):
        raise ValueError(f"history_limit must be an int >= 1 or None (keep all), got {limit!r}")
    return limit


class History(Sequence[T]):
    """The newest ``limit`` entries appended (all of them if ``limit`` is None), oldest
    first; ``discarded`` counts the older entries no longer kept."""

    __slots__ = ("_items", "discarded")

    def __init__(self, limit: int | None = HISTORY_LIMIT) -> None:
        self._items: deque[T] = deque(maxlen=check_limit(limit))
        self.discarded = 0

    @property
    def limit(self) -> int | None:
        """The most entries kept (None: all)."""
        return self._items.maxlen

    @property
    def total(self) -> int:
        """Entries ever appended (kept + discarded)."""
        return self.discarded + len(self._items)

    def append(self, item: T) -> None:
        items = self._items
        if len(items) == items.maxlen:
            self.discarded += 1
        items.append(item)

    def clear(self) -> None:
        """Forget every entry (``discarded`` too)."""
        self._items.clear()
        self.discarded = 0

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return list(self._items)[index]
        return self._items[index]

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, History):
            return self.discarded == other.discarded and list(self) == list(other)
        if isinstance(other, list | tuple):
            return self.discarded == 0 and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  (mutable, like a list)

    def __repr__(self) -> str:
        more = f", {self.discarded} older discarded" if self.discarded else ""
        return f"History({list(self._items)!r}{more})"


__all__ = ["HISTORY_LIMIT", "History", "check_limit"]
