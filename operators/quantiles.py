"""Quantiles of a few values: numpy's "linear" method in plain Python, and the
duration-weighted (inverted CDF) quantile of a gauge. Re-exported by
:mod:`operators.aggregators`.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["EXACT_LIMIT", "linear_quantile", "weighted_quantile"]

EXACT_LIMIT = 256  # quantile aggregators stay exact (raw values) up to this many points
_isfinite = math.isfinite


def linear_quantile(values: list[float], q: float) -> float:
    """``float(numpy.quantile(values, q))`` (its default "linear" method), bit for bit,
    in plain Python: for the few values of a live window numpy's per-call overhead
    (~20 us) is most of the cost of closing it.

    >>> linear_quantile([3.0, 1.0, 2.0, 4.0], 0.5) == float(np.quantile([3.0, 1.0, 2.0, 4.0], 0.5))
    True
    """
    if not _isfinite(sum(values)):  # NaN or infinities: numpy's own rules
        return float(np.quantile(values, q))
    s = sorted(values)
    n = len(s)
    virtual = (n - 1) * q  # numpy's virtual index for "linear"
    if virtual >= n - 1:
        return float(s[-1])
    if virtual < 0:
        return float(s[0])
    lo = int(virtual)  # (= floor: virtual >= 0 here)
    a = s[lo]
    t = virtual - lo
    diff = s[lo + 1] - a
    return float(a + diff * t if t < 0.5 else s[lo + 1] - diff * (1 - t))  # numpy's _lerp


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float | None:
    """Smallest v with (weight of values <= v) >= q * total weight (inverted CDF).

    >>> weighted_quantile(np.array([1.0, 2.0]), np.array([3.0, 1.0]), 0.5)
    1.0
    """
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    if values.size == 0:
        return None
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    # Tiny tolerance so float-summed durations do not skip a boundary value.
    i = int(np.searchsorted(cum, q * cum[-1] * (1 - 1e-12), side="left"))
    return float(values[order][min(i, values.size - 1)])
