"""Independent seed streams for replications, by `numpy.random.SeedSequence` spawning.

Replication ``i`` of parameter point ``p`` gets the seed drawn from
``SeedSequence(seed).spawn(points)[p].spawn(n)[i]``: streams that do not overlap, that do
not depend on how many workers run them or in which order, and that stay the same for a
point when other points are added after it.

>>> seeds = replication_seeds(1, 3)
>>> len(set(seeds)), seeds == replication_seeds(1, 3)
(3, True)
"""

from __future__ import annotations

import numpy as np

__all__ = ["replication_seeds", "sweep_seeds"]


def _as_int(child: np.random.SeedSequence) -> int:
    # 64 bits of the child's entropy pool: `random.Random(seed)` takes any int
    return int(child.generate_state(1, dtype=np.uint64)[0])


def _root(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise TypeError(f"seed must be a non-negative int or a SeedSequence, got {seed!r}")
    return np.random.SeedSequence(int(seed))


def replication_seeds(seed: int | np.random.SeedSequence, n: int) -> list[int]:
    """``n`` independent integer seeds spawned from ``seed``."""
    return [_as_int(c) for c in _root(seed).spawn(n)]


def sweep_seeds(seed: int | np.random.SeedSequence, points: int, n: int, *,
                common_random_numbers: bool = False) -> list[list[int]]:
    """``[point][replication]`` seeds. With ``common_random_numbers`` every point reuses
    the same ``n`` seeds (differences between points then have less noise)."""
    if common_random_numbers:
        same = replication_seeds(seed, n)
        return [list(same) for _ in range(points)]
    return [[_as_int(c) for c in child.spawn(n)] for child in _root(seed).spawn(points)]
