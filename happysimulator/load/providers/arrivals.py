"""Arrival processes for ``Source`` (constant or profiled rate)."""

from __future__ import annotations

import math
import random

from happysimulator.load.profile import Profile

_NS = 1_000_000_000


def _as_rate(rate: float | Profile) -> float | Profile:
    if isinstance(rate, Profile):
        return rate
    if isinstance(rate, bool) or not isinstance(rate, int | float):
        raise TypeError(
            f"rate must be a number of arrivals per second or a Profile, got {rate!r}")
    r = float(rate)
    if not (r > 0 and math.isfinite(r)):
        raise ValueError(
            f"rate must be a positive finite number of arrivals per second (or a Profile), "
            f"got {rate}")
    return r


class ArrivalTimeProvider:
    """Base class: ``next_gap_ns(now_ns, rng)`` -> nanoseconds to the next arrival or None."""

    def next_gap_ns(self, now_ns: int, rng: random.Random) -> int | None:
        raise NotImplementedError


class PoissonArrivalTimeProvider(ArrivalTimeProvider):
    """Poisson arrivals; with a ``Profile`` rate, an inhomogeneous Poisson process
    (time rescaling: the next arrival is where the integrated rate grows by Exp(1))."""

    def __init__(self, rate: float | Profile) -> None:
        self.rate = _as_rate(rate)

    def next_gap_ns(self, now_ns: int, rng: random.Random) -> int | None:
        rate = self.rate
        if not isinstance(rate, Profile):
            return int(rng.expovariate(rate) * _NS + 0.5)
        t = now_ns / _NS
        t2 = rate.advance(t, rng.expovariate(1.0))
        return None if t2 is None else max(0, round((t2 - t) * _NS))


class ConstantArrivalTimeProvider(ArrivalTimeProvider):
    """Deterministic arrivals: one each time the integrated rate grows by 1."""

    def __init__(self, rate: float | Profile) -> None:
        self.rate = _as_rate(rate)

    def next_gap_ns(self, now_ns: int, rng: random.Random) -> int | None:
        rate = self.rate
        if not isinstance(rate, Profile):
            return round(_NS / rate)
        t = now_ns / _NS
        t2 = rate.advance(t, 1.0)
        return None if t2 is None else max(1, round((t2 - t) * _NS))


__all__ = ["ArrivalTimeProvider", "PoissonArrivalTimeProvider", "ConstantArrivalTimeProvider"]
