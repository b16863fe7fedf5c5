"""Vectorized numpy references the query benchmarks time their answers against (and check
them with): what a user would write with numpy over the raw samples."""

from __future__ import annotations

import numpy as np


def window_quantile(t: np.ndarray, v: np.ndarray, size: float, q: float = 0.99):
    """Per tumbling window ``[k*size, (k+1)*size)``: (window starts, the q-quantile with
    numpy's default linear interpolation), by one segmented sort."""
    keys = np.floor(t / size).astype(np.int64)
    order = np.lexsort((v, keys))
    sv, sk = v[order], keys[order]
    uk, first, counts = np.unique(sk, return_index=True, return_counts=True)
    pos = q * (counts - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, counts - 1)
    a, b = sv[first + lo], sv[first + hi]
    return uk * size, a + (b - a) * (pos - lo)


def time_weighted_mean(t: np.ndarray, v: np.ndarray, end: float) -> float:
    """A gauge's mean over ``[t[0], end)``, each value weighted by how long it held."""
    dt = np.diff(np.append(t, end))
    return float(np.dot(v, dt) / (end - t[0]))
