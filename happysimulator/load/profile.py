"""Rate profiles: arrival rate (per simulated second) as a function of time."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence


class Profile:
    """Piecewise rate over time from breakpoints ``[(t_s, rate), ...]``.

    ``interpolation="step"`` holds each rate until the next breakpoint; ``"linear"``
    interpolates between breakpoints. Before the first breakpoint the first rate applies,
    after the last one the last rate.
    """

    def __init__(self, points: Sequence[tuple[float, float]], interpolation: str = "step") -> None:
        if not points:
            raise ValueError("a profile needs at least one (time, rate) point")
        if interpolation not in ("step", "linear"):
            raise ValueError(f"interpolation must be 'step' or 'linear', got {interpolation!r}")
        pts = sorted((float(t), float(r)) for t, r in points)
        for t, r in pts:
            if not (r >= 0 and math.isfinite(r) and math.isfinite(t)):
                raise ValueError(
                    f"profile points need a finite time and a finite rate >= 0, got rate "
                    f"{r} at t={t}")
        self.times = [t for t, _ in pts]
        self.rates = [r for _, r in pts]
        self.interpolation = interpolation

    @classmethod
    def constant(cls, rate: float) -> Profile:
        return cls([(0.0, rate)])

    @classmethod
    def linear(
        cls, start_rate: float, end_rate: float, duration: float, start: float = 0.0
    ) -> Profile:
        """Ramp from ``start_rate`` at ``start`` to ``end_rate`` at ``start + duration``."""
        if duration <= 0:
            raise ValueError(f"duration must be > 0, got {duration}")
        return cls([(start, start_rate), (start + duration, end_rate)], interpolation="linear")

    ramp = linear

    @classmethod
    def step(cls, segments: Sequence[tuple[float, float]]) -> Profile:
        """Piecewise constant: ``[(t0, r0), (t1, r1), ...]`` means rate ``ri`` from ``ti``."""
        return cls(segments, interpolation="step")

    piecewise = step

    def rate(self, t: float) -> float:
        times = self.times
        i = bisect.bisect_right(times, t) - 1
        if i < 0:
            return self.rates[0]
        if i >= len(times) - 1 or self.interpolation == "step":
            return self.rates[i]
        t0, t1 = times[i], times[i + 1]
        r0, r1 = self.rates[i], self.rates[i + 1]
        return r0 + (r1 - r0) * (t - t0) / (t1 - t0)

    __call__ = rate

    def advance(self, t: float, mass: float) -> float | None:
        """Earliest ``t2 >= t`` with integral of the rate over ``[t, t2]`` equal to ``mass``.

        ``None`` if the rate integrates to less than ``mass`` over ``[t, inf)``.
        """
        times, rates = self.times, self.rates
        n = len(times)
        cur = t
        remaining = mass
        while True:
            i = bisect.bisect_right(times, cur) - 1
            if i < 0:
                end, a, b = times[0], rates[0], 0.0
            elif i >= n - 1:
                end, a, b = math.inf, rates[-1], 0.0
            elif self.interpolation == "step":
                end, a, b = times[i + 1], rates[i], 0.0
            else:
                end = times[i + 1]
                b = (rates[i + 1] - rates[i]) / (end - times[i])
                a = rates[i] + b * (cur - times[i])
            span = end - cur
            if span == math.inf:
                if a <= 0:
                    return None
                return cur + remaining / a
            seg_mass = a * span + 0.5 * b * span * span
            if seg_mass >= remaining and seg_mass > 0:
                disc = a * a + 2.0 * b * remaining
                d = 2.0 * remaining / (a + math.sqrt(max(disc, 0.0)))
                return cur + min(d, span)
            remaining -= seg_mass
            cur = end

    def max_rate(self) -> float:
        return max(self.rates)

    def __repr__(self) -> str:
        pts = list(zip(self.times, self.rates, strict=True))
        return f"Profile({pts}, interpolation={self.interpolation!r})"


__all__ = ["Profile"]
