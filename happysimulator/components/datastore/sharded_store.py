"""``ShardedStore``: keys spread over shards by a sharding strategy."""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, Protocol

from happysimulator.core.event import Event
from happysimulator.core.observed import ObservedEntity, counter


def _hash(text: str) -> int:
    """A stable 128-bit hash (Python's ``hash`` of a str changes between processes)."""
    return int.from_bytes(hashlib.md5(text.encode()).digest(), "big")


class ShardingStrategy(Protocol):
    """Maps a key to a shard index in ``[0, num_shards)``."""

    def get_shard(self, key: str, num_shards: int) -> int: ...


class HashSharding:
    """``hash(key) mod num_shards`` (uniform; moving to n+1 shards moves most keys)."""

    def get_shard(self, key: str, num_shards: int) -> int:
        return _hash(str(key)) % num_shards


class RangeSharding:
    """By key range: shard i holds keys below ``boundaries[i]`` (and the last shard the
    rest); without boundaries, by the key's first letter (a-z spread evenly)."""

    def __init__(self, boundaries: list[str] | None = None) -> None:
        self._boundaries = sorted(boundaries) if boundaries else None

    def get_shard(self, key: str, num_shards: int) -> int:
        if self._boundaries:
            return min(bisect.bisect_right(self._boundaries, key), num_shards - 1)
        if not key:
            return 0
        c = ord(key[0].lower())
        if c < ord("a"):
            return 0
        if c > ord("z"):
            return num_shards - 1
        return (c - ord("a")) * num_shards // 26


class ConsistentHashSharding:
    """A hash ring with ``virtual_nodes`` points per shard: going from n to n+1 shards
    moves only about 1/(n+1) of the keys."""

    def __init__(self, virtual_nodes: int = 100, seed: int | None = None) -> None:
        if virtual_nodes < 1:
            raise ValueError(f"virtual_nodes must be >= 1, got {virtual_nodes!r}")
        self._virtual_nodes = virtual_nodes
        self._seed = seed
        self._points: list[int] = []
        self._owners: list[int] = []
        self._for = 0

    def _ring(self, num_shards: int) -> None:
        if self._for == num_shards:
            return
        prefix = "" if self._seed is None else f"{self._seed}:"
        ring = sorted((_hash(f"{prefix}shard{s}:vnode{v}"), s)
                      for s in range(num_shards) for v in range(self._virtual_nodes))
        self._points = [h for h, _ in ring]
        self._owners = [s for _, s in ring]
        self._for = num_shards

    def get_shard(self, key: str, num_shards: int) -> int:
        self._ring(num_shards)
        k = bisect.bisect_left(self._points, _hash(str(key)))
        return self._owners[k % len(self._owners)]


@dataclass(frozen=True)
class ShardedStoreStats:
    """Counts of a `ShardedStore` per shard index."""

    reads: int = 0
    writes: int = 0
    deletes: int = 0
    shard_reads: dict[int, int] = field(default_factory=dict)
    shard_writes: dict[int, int] = field(default_factory=dict)

    def get_shard_distribution(self) -> dict[int, float]:
        """Each shard's share of the reads."""
        total = sum(self.shard_reads.values())
        return {k: v / total for k, v in self.shard_reads.items()} if total else {}


class ShardedStore(ObservedEntity):
    """Routes each key to one of ``shards`` (stores with ``get``/``put``/``delete``
    processes) by ``sharding_strategy`` (default `HashSharding`).

    Observed: ``reads``, ``writes`` and ``deletes`` counters tagged ``shard``.
    """

    observed_series = (
        counter("reads", "operations", "reads, by shard", tags=("shard",)),
        counter("writes", "operations", "writes, by shard", tags=("shard",)),
        counter("deletes", "operations", "deletes, by shard", tags=("shard",)),
    )
    downstream_attributes = ("shards",)

    def __init__(self, name: str, shards: list[Any],
                 sharding_strategy: ShardingStrategy | None = None) -> None:
        if not shards:
            raise ValueError("ShardedStore needs at least one shard")
        super().__init__(name)
        self.shards = list(shards)
        self._strategy = sharding_strategy or HashSharding()
        self._reads = self._writes = self._deletes = 0
        self._shard_reads = dict.fromkeys(range(len(self.shards)), 0)
        self._shard_writes = dict.fromkeys(range(len(self.shards)), 0)

    def downstream_entities(self) -> list[Any]:
        return list(self.shards)

    @property
    def stats(self) -> ShardedStoreStats:
        return ShardedStoreStats(self._reads, self._writes, self._deletes,
                                 dict(self._shard_reads), dict(self._shard_writes))

    @property
    def num_shards(self) -> int:
        return len(self.shards)

    @property
    def sharding_strategy(self) -> ShardingStrategy:
        return self._strategy

    def get_shard_for_key(self, key: str) -> int:
        k = self._strategy.get_shard(key, len(self.shards))
        if not 0 <= k < len(self.shards):
            raise ValueError(f"sharding strategy {type(self._strategy).__name__} mapped "
                             f"{key!r} to shard {k}; valid: 0..{len(self.shards) - 1}")
        return k

    def get(self, key: str) -> Generator[Any, Any, Any]:
        k = self.get_shard_for_key(key)
        self._reads += 1
        self._shard_reads[k] += 1
        self.increment("reads", shard=k)
        return (yield from self.shards[k].get(key))

    def put(self, key: str, value: Any) -> Generator[Any, Any, None]:
        k = self.get_shard_for_key(key)
        self._writes += 1
        self._shard_writes[k] += 1
        self.increment("writes", shard=k)
        yield from self.shards[k].put(key, value)

    def delete(self, key: str) -> Generator[Any, Any, bool]:
        k = self.get_shard_for_key(key)
        self._deletes += 1
        self.increment("deletes", shard=k)
        return (yield from self.shards[k].delete(key))

    def get_shard_sizes(self) -> dict[int, int]:
        return {k: getattr(s, "size", 0) for k, s in enumerate(self.shards)}

    def get_all_keys(self) -> list[str]:
        return [key for s in self.shards if hasattr(s, "keys") for key in s.keys()]

    def scatter_gather(self, keys: list[str]) -> Generator[Any, Any, dict[str, Any]]:
        """Read `keys` from their shards in parallel (each shard reads its keys one after
        another): takes as long as the slowest shard; returns the found values by key."""
        from happysimulator.components.datastore.replicated_store import _run

        by_shard: dict[int, list[str]] = {}
        for key in keys:
            by_shard.setdefault(self.get_shard_for_key(key), []).append(key)
        out: dict[str, Any] = {}
        slowest = 0.0
        for k, group in by_shard.items():
            spent = 0.0
            for key in group:
                self._reads += 1
                self._shard_reads[k] += 1
                self.increment("reads", shard=k)
                delay, value = _run(self.shards[k].get(key))
                spent += delay
                if value is not None:
                    out[key] = value
            slowest = max(slowest, spent)
        yield slowest
        return out

    def handle_event(self, event: Event) -> None:
        return None


__all__ = ["ConsistentHashSharding", "HashSharding", "RangeSharding", "ShardedStore",
           "ShardedStoreStats", "ShardingStrategy"]
