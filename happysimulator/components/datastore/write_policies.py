"""Cache write policies: when a write reaches the backing store."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable
from typing import Any


class WritePolicy(ABC):
    """Interface: whether writes go through at once, and which dirty keys to flush."""

    @abstractmethod
    def should_write_through(self) -> bool:
        """True: each write reaches the backing store before it completes."""

    @abstractmethod
    def on_write(self, key: Hashable, value: Any) -> None:
        """A write of `key` happened."""

    @abstractmethod
    def should_flush(self) -> bool:
        """Whether the dirty keys should be flushed now."""

    @abstractmethod
    def get_keys_to_flush(self) -> list[Hashable]:
        """The keys a flush writes back."""

    @abstractmethod
    def on_flush(self, keys: list[Hashable]) -> None:
        """`keys` were written back."""


class WriteThrough(WritePolicy):
    """Every write goes to the backing store at once (nothing is ever dirty)."""

    def should_write_through(self) -> bool:
        return True

    def on_write(self, key: Hashable, value: Any) -> None:
        pass

    def should_flush(self) -> bool:
        return False

    def get_keys_to_flush(self) -> list[Hashable]:
        return []

    def on_flush(self, keys: list[Hashable]) -> None:
        pass

    def __eq__(self, other: object) -> bool:
        return type(other) is WriteThrough

    def __hash__(self) -> int:
        return hash(WriteThrough)

    def __repr__(self) -> str:
        return "WriteThrough()"


class WriteBack(WritePolicy):
    """Writes stay in the cache (dirty) until flushed: when ``max_dirty`` keys are
    dirty, or every ``flush_interval`` seconds if the owner flushes periodically."""

    def __init__(self, flush_interval: float = 1.0, max_dirty: int = 100) -> None:
        if not flush_interval > 0:
            raise ValueError(f"flush_interval must be > 0 seconds, got {flush_interval!r}")
        if max_dirty < 1:
            raise ValueError(f"max_dirty must be >= 1, got {max_dirty!r}")
        self._flush_interval = flush_interval
        self._max_dirty = max_dirty
        self._dirty: dict[Hashable, None] = {}  # (in write order)

    @property
    def flush_interval(self) -> float:
        return self._flush_interval

    @property
    def max_dirty(self) -> int:
        return self._max_dirty

    @property
    def dirty_count(self) -> int:
        return len(self._dirty)

    def should_write_through(self) -> bool:
        return False

    def on_write(self, key: Hashable, value: Any) -> None:
        self._dirty[key] = None

    def should_flush(self) -> bool:
        return len(self._dirty) >= self._max_dirty

    def get_keys_to_flush(self) -> list[Hashable]:
        return list(self._dirty)

    def on_flush(self, keys: list[Hashable]) -> None:
        for key in keys:
            self._dirty.pop(key, None)


class WriteAround(WritePolicy):
    """Writes go to the backing store and invalidate the cached copy (the cache is
    filled by reads only)."""

    def __init__(self) -> None:
        self._invalidated: list[Hashable] = []

    def should_write_through(self) -> bool:
        return True

    def on_write(self, key: Hashable, value: Any) -> None:
        self._invalidated.append(key)

    def should_flush(self) -> bool:
        return False

    def get_keys_to_flush(self) -> list[Hashable]:
        return []

    def on_flush(self, keys: list[Hashable]) -> None:
        pass

    def get_keys_to_invalidate(self) -> list[Hashable]:
        """The keys written since the last call (then forgotten)."""
        keys, self._invalidated = self._invalidated, []
        return keys


__all__ = ["WriteAround", "WriteBack", "WritePolicy", "WriteThrough"]
