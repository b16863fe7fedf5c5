"""Latency distributions. Randomness comes from the generator the caller passes
(components pass their own stream, ``self.rng``), else the running simulation's
``sim.rng``, else (outside any run) a private generator seeded with 0."""

from __future__ import annotations

import copy
import math
import random
from typing import Any

from happysimulator.core._active import ACTIVE
from happysimulator.core.temporal import Duration, Instant, _dur, _inst, to_seconds


def _expovariate_is_inlinable() -> bool:
    """True if ``-log(1 - rng.random()) / rate`` reproduces ``rng.expovariate(rate)``."""
    a, b = random.Random(12345), random.Random(12345)
    return all(a.expovariate(r) == -math.log(1.0 - b.random()) / r for r in (0.5, 8.0, 10.0) * 4)


#: hot paths draw exponentials inline (same numbers as ``rng.expovariate``, no Python call)
EXPO_INLINE = _expovariate_is_inlinable()

_Random = random.Random
_log = math.log


def _rng(rng: random.Random | None, owner: Any) -> random.Random:
    if rng is not None:
        return rng
    sim = ACTIVE.sim
    if sim is not None:
        return sim.rng
    # outside any simulation: a private, deterministic generator per distribution
    r = owner._fallback_rng
    if r is None:
        r = owner._fallback_rng = random.Random(0)
    return r


class LatencyDistribution:
    """Base class for delays.

    Override ``sample(rng) -> float seconds`` (randomness from ``rng``, the simulation's
    generator). happysim-style subclasses may instead call ``super().__init__(mean)`` and
    override ``get_latency(current_time) -> Duration``; the engine then uses that.
    ``dist + x`` / ``dist - x`` return a copy whose mean is shifted by ``x`` seconds.
    """

    _fallback_rng: random.Random | None = None
    _mean_latency: float | None = None

    def __init__(self, mean_latency: float | Duration | None = None) -> None:
        if mean_latency is not None:
            self._mean_latency = to_seconds(mean_latency)

    @property
    def mean(self) -> float:
        if self._mean_latency is None:
            raise NotImplementedError(f"{type(self).__name__} has no mean")
        return self._mean_latency

    def sample(self, rng: random.Random | None = None) -> float:
        if type(self).get_latency is LatencyDistribution.get_latency:
            raise NotImplementedError(
                f"{type(self).__name__} must override sample(rng) or get_latency(current_time)"
            )
        sim = ACTIVE.sim
        now = _inst(sim.now_ns) if sim is not None else Instant.Epoch
        return to_seconds(self.get_latency(now))

    def sample_ns(self, rng: random.Random) -> int:
        return int(self.sample(rng) * 1e9 + 0.5)

    def get_latency(
        self, current_time: Instant | None = None, rng: random.Random | None = None
    ) -> Duration:
        """A sample as a ``Duration`` (happysim-compatible)."""
        return Duration.from_seconds(self.sample(_rng(rng, self)))

    def _shift_mean(self, delta: float) -> None:
        if self._mean_latency is None:
            raise TypeError(f"{type(self).__name__} has no mean to shift")
        self._mean_latency += delta

    def __add__(self, seconds: float) -> LatencyDistribution:
        out = copy.deepcopy(self)
        out._shift_mean(float(seconds))
        return out

    def __sub__(self, seconds: float) -> LatencyDistribution:
        out = copy.deepcopy(self)
        out._shift_mean(-float(seconds))
        return out


class ConstantLatency(LatencyDistribution):
    """Always ``latency`` seconds."""

    def __init__(self, latency: float | Duration) -> None:
        s = to_seconds(latency)
        if not (s >= 0 and math.isfinite(s)):
            raise ValueError(f"latency must be a finite number of seconds >= 0, got {s}")
        self.latency = s
        self._ns = int(s * 1e9 + 0.5)

    @property
    def _mean_latency(self) -> float:  # type: ignore[override]
        return self.latency

    def _shift_mean(self, delta: float) -> None:
        self.__init__(self.latency + delta)

    @property
    def mean(self) -> float:
        return self.latency

    def sample(self, rng: random.Random | None = None) -> float:
        return self.latency

    def sample_ns(self, rng: random.Random) -> int:
        return self._ns

    def get_latency(
        self, current_time: Instant | None = None, rng: random.Random | None = None
    ) -> Duration:
        return _dur(self._ns)

    def __repr__(self) -> str:
        return f"ConstantLatency({self.latency})"


class ExponentialLatency(LatencyDistribution):
    """Exponentially distributed with mean ``mean_latency`` seconds."""

    def __init__(self, mean_latency: float | Duration) -> None:
        s = to_seconds(mean_latency)
        if not (s > 0 and math.isfinite(s)):
            raise ValueError(f"mean latency must be a finite number of seconds > 0, got {s}")
        self.mean_latency = s
        self.rate = 1.0 / s

    @property
    def _mean_latency(self) -> float:  # type: ignore[override]
        return self.mean_latency

    def _shift_mean(self, delta: float) -> None:
        self.__init__(self.mean_latency + delta)

    @property
    def mean(self) -> float:
        return self.mean_latency

    def sample(self, rng: random.Random | None = None) -> float:
        if rng.__class__ is _Random and EXPO_INLINE:
            # (`expovariate` inline, the same draw: user models sample once per request)
            return -_log(1.0 - rng.random()) / self.rate
        return _rng(rng, self).expovariate(self.rate)

    def sample_ns(self, rng: random.Random) -> int:
        return int(rng.expovariate(self.rate) * 1e9 + 0.5)

    def __repr__(self) -> str:
        return f"ExponentialLatency({self.mean_latency})"


class UniformLatency(LatencyDistribution):
    """Uniform on ``[low, high]`` seconds."""

    def __init__(self, low: float | Duration, high: float | Duration) -> None:
        lo, hi = to_seconds(low), to_seconds(high)
        if not (0 <= lo <= hi and math.isfinite(hi)):
            raise ValueError(f"need finite 0 <= low <= high seconds, got low={lo}, high={hi}")
        self.low = lo
        self.high = hi

    @property
    def _mean_latency(self) -> float:  # type: ignore[override]
        return (self.low + self.high) / 2

    def _shift_mean(self, delta: float) -> None:
        self.__init__(self.low + delta, self.high + delta)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def sample(self, rng: random.Random | None = None) -> float:
        return _rng(rng, self).uniform(self.low, self.high)

    def sample_ns(self, rng: random.Random) -> int:
        return int(rng.uniform(self.low, self.high) * 1e9 + 0.5)

    def __repr__(self) -> str:
        return f"UniformLatency({self.low}, {self.high})"


class CallableLatency(LatencyDistribution):
    """Wraps ``fn(rng) -> seconds``."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def sample(self, rng: random.Random | None = None) -> float:
        return float(self.fn(_rng(rng, self)))


def as_distribution(value: Any, what: str = "latency") -> LatencyDistribution:
    """Normalize a distribution, float seconds, ``Duration`` or ``fn(rng)``; ``what``
    names the argument in errors (e.g. ``"service_time"``)."""
    if isinstance(value, LatencyDistribution):
        return value
    if isinstance(value, (int, float, Duration)) and not isinstance(value, bool):
        try:
            return ConstantLatency(value)
        except ValueError as e:
            raise ValueError(f"{what}: {e}") from None
    if hasattr(value, "get_latency"):
        dist = value

        class _Adapter(LatencyDistribution):
            def sample(self, rng: random.Random | None = None) -> float:
                return to_seconds(dist.get_latency(None))

        return _Adapter()
    if callable(value):
        return CallableLatency(value)
    raise TypeError(
        f"{what} must be a LatencyDistribution, float seconds, Duration or fn(rng); "
        f"got {type(value).__name__}"
    )


__all__ = [
    "LatencyDistribution",
    "ConstantLatency",
    "ExponentialLatency",
    "UniformLatency",
    "CallableLatency",
    "as_distribution",
]
