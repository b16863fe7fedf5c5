"""Steady state: where the warm-up ends (MSER-5), and estimates from one long run
(batch means).

MSER-5 (White 1997; Hoad, Robinson & Davies 2010): average the output in batches of 5
observations, and drop the first ``d`` batches where ``d`` minimizes the marginal
standard error ``S²(d) / (m - d)`` of what is left (m batches, S² their variance about
their mean), searched over the first half of the run.

>>> import numpy as np
>>> y = np.r_[np.linspace(10, 1, 50), np.ones(450) + np.sin(np.arange(450))]
>>> mser_truncation(y)  # observations to drop: the transient's 50, in batches of 5
50

Batch means: split one long run (after its warm-up) into ``k`` consecutive batches;
their means are nearly independent when the batches are much longer than the output's
correlation time, and the t interval over them is then the interval of the run's mean.
That is checked: the lag-1 autocorrelation of the batch means must not be significantly
positive (one-sided 5 % test, ``r1 > 1.645 / sqrt(k)``), else ``independent`` is False
and a warning says to use fewer, longer batches or a longer run.
"""

from __future__ import annotations

import glob
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from happysimulator.experiments.estimate import Estimate

__all__ = ["BatchMeans", "batch_means", "mser_truncation"]


def mser_truncation(y: Any, batch: int = 5) -> int:
    """How many leading observations of ``y`` to drop (a multiple of ``batch``)."""
    y = np.asarray(y, dtype=float)
    m = len(y) // batch
    if m < 4:
        raise ValueError(f"MSER-{batch} needs at least {4 * batch} observations, got {len(y)}")
    z = y[: m * batch].reshape(m, batch).mean(axis=1)
    best_d, best = 0, math.inf
    for d in range(m // 2 + 1):
        rest = z[d:]
        stat = float(np.sum((rest - rest.mean()) ** 2)) / (len(rest) ** 2)
        if stat < best:
            best_d, best = d, stat
    return best_d * batch


def warmup_from_windows(rows: list[tuple[float, float, float]], *, label: str,
                        batch: int = 5, empty: int = 0) -> float:
    """MSER on window means averaged over replications: rows (start, end, mean) in time
    order (windows without any sample left out: `empty` of them); the start of the first
    window kept (seconds)."""
    if len(rows) < 4 * batch:
        if empty:
            raise ValueError(
                f"{label}: {len(rows)} windows with a sample is too few for MSER-{batch} "
                f"(needs {4 * batch}; {empty} more had no sample in any replication); use "
                "a larger window= (more samples per window) or longer runs")
        raise ValueError(
            f"{label}: {len(rows)} windows is too few for MSER-{batch} (needs {4 * batch}); "
            "use a smaller window= (e.g. 1/100 of the run) or longer runs")
    d = mser_truncation([r[2] for r in rows], batch)
    m = len(rows) // batch
    if d // batch >= m // 2:
        warnings.warn(f"{label}: MSER-{batch} found no steady state in the first half of "
                      f"the runs (truncation at the limit, {rows[d][0]:g} s): the runs may "
                      "be too short or the system not stationary", RuntimeWarning,
                      stacklevel=3)
    return float(rows[d][0])


@dataclass(frozen=True)
class BatchMeans:
    """A mean with its confidence interval from one run's batch means."""

    estimate: Estimate
    #: simulated seconds covered per batch (samples: the mean over batches)
    batch_seconds: float
    #: observations per batch (samples; None for gauges, batched by time)
    batch_size: int | None
    #: lag-1 autocorrelation of the batch means
    lag1: float
    #: False when ``lag1`` is significantly positive: the interval is then too narrow
    independent: bool
    start: float
    end: float

    @property
    def mean(self) -> float:
        return self.estimate.mean

    @property
    def half_width(self) -> float:
        return self.estimate.half_width

    @property
    def batches(self) -> int:
        return self.estimate.n

    def ci(self, level: float | None = None) -> tuple[float, float]:
        return self.estimate.ci(level)

    def __repr__(self) -> str:
        e = self.estimate
        label = f"{e.entity}.{e.metric}" if e.entity else e.metric
        flag = "" if self.independent else ", batches CORRELATED"
        return (f"<BatchMeans {label} {e.aggregate}={e.mean:.6g} ± {e.half_width:.3g} "
                f"({e.level:.0%} CI, {e.n} batches over [{self.start:g}, {self.end:g}) s, "
                f"lag-1 r={self.lag1:.2f}{flag})>")


def _lag1(x: np.ndarray) -> float:
    d = x - x.mean()
    den = float(np.dot(d, d))
    return float(np.dot(d[:-1], d[1:]) / den) if den > 0 else 0.0


def batch_means(sim: Any, metric: str, *, entity: str, batches: int = 20,
                warmup: float = 0.0, level: float = 0.95) -> BatchMeans:
    """The steady-state mean of `metric` from one long run of ``sim`` (finished or
    paused), by ``batches`` batch means after ``warmup`` seconds.

    Samples (e.g. ``wait_time``) are batched by count (consecutive observations);
    gauges (e.g. ``queue_depth``) by equal spans of time, each batch's mean
    time-weighted; counters (e.g. ``arrivals``) by equal spans of time too, each batch's
    value its rate (increments per simulated second; the last batch includes an
    increment at the current instant): the estimate is of the counter's rate, not of an
    increment's size. Needs the exact store (the default; not ``streaming()``).
    """
    from happysim_rx.stores.compute import gauge_segments

    if isinstance(batches, bool) or not isinstance(batches, int) or batches < 2:
        raise ValueError(f"batches must be an int >= 2, got {batches!r}")
    if not (isinstance(warmup, int | float) and warmup >= 0):
        raise ValueError(f"warmup must be >= 0 simulated seconds, got {warmup!r}")
    engine = getattr(sim, "query", None)
    if engine is None:
        raise TypeError(f"batch_means needs an observable Simulation, got {type(sim).__name__}")
    series = _series(engine, metric, entity)
    kind = _kind(engine, metric, entity)
    if not hasattr(series, "arrays"):
        raise ValueError(f"{entity}.{metric} keeps no raw samples (a streaming store): batch "
                         "means need ObservabilityConfig.default() or full()")
    t, v = series.arrays()
    now = float(engine.now() or 0.0)
    if warmup >= now:
        raise ValueError(f"warmup={warmup:g} s is not before the end of the run ({now:g} s)")
    if kind == "gauge":
        edges = np.linspace(warmup, now, batches + 1)
        means = []
        for b0, b1 in zip(edges[:-1], edges[1:], strict=True):
            seg_v, seg_w, _, _ = gauge_segments(t, v, float(b0), float(b1))
            w = float(np.sum(seg_w))
            means.append(float(np.sum(seg_v * seg_w) / w) if w > 0 else math.nan)
        values = np.array(means)
        size = None
        seconds = (now - warmup) / batches
    elif kind == "counter":
        edges = np.linspace(warmup, now, batches + 1)
        tt = np.asarray(t, dtype=float)
        inc = np.asarray(v, dtype=float)
        idx = np.searchsorted(tt, edges, side="left")
        idx[-1] = np.searchsorted(tt, now, side="right")  # (a value at now counts)
        # (each batch's sum exactly rounded: a running sum's differences are not)
        values = np.array([math.fsum(inc[i:j]) for i, j in zip(idx[:-1], idx[1:],
                                                                strict=True)]) / np.diff(edges)
        size = None
        seconds = (now - warmup) / batches
    else:
        i0 = int(np.searchsorted(t, warmup))
        x = np.asarray(v[i0:], dtype=float)
        size = len(x) // batches
        if size < 1:
            raise ValueError(f"{entity}.{metric} has {len(x)} samples after the warm-up: too "
                             f"few for {batches} batches")
        values = x[: size * batches].reshape(batches, size).mean(axis=1)
        seconds = (now - warmup) / batches
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{entity}.{metric}: a batch has no data; use fewer batches")
    r1 = _lag1(values)
    independent = r1 <= 1.645 / math.sqrt(batches)
    if not independent:
        warnings.warn(
            f"batch means of {entity}.{metric} are correlated (lag-1 r={r1:.2f} > "
            f"{1.645 / math.sqrt(batches):.2f}): the interval is too narrow; use fewer, "
            "longer batches or a longer run", RuntimeWarning, stacklevel=2)
    est = Estimate(metric, entity, "rate" if kind == "counter" else "mean",
                   tuple(float(x) for x in values), level=level)
    return BatchMeans(est, seconds, size, r1, independent, float(warmup), now)


def _series(engine: Any, metric: str, entity: str) -> Any:
    store = engine.metric_store
    found = [s for s in store.select(glob.escape(metric), glob.escape(entity))
             if s.source == entity and s.name == metric] if store is not None else []
    if not found:
        known = sorted({f"{m['source']}.{m['name']}" for m in engine.catalog()["metrics"]})
        raise KeyError(f"no series {entity}.{metric}; known: {', '.join(known)}")
    return found[0]


def _kind(engine: Any, metric: str, entity: str) -> str:
    for info in engine.catalog()["metrics"]:
        if info["name"] == metric and info["source"] == entity:
            return info["series_kind"] or "sample"
    return "sample"
