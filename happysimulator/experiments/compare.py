"""Two scenarios, one difference: ``compare(a, b, metric, entity=...)``.

When ``a`` and ``b`` ran with common random numbers (the same seed for replication ``i``
on both sides: ``sweep(..., common_random_numbers=True)`` or two ``replicate`` calls with
the same ``seed``), the replications are paired and the interval is the paired t
interval of the differences: the noise both sides share cancels. Otherwise the two
samples are independent and the interval is Welch's (unequal variances).

>>> from happysimulator.experiments.compare import welch_df
>>> round(welch_df(1.0, 10, 1.0, 10), 6)
18.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from happysimulator.experiments.estimate import _level, t_quantile

__all__ = ["Comparison", "compare", "welch_df"]


def welch_df(var_a: float, n_a: int, var_b: float, n_b: int) -> float:
    """Welch-Satterthwaite degrees of freedom of a difference of two means."""
    qa, qb = var_a / n_a, var_b / n_b
    denom = qa * qa / (n_a - 1) + qb * qb / (n_b - 1)
    return (qa + qb) ** 2 / denom if denom > 0 else float(n_a + n_b - 2)


@dataclass(frozen=True)
class Comparison:
    """``a - b`` of one per-replication aggregate, with its confidence interval.

    ``method`` is ``"paired"`` (common random numbers: ``n`` pairs, ``correlation``
    between the sides) or ``"welch"`` (independent samples, ``df`` from
    Welch-Satterthwaite).
    """

    metric: str
    entity: str | None
    aggregate: str
    method: str
    difference: float
    standard_error: float
    df: float
    n: int
    level: float
    mean_a: float
    mean_b: float
    correlation: float | None = None

    @property
    def half_width(self) -> float:
        return t_quantile(0.5 + self.level / 2, self.df) * self.standard_error

    def ci(self, level: float | None = None) -> tuple[float, float]:
        lvl = self.level if level is None else _level(level)
        h = t_quantile(0.5 + lvl / 2, self.df) * self.standard_error
        return (self.difference - h, self.difference + h)

    @property
    def significant(self) -> bool:
        """True when the interval excludes 0 (at ``level``)."""
        lo, hi = self.ci()
        return lo > 0 or hi < 0

    def __repr__(self) -> str:
        label = f"{self.entity}.{self.metric}" if self.entity else self.metric
        return (f"<Comparison {label} {self.aggregate} a-b={self.difference:.6g} "
                f"± {self.half_width:.3g} ({self.level:.0%} CI, {self.method}, n={self.n})>")


def _seeded_values(reps: Any, metric: str, entity: str | None,
                   aggregate: str | None) -> tuple[str | None, str, dict[int, tuple[int, float]]]:
    est = reps.estimate(metric, entity=entity, aggregate=aggregate)
    by_rep = {r.replication: (r.seed, v)
              for r, v in zip(reps.runs, est.values, strict=True)}
    return est.entity, est.aggregate, by_rep


def compare(a: Any, b: Any, metric: str, *, entity: str | None = None,
            aggregate: str | None = None, level: float = 0.95,
            paired: bool | None = None) -> Comparison:
    """The difference ``a - b`` of `metric`'s per-replication ``aggregate`` (default
    mean) between two `Replications`.

    ``paired=None`` decides from the seeds: paired when every replication of ``a`` has
    the same seed as the replication of ``b`` with the same index (common random
    numbers), Welch's otherwise. ``paired=True`` insists (ValueError if the seeds do not
    match: pairing independent runs would misstate the interval).
    """
    lvl = _level(level)
    ent_a, agg, va = _seeded_values(a, metric, entity, aggregate)
    ent_b, _, vb = _seeded_values(b, metric, entity, aggregate)
    common = sorted(set(va) & set(vb))
    same_seeds = bool(common) and all(va[i][0] == vb[i][0] for i in common) and \
        len(common) >= 2
    if paired is None:
        paired = same_seeds
    elif paired and not same_seeds:
        raise ValueError("paired=True needs common random numbers: replication i of both "
                         "sides with the same seed (sweep(common_random_numbers=True), or "
                         "two replicate calls with the same seed)")
    x = np.array([v for _, v in va.values()])
    y = np.array([v for _, v in vb.values()])
    if paired:
        xs = np.array([va[i][1] for i in common])
        ys = np.array([vb[i][1] for i in common])
        d = xs - ys
        n = len(d)
        se = float(np.std(d, ddof=1)) / math.sqrt(n)
        corr = float(np.corrcoef(xs, ys)[0, 1]) if np.std(xs) > 0 and np.std(ys) > 0 else None
        return Comparison(metric, ent_a if ent_a == ent_b else None, agg, "paired",
                          float(d.mean()), se, float(n - 1), n, lvl, float(xs.mean()),
                          float(ys.mean()), corr)
    if len(x) < 2 or len(y) < 2:
        raise ValueError(f"Welch's interval needs >= 2 replications per side, got "
                         f"{len(x)} and {len(y)}")
    var_a, var_b = float(np.var(x, ddof=1)), float(np.var(y, ddof=1))
    se = math.sqrt(var_a / len(x) + var_b / len(y))
    return Comparison(metric, ent_a if ent_a == ent_b else None, agg, "welch",
                      float(x.mean() - y.mean()), se, welch_df(var_a, len(x), var_b, len(y)),
                      len(x) + len(y), lvl, float(x.mean()), float(y.mean()))
