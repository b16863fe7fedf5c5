"""Distributions over a finite population of values (customer ids, regions, keys)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Generic, TypeVar

from happysimulator.core._active import ACTIVE

T = TypeVar("T")


class ValueDistribution(Generic[T]):
    """Base class: ``sample()`` one value of a finite ``population``.

    Randomness: with ``seed`` given, a private generator seeded with it; without, the
    running simulation's RNG (so ``Simulation(seed=...)`` reproduces the run), or outside
    any run a private generator seeded with 0 — never an unseeded one.
    """

    def __init__(self, values: Sequence[T], seed: int | None = None) -> None:
        if len(values) == 0:
            raise ValueError("values must not be empty")
        self._values: list[T] = list(values)
        self._own_rng = random.Random(seed) if seed is not None else None
        self._fallback: random.Random | None = None

    def _rng(self) -> random.Random:
        if self._own_rng is not None:
            return self._own_rng
        sim = ACTIVE.sim
        if sim is not None:
            return sim.rng
        if self._fallback is None:
            self._fallback = random.Random(0)
        return self._fallback

    def sample(self) -> T:
        raise NotImplementedError(f"{type(self).__name__}.sample is not implemented")

    def sample_n(self, n: int) -> list[T]:
        return [self.sample() for _ in range(n)]

    @property
    def population(self) -> list[T]:
        """A copy of the values, in rank order."""
        return list(self._values)

    @property
    def size(self) -> int:
        return len(self._values)


__all__ = ["ValueDistribution"]
