"""Cache eviction policies: which key a full cache gives up.

A policy is told of every insert, access and removal and answers ``evict()`` with the
key to drop (and forgets it). Random choices come from the policy's own generator
(seeded, so runs reproduce); `TTLEviction` reads simulated time from its owner.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable


class CacheEvictionPolicy(ABC):
    """Interface of an eviction policy."""

    @abstractmethod
    def on_access(self, key: Hashable) -> None:
        """`key` was read from the cache."""

    @abstractmethod
    def on_insert(self, key: Hashable) -> None:
        """`key` entered the cache."""

    @abstractmethod
    def on_remove(self, key: Hashable) -> None:
        """`key` left the cache other than by `evict` (invalidation, delete)."""

    @abstractmethod
    def evict(self) -> Hashable | None:
        """The key to evict now (forgotten by the policy), or None if it tracks none."""

    @abstractmethod
    def clear(self) -> None:
        """Forget every key."""


class LRUEviction(CacheEvictionPolicy):
    """Least recently used."""

    def __init__(self) -> None:
        self._order: OrderedDict[Hashable, None] = OrderedDict()

    def on_access(self, key: Hashable) -> None:
        if key in self._order:
            self._order.move_to_end(key)

    def on_insert(self, key: Hashable) -> None:
        self._order[key] = None
        self._order.move_to_end(key)

    def on_remove(self, key: Hashable) -> None:
        self._order.pop(key, None)

    def evict(self) -> Hashable | None:
        return self._order.popitem(last=False)[0] if self._order else None

    def clear(self) -> None:
        self._order.clear()


class LFUEviction(CacheEvictionPolicy):
    """Least frequently used (ties: the key inserted first)."""

    def __init__(self) -> None:
        self._counts: dict[Hashable, int] = {}

    def on_access(self, key: Hashable) -> None:
        if key in self._counts:
            self._counts[key] += 1

    def on_insert(self, key: Hashable) -> None:
        self._counts[key] = 1

    def on_remove(self, key: Hashable) -> None:
        self._counts.pop(key, None)

    def evict(self) -> Hashable | None:
        if not self._counts:
            return None
        key = min(self._counts, key=self._counts.__getitem__)  # (first among equals)
        del self._counts[key]
        return key

    def clear(self) -> None:
        self._counts.clear()


class TTLEviction(CacheEvictionPolicy):
    """Entries live ``ttl`` seconds from insertion: an owning cache treats an expired
    entry as a miss; a full cache evicts an expired entry first, else the oldest.

    ``clock_func()`` returns the current time in seconds; without it the policy uses
    its owner's simulated clock (a `CachedStore` sets it), never the wall clock.
    """

    def __init__(self, ttl: float, clock_func: Callable[[], float] | None = None) -> None:
        if not ttl > 0:
            raise ValueError(f"ttl must be > 0 seconds, got {ttl!r}")
        self._ttl = float(ttl)
        self._clock_func = clock_func
        self._inserted: dict[Hashable, float] = {}  # insertion order = age order

    @property
    def ttl(self) -> float:
        return self._ttl

    def bind_clock(self, clock_func: Callable[[], float]) -> None:
        """Use `clock_func` (seconds) unless a clock was given."""
        if self._clock_func is None:
            self._clock_func = clock_func

    def _now(self) -> float:
        if self._clock_func is None:
            raise RuntimeError("TTLEviction needs a clock: give clock_func= or use it in a "
                               "CachedStore that is part of a simulation")
        return self._clock_func()

    def on_access(self, key: Hashable) -> None:
        pass  # (age counts from insertion, not from use)

    def on_insert(self, key: Hashable) -> None:
        self._inserted.pop(key, None)
        self._inserted[key] = self._now()

    def on_remove(self, key: Hashable) -> None:
        self._inserted.pop(key, None)

    def is_expired(self, key: Hashable) -> bool:
        """Whether `key` is past its TTL (an untracked key counts as expired)."""
        t = self._inserted.get(key)
        return t is None or self._now() - t >= self._ttl

    def get_expired_keys(self) -> list[Hashable]:
        now = self._now()
        return [k for k, t in self._inserted.items() if now - t >= self._ttl]

    def evict(self) -> Hashable | None:
        if not self._inserted:
            return None
        # the oldest entry is the first to expire: it is the one to go either way
        key = next(iter(self._inserted))
        del self._inserted[key]
        return key

    def clear(self) -> None:
        self._inserted.clear()


class FIFOEviction(CacheEvictionPolicy):
    """First in, first out (accesses do not matter)."""

    def __init__(self) -> None:
        self._order: dict[Hashable, None] = {}

    def on_access(self, key: Hashable) -> None:
        pass

    def on_insert(self, key: Hashable) -> None:
        self._order.setdefault(key, None)

    def on_remove(self, key: Hashable) -> None:
        self._order.pop(key, None)

    def evict(self) -> Hashable | None:
        if not self._order:
            return None
        key = next(iter(self._order))
        del self._order[key]
        return key

    def clear(self) -> None:
        self._order.clear()


class RandomEviction(CacheEvictionPolicy):
    """A key chosen uniformly at random (generator seeded by ``seed``, 0 if None)."""

    def __init__(self, seed: int | None = None) -> None:
        self._keys: list[Hashable] = []
        self._pos: dict[Hashable, int] = {}
        self._rng = random.Random(0 if seed is None else seed)

    def on_access(self, key: Hashable) -> None:
        pass

    def on_insert(self, key: Hashable) -> None:
        if key not in self._pos:
            self._pos[key] = len(self._keys)
            self._keys.append(key)

    def on_remove(self, key: Hashable) -> None:
        k = self._pos.pop(key, None)
        if k is not None:  # swap with the last: O(1) removal
            last = self._keys.pop()
            if k < len(self._keys):
                self._keys[k] = last
                self._pos[last] = k

    def evict(self) -> Hashable | None:
        if not self._keys:
            return None
        key = self._keys[self._rng.randrange(len(self._keys))]
        self.on_remove(key)
        return key

    def clear(self) -> None:
        self._keys.clear()
        self._pos.clear()


class SLRUEviction(CacheEvictionPolicy):
    """Segmented LRU: new keys enter a probationary segment; a second access promotes
    them to the protected one. Evicts from probation first (LRU within a segment).
    ``protected_ratio`` is the intended share of the protected segment."""

    def __init__(self, protected_ratio: float = 0.8) -> None:
        if not 0 < protected_ratio < 1:
            raise ValueError(f"protected_ratio must be in (0, 1), got {protected_ratio!r}")
        self._protected_ratio = protected_ratio
        self._probation: OrderedDict[Hashable, None] = OrderedDict()
        self._protected: OrderedDict[Hashable, None] = OrderedDict()

    @property
    def protected_ratio(self) -> float:
        return self._protected_ratio

    @property
    def probationary_size(self) -> int:
        return len(self._probation)

    @property
    def protected_size(self) -> int:
        return len(self._protected)

    def on_access(self, key: Hashable) -> None:
        if key in self._probation:
            del self._probation[key]
            self._protected[key] = None
        elif key in self._protected:
            self._protected.move_to_end(key)

    def on_insert(self, key: Hashable) -> None:
        if key not in self._protected:
            self._probation[key] = None
            self._probation.move_to_end(key)

    def on_remove(self, key: Hashable) -> None:
        self._probation.pop(key, None)
        self._protected.pop(key, None)

    def evict(self) -> Hashable | None:
        for segment in (self._probation, self._protected):
            if segment:
                return segment.popitem(last=False)[0]
        return None

    def clear(self) -> None:
        self._probation.clear()
        self._protected.clear()


class SampledLRUEviction(CacheEvictionPolicy):
    """Redis-style approximate LRU: the least recently used of ``sample_size`` keys
    drawn at random (generator seeded by ``seed``, 0 if None)."""

    def __init__(self, sample_size: int = 5, seed: int | None = None) -> None:
        if sample_size < 1:
            raise ValueError(f"sample_size must be >= 1, got {sample_size!r}")
        self._sample_size = sample_size
        self._rng = random.Random(0 if seed is None else seed)
        self._used: dict[Hashable, int] = {}
        self._tick = 0

    @property
    def sample_size(self) -> int:
        return self._sample_size

    def on_access(self, key: Hashable) -> None:
        if key in self._used:
            self._tick += 1
            self._used[key] = self._tick

    def on_insert(self, key: Hashable) -> None:
        self._tick += 1
        self._used[key] = self._tick

    def on_remove(self, key: Hashable) -> None:
        self._used.pop(key, None)

    def evict(self) -> Hashable | None:
        if not self._used:
            return None
        keys = list(self._used)
        sample = self._rng.sample(keys, min(self._sample_size, len(keys)))
        key = min(sample, key=self._used.__getitem__)
        del self._used[key]
        return key

    def clear(self) -> None:
        self._used.clear()
        self._tick = 0


class ClockEviction(CacheEvictionPolicy):
    """CLOCK (second chance): a hand sweeps the keys; a referenced key loses its bit
    and is passed over, the first unreferenced one is evicted."""

    def __init__(self) -> None:
        self._ring: deque[Hashable] = deque()  # the hand points at the left end
        self._ref: dict[Hashable, bool] = {}

    @property
    def size(self) -> int:
        return len(self._ref)

    def on_access(self, key: Hashable) -> None:
        if key in self._ref:
            self._ref[key] = True

    def on_insert(self, key: Hashable) -> None:
        if key not in self._ref:
            self._ring.append(key)  # (just behind the hand)
        self._ref[key] = True

    def on_remove(self, key: Hashable) -> None:
        if self._ref.pop(key, None) is not None:
            self._ring.remove(key)

    def evict(self) -> Hashable | None:
        ring, ref = self._ring, self._ref
        while ring:
            key = ring[0]
            if ref[key]:
                ref[key] = False
                ring.rotate(-1)
            else:
                ring.popleft()
                del ref[key]
                return key
        return None

    def clear(self) -> None:
        self._ring.clear()
        self._ref.clear()


class TwoQueueEviction(CacheEvictionPolicy):
    """2Q: first-time keys go through a FIFO (A1in); keys evicted from it are
    remembered (A1out, ghosts); a ghost inserted again goes to the LRU of hot keys
    (Am). Evicts from A1in first. ``kin_ratio`` is the intended share of A1in."""

    def __init__(self, kin_ratio: float = 0.25, ghost_capacity: int = 50) -> None:
        if not 0 < kin_ratio < 1:
            raise ValueError(f"kin_ratio must be in (0, 1), got {kin_ratio!r}")
        self._kin_ratio = kin_ratio
        self._ghost_capacity = ghost_capacity
        self._a1in: dict[Hashable, None] = {}
        self._a1out: OrderedDict[Hashable, None] = OrderedDict()
        self._am: OrderedDict[Hashable, None] = OrderedDict()

    @property
    def kin_ratio(self) -> float:
        return self._kin_ratio

    def on_access(self, key: Hashable) -> None:
        if key in self._am:
            self._am.move_to_end(key)

    def on_insert(self, key: Hashable) -> None:
        if key in self._a1out:
            del self._a1out[key]
            self._am[key] = None
        elif key not in self._am:
            self._a1in[key] = None

    def on_remove(self, key: Hashable) -> None:
        self._a1in.pop(key, None)
        self._a1out.pop(key, None)
        self._am.pop(key, None)

    def evict(self) -> Hashable | None:
        if self._a1in:
            key = next(iter(self._a1in))
            del self._a1in[key]
            self._a1out[key] = None
            while len(self._a1out) > self._ghost_capacity:
                self._a1out.popitem(last=False)
            return key
        if self._am:
            return self._am.popitem(last=False)[0]
        return None

    def clear(self) -> None:
        self._a1in.clear()
        self._a1out.clear()
        self._am.clear()


__all__ = [
    "CacheEvictionPolicy",
    "ClockEviction",
    "FIFOEviction",
    "LFUEviction",
    "LRUEviction",
    "RandomEviction",
    "SLRUEviction",
    "SampledLRUEviction",
    "TTLEviction",
    "TwoQueueEviction",
]
