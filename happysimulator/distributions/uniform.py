"""Uniform choice from a finite population."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from happysimulator.distributions.value_distribution import ValueDistribution

T = TypeVar("T")


class UniformDistribution(ValueDistribution[T]):
    """Every value equally likely (a baseline against skewed distributions)."""

    def __init__(self, values: Sequence[T], seed: int | None = None) -> None:
        super().__init__(values, seed)

    def sample(self) -> T:
        values = self._values
        return values[int(self._rng().random() * len(values))]

    def probability(self) -> float:
        """Probability of any one value: ``1 / size``."""
        return 1.0 / len(self._values)

    def __repr__(self) -> str:
        return f"UniformDistribution(size={len(self._values)})"


__all__ = ["UniformDistribution"]
