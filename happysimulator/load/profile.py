"""Rate profiles: arrival rate (per simulated second) as a function of time."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence

from happysimulator.core.temporal import Instant


class Profile:
    """Arrival rate (per simulated second) as a function of time.

    Either piecewise, from breakpoints ``Profile([(t_s, rate), ...], interpolation)``:
    ``"step"`` holds each rate until the next breakpoint, ``"linear"`` interpolates;
    before the first breakpoint the first rate applies, after the last one the last rate.
    Or, in the happysim 0.2.5 style, a subclass that overrides ``get_rate(time: Instant)``
    (it need not call ``Profile.__init__``); its arrivals come from integrating that rate
    numerically (see ``advance``).
    """

    # None for a subclass defining get_rate (no breakpoints)
    times: list[float] | None = None
    rates: list[float] = []  # noqa: RUF012 (replaced per instance)
    interpolation = "step"

    def __init__(
        self, points: Sequence[tuple[float, float]] | None = None, interpolation: str = "step"
    ) -> None:
        if points is None and type(self).get_rate is not Profile.get_rate:
            return  # a get_rate subclass
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

    def get_rate(self, time: Instant) -> float:
        """The rate at ``time`` (override this in a subclass)."""
        if self.times is None:
            raise NotImplementedError(f"{type(self).__name__} must override get_rate(time)")
        return self._piecewise_rate(time.to_seconds())

    def rate_at(self, t: float) -> float:
        """The rate at ``t`` float seconds."""
        if self.times is None:
            return float(self.get_rate(Instant.from_seconds(t)))
        return self._piecewise_rate(t)

    def rate(self, t: float) -> float:
        return self.rate_at(t)

    def __call__(self, t: float) -> float:
        return self.rate_at(t)

    def _piecewise_rate(self, t: float) -> float:
        times = self.times
        i = bisect.bisect_right(times, t) - 1
        if i < 0:
            return self.rates[0]
        if i >= len(times) - 1 or self.interpolation == "step":
            return self.rates[i]
        t0, t1 = times[i], times[i + 1]
        r0, r1 = self.rates[i], self.rates[i + 1]
        return r0 + (r1 - r0) * (t - t0) / (t1 - t0)

    def advance(self, t: float, mass: float, horizon: float = math.inf) -> float | None:
        """Earliest ``t2 >= t`` with integral of the rate over ``[t, t2]`` equal to ``mass``.

        ``None`` if the rate integrates to less than ``mass`` over ``[t, inf)`` (for a
        ``get_rate`` subclass: over ``[t, horizon)``, as its future is unknown).
        """
        if self.times is None:
            return _integrate_until(self.rate_at, t, mass, horizon)
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
        if self.times is None:
            raise TypeError(f"{type(self).__name__} (a get_rate profile) has no known maximum")
        return max(self.rates)

    def __repr__(self) -> str:
        if self.times is None:
            return object.__repr__(self)
        pts = list(zip(self.times, self.rates, strict=True))
        return f"Profile({pts}, interpolation={self.interpolation!r})"


# Numeric integration for get_rate profiles: steps of a small fraction of the expected gap
# (so a rate change is located to well within one inter-arrival time), Simpson's rule per
# step, and bisection inside the step that completes the mass.
_GAP_FRACTION = 0.05
_MAX_STEP_S = 0.1
_ZERO_RATE_MAX_STEP_S = 1.0
_DEFAULT_HORIZON_S = 86_400.0


def _integrate_until(
    rate: Callable[[float], float], t: float, mass: float, horizon: float
) -> float | None:
    if horizon == math.inf:
        horizon = t + _DEFAULT_HORIZON_S
    cur, remaining = t, mass
    r_cur = rate(cur)
    step = 1e-6
    while cur < horizon:
        if r_cur < 0 or r_cur != r_cur:
            raise ValueError(f"rate must be >= 0, got {r_cur} at t={cur}")
        if r_cur > 0:
            step = min(_GAP_FRACTION / r_cur, _MAX_STEP_S)
        else:
            step = min(max(step, 1e-6) * 2.0, _ZERO_RATE_MAX_STEP_S)
        end = min(cur + step, horizon)
        r_mid, r_end = rate(0.5 * (cur + end)), rate(end)
        m = (end - cur) / 6.0 * (r_cur + 4.0 * r_mid + r_end)  # Simpson's rule
        if m >= remaining and m > 0:
            # inside this step: bisect on the Simpson integral over [cur, x]
            lo, hi = cur, end
            while hi - lo > 1e-10 * max(1.0, abs(hi)):
                x = 0.5 * (lo + hi)
                part = (x - cur) / 6.0 * (r_cur + 4.0 * rate(0.5 * (cur + x)) + rate(x))
                if part < remaining:
                    lo = x
                else:
                    hi = x
            return hi
        remaining -= m
        cur, r_cur = end, r_end
    return None


class ConstantRateProfile(Profile):
    """The same ``rate`` at every time (happysim 0.2.5 name)."""

    def __init__(self, rate: float) -> None:
        super().__init__([(0.0, rate)])
        self.rate = float(rate)  # type: ignore[method-assign,assignment]

    def __repr__(self) -> str:
        return f"ConstantRateProfile(rate={self.rate})"


class LinearRampProfile(Profile):
    """From ``start_rate`` at 0 linearly to ``end_rate`` at ``duration_s``, then flat."""

    def __init__(self, duration_s: float, start_rate: float, end_rate: float) -> None:
        if not duration_s > 0:
            raise ValueError(f"duration_s must be > 0, got {duration_s}")
        super().__init__([(0.0, start_rate), (duration_s, end_rate)], interpolation="linear")
        self.duration_s = float(duration_s)
        self.start_rate = float(start_rate)
        self.end_rate = float(end_rate)

    def __repr__(self) -> str:
        return (f"LinearRampProfile(duration_s={self.duration_s}, start_rate="
                f"{self.start_rate}, end_rate={self.end_rate})")


class SpikeProfile(Profile):
    """``baseline_rate``, then ``spike_rate`` for ``spike_duration_s`` from ``warmup_s``,
    then ``baseline_rate`` again."""

    def __init__(
        self,
        baseline_rate: float = 10.0,
        spike_rate: float = 150.0,
        warmup_s: float = 10.0,
        spike_duration_s: float = 15.0,
    ) -> None:
        if warmup_s < 0 or spike_duration_s < 0:
            raise ValueError("warmup_s and spike_duration_s must be >= 0")
        super().__init__([(0.0, baseline_rate), (warmup_s, spike_rate),
                          (warmup_s + spike_duration_s, baseline_rate)])
        self.baseline_rate = float(baseline_rate)
        self.spike_rate = float(spike_rate)
        self.warmup_s = float(warmup_s)
        self.spike_duration_s = float(spike_duration_s)

    def __repr__(self) -> str:
        return (f"SpikeProfile(baseline_rate={self.baseline_rate}, spike_rate="
                f"{self.spike_rate}, warmup_s={self.warmup_s}, "
                f"spike_duration_s={self.spike_duration_s})")


__all__ = ["ConstantRateProfile", "LinearRampProfile", "Profile", "SpikeProfile"]
