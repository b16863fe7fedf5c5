"""Across-replication estimates: a mean with its t-based confidence interval, and pooled
quantiles from merged sketches.

>>> e = Estimate("wait_time", "Server", "mean", (1.0, 2.0, 3.0))
>>> e.mean, round(e.half_width, 4), e.n
(2.0, 2.4841, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from operators.sketch import QuantileSketch

__all__ = ["Estimate", "PooledQuantile", "t_quantile"]


def t_quantile(p: float, df: int) -> float:
    """The p-quantile of Student's t distribution with `df` degrees of freedom."""
    from scipy.stats import t  # scipy comes with river, a core dependency

    return float(t.ppf(p, df))


def _level(level: float) -> float:
    if not 0.0 < level < 1.0 or level != level:
        raise ValueError(f"confidence level must be in (0, 1), e.g. 0.95; got {level!r}")
    return float(level)


@dataclass(frozen=True)
class Estimate:
    """One scalar across replications: ``values`` (one per replication, in replication
    order), their ``mean`` and a t-based confidence interval (replications are i.i.d.)."""

    metric: str
    entity: str | None
    aggregate: str
    values: tuple[float, ...]
    level: float = 0.95

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def stddev(self) -> float:
        """Sample standard deviation across replications (n - 1 in the denominator)."""
        self._need_two("stddev")
        return float(np.std(self.values, ddof=1))

    @property
    def standard_error(self) -> float:
        return self.stddev / math.sqrt(self.n)

    @property
    def half_width(self) -> float:
        """Half-width of the ``level`` (default 95 %) confidence interval of the mean."""
        return self.half_width_at(self.level)

    def half_width_at(self, level: float) -> float:
        self._need_two("a confidence interval")
        return t_quantile(0.5 + _level(level) / 2, self.n - 1) * self.standard_error

    def ci(self, level: float | None = None) -> tuple[float, float]:
        """(low, high) of the t-based confidence interval of the mean."""
        h = self.half_width_at(self.level if level is None else level)
        m = self.mean
        return (m - h, m + h)

    def _need_two(self, what: str) -> None:
        if self.n < 2:
            raise ValueError(f"{what} needs at least 2 replications, this estimate has {self.n}")

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"metric": self.metric, "entity": self.entity,
                                  "aggregate": self.aggregate, "n": self.n, "mean": self.mean}
        if self.n >= 2:
            lo, hi = self.ci()
            out.update(stddev=self.stddev, half_width=self.half_width, level=self.level,
                       ci_low=lo, ci_high=hi)
        return out

    def __repr__(self) -> str:
        label = f"{self.entity}.{self.metric}" if self.entity else self.metric
        if self.n < 2:
            return f"<Estimate {label} {self.aggregate}={self.mean:.6g} (n={self.n})>"
        return (f"<Estimate {label} {self.aggregate}={self.mean:.6g} "
                f"± {self.half_width:.3g} ({self.level:.0%} CI, n={self.n})>")


@dataclass(frozen=True)
class PooledQuantile:
    """A quantile of all replications' samples together, from their merged sketches.

    ``value`` is within ``relative_accuracy`` (relative) of the pooled sample of that
    rank. ``per_replication`` holds each replication's own quantile (from its sketch),
    whose spread gives a confidence interval (``per_replication.ci()``).
    """

    metric: str
    entity: str
    q: float
    value: float | None
    relative_accuracy: float
    count: float
    weighting: str
    per_replication: Estimate

    @property
    def n(self) -> int:
        return self.per_replication.n

    def __float__(self) -> float:
        if self.value is None:
            raise ValueError(f"no samples of {self.entity}.{self.metric} in any replication")
        return float(self.value)

    def __repr__(self) -> str:
        return (f"<PooledQuantile {self.entity}.{self.metric} q={self.q:g}: {self.value!r} "
                f"(±{self.relative_accuracy:.1%} relative, {self.weighting}-weighted, "
                f"{self.n} replications)>")


def merge_sketches(sketches: list[QuantileSketch]) -> QuantileSketch:
    """One sketch of everything the given sketches saw (exact merge of bucket counts)."""
    if not sketches:
        raise ValueError("nothing to merge")
    out = sketches[0].copy()
    for s in sketches[1:]:
        out.merge(s)
    return out
