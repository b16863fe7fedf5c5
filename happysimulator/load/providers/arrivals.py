"""Arrival processes for ``Source`` (constant or profiled rate)."""

from __future__ import annotations

import math
import random

from happysimulator.core._active import ACTIVE
from happysimulator.core.temporal import Instant, to_ns
from happysimulator.load.profile import ConstantRateProfile, Profile

_NS = 1_000_000_000
#: the smallest constant rate (per second): below it a gap in nanoseconds is beyond any
#: clock a run reaches (at 1e-300 the gap, 1e300 s, is not even a finite number of ns)
MIN_RATE = 1e-9


def _as_rate(rate: float | Profile) -> float | Profile:
    if isinstance(rate, ConstantRateProfile):
        rate = rate.rate
    if isinstance(rate, Profile):
        return rate
    if isinstance(rate, bool) or not isinstance(rate, int | float):
        raise TypeError(
            f"rate must be a number of arrivals per second or a Profile, got {rate!r}")
    r = float(rate)
    if not (r >= MIN_RATE and math.isfinite(r)):
        raise ValueError(
            f"rate must be a positive finite number of arrivals per second, at least "
            f"{MIN_RATE:g} (one arrival at most every ~{1 / MIN_RATE / 3.15576e7:.0f} "
            f"years), or a Profile; got {rate}")
    return r


def _horizon_s() -> float:
    """How far a ``get_rate`` profile is searched for the next arrival: the run's end."""
    sim = ACTIVE.sim
    end = getattr(sim, "_end_ns", None) if sim is not None else None
    if end is None or end == math.inf:
        return math.inf
    return end / _NS


class ArrivalTimeProvider:
    """Base class: ``next_gap_ns(now_ns, rng)`` -> nanoseconds to the next arrival or None.

    The happysim 0.2.5 interface is kept too: ``Provider(profile, start_time)`` and
    ``next_arrival_time() -> Instant`` (advancing ``current_time``; ``RuntimeError`` when
    the profile has no further arrival). Subclasses define ``_get_target_integral_value()``,
    the integrated rate between two arrivals.
    """

    def __init__(self, rate: float | Profile, start_time: Instant | float = 0.0) -> None:
        self.rate = rate
        self.current_time = Instant(to_ns(start_time))
        self._rng: random.Random | None = None

    @property
    def rate(self) -> float | Profile:
        """Arrivals per second, or a ``Profile`` of them over time."""
        return self._rate

    @rate.setter
    def rate(self, value: float | Profile) -> None:
        # checked on every change (a what-if setting too): > 0 and finite, or a Profile
        self._rate = _as_rate(value)

    @property
    def profile(self) -> Profile:
        r = self._rate
        return r if isinstance(r, Profile) else ConstantRateProfile(r)

    def _get_target_integral_value(self, rng: random.Random | None = None) -> float:
        raise NotImplementedError

    def next_gap_ns(self, now_ns: int, rng: random.Random) -> int | None:
        mass = self._get_target_integral_value(rng)
        rate = self._rate
        if not isinstance(rate, Profile):
            return round(mass / rate * _NS)
        t = now_ns / _NS
        t2 = rate.advance(t, mass, _horizon_s())
        return None if t2 is None else max(0, round((t2 - t) * _NS))

    def next_arrival_time(self) -> Instant:
        """The next arrival after ``current_time`` (which moves there)."""
        sim = ACTIVE.sim
        if sim is not None:
            rng = sim.rng
        else:
            if self._rng is None:
                self._rng = random.Random(0)
            rng = self._rng
        now = self.current_time.nanoseconds
        gap = self.next_gap_ns(now, rng)
        if gap is None:
            raise RuntimeError("the rate profile has no further arrival")
        self.current_time = Instant(now + gap)
        return self.current_time


class PoissonArrivalTimeProvider(ArrivalTimeProvider):
    """Poisson arrivals; with a ``Profile`` rate, an inhomogeneous Poisson process
    (time rescaling: the next arrival is where the integrated rate grows by Exp(1))."""

    def _get_target_integral_value(self, rng: random.Random | None = None) -> float:
        return (rng or random.Random(0)).expovariate(1.0)

    def next_gap_ns(self, now_ns: int, rng: random.Random) -> int | None:
        rate = self._rate
        if not isinstance(rate, Profile):
            return int(rng.expovariate(rate) * _NS + 0.5)
        return super().next_gap_ns(now_ns, rng)


class ConstantArrivalTimeProvider(ArrivalTimeProvider):
    """Deterministic arrivals: one each time the integrated rate grows by 1."""

    def _get_target_integral_value(self, rng: random.Random | None = None) -> float:
        return 1.0

    def next_gap_ns(self, now_ns: int, rng: random.Random) -> int | None:
        rate = self._rate
        if not isinstance(rate, Profile):
            return round(_NS / rate)
        t = now_ns / _NS
        t2 = rate.advance(t, 1.0, _horizon_s())
        return None if t2 is None else max(1, round((t2 - t) * _NS))


__all__ = ["MIN_RATE", "ArrivalTimeProvider", "PoissonArrivalTimeProvider", "ConstantArrivalTimeProvider"]
