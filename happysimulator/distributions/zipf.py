"""Zipf (power-law) popularity over a ranked population: P(rank k) ∝ 1 / k**s."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from typing import TypeVar

from happysimulator.distributions.value_distribution import ValueDistribution

T = TypeVar("T")


class ZipfDistribution(ValueDistribution[T]):
    """The first value is rank 1 (most frequent). ``s = 0`` is uniform; larger ``s`` is
    more skewed. Sampling is inverse-transform on the precomputed CDF (O(log n))."""

    def __init__(self, values: Sequence[T], s: float = 1.0, seed: int | None = None) -> None:
        if not s >= 0:  # also rejects NaN
            raise ValueError(f"s must be non-negative, got {s}")
        super().__init__(values, seed)
        self._s = float(s)
        n = len(self._values)
        weights = [1.0 / (k ** self._s) for k in range(1, n + 1)]
        total = sum(weights)
        self._probs = [w / total for w in weights]
        cdf = list(itertools.accumulate(self._probs))
        cdf[-1] = 1.0  # guard the tail against rounding
        self._cdf = cdf

    @property
    def s(self) -> float:
        return self._s

    def sample(self) -> T:
        i = bisect.bisect_right(self._cdf, self._rng().random())
        return self._values[min(i, len(self._values) - 1)]

    def probability(self, rank: int) -> float:
        """Probability of the value at ``rank`` (1-based)."""
        n = len(self._values)
        if not 1 <= rank <= n:
            raise ValueError(f"rank must be in 1..{n}, got {rank}")
        return self._probs[rank - 1]

    def probability_for_value(self, value: T) -> float:
        try:
            return self._probs[self._values.index(value)]
        except ValueError:
            raise ValueError(f"value {value!r} not in population") from None

    def expected_frequency(self, rank: int, n_samples: int) -> float:
        """Expected count of the value at ``rank`` among ``n_samples`` draws."""
        return self.probability(rank) * n_samples

    def top_n_probability(self, n: int) -> float:
        """Combined probability of the ``n`` most popular values."""
        size = len(self._values)
        if not 0 <= n <= size:
            raise ValueError(f"n must be in 0..{size}, got {n}")
        return 0.0 if n == 0 else self._cdf[n - 1]

    def __repr__(self) -> str:
        return f"ZipfDistribution(size={len(self._values)}, s={self._s})"


__all__ = ["ZipfDistribution"]
