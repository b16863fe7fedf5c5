"""An exponential latency fitted to measured percentiles (p50, p90, p99, ...)."""

from __future__ import annotations

import math
import random

from happysimulator.core.temporal import Duration
from happysimulator.distributions.latency_distribution import LatencyDistribution, _rng

_LEVELS = (("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p999", 0.999), ("p9999", 0.9999))


class PercentileFittedLatency(LatencyDistribution):
    """Exponential with the rate that best reproduces the given percentiles.

    The exponential quantile is ``q(p) = -ln(1 - p) / rate``, i.e. ``-ln(1 - p) = rate *
    q``: a line through the origin. The rate is its least-squares slope over the given
    ``(q, -ln(1 - p))`` points, so one percentile is matched exactly and several are
    compromised (larger values weigh more).
    """

    def __init__(
        self,
        p50: float | None = None,
        p90: float | None = None,
        p99: float | None = None,
        p999: float | None = None,
        p9999: float | None = None,
    ) -> None:
        given = dict(zip(("p50", "p90", "p99", "p999", "p9999"),
                         (p50, p90, p99, p999, p9999), strict=True))
        points = [(p, float(given[name])) for name, p in _LEVELS if given[name] is not None]
        if not points:
            raise ValueError("At least one percentile must be provided (p50, p90, p99, "
                             "p999 or p9999)")
        for _, v in points:
            if not (v > 0 and math.isfinite(v)):
                raise ValueError(f"percentile values must be finite and > 0, got {v}")
        values = [v for _, v in points]
        if values != sorted(values):
            raise ValueError("percentile values must not decrease (p50 <= p90 <= p99 ...)")
        num = sum(-math.log1p(-p) * v for p, v in points)
        den = sum(v * v for _, v in points)
        self._lambda = num / den
        super().__init__(1.0 / self._lambda)

    @property
    def rate(self) -> float:
        return self._lambda

    def sample(self, rng: random.Random | None = None) -> float:
        # the fitted shape, moved by any +/- shift of the mean
        shift = self._mean_latency - 1.0 / self._lambda
        return max(0.0, _rng(rng, self).expovariate(self._lambda) + shift)

    def get_percentile(self, p: float) -> Duration:
        """The fitted latency at quantile ``p`` (0 < p < 1)."""
        if not 0.0 < p < 1.0:
            raise ValueError(f"p must be in (0, 1), got {p}")
        return Duration.from_seconds(-math.log1p(-p) / self._lambda)

    def __repr__(self) -> str:
        return f"PercentileFittedLatency(mean={self._mean_latency:.6g})"


__all__ = ["PercentileFittedLatency"]
