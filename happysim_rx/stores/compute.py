"""Exact aggregates over raw numpy slices (shared by the exact and streaming stores).

Gauges: ``gauge_segments`` turns change points into (value, seconds held) segments over
``[start, end)``, carrying in the value that was current at ``start``.
"""

from __future__ import annotations

import math

import numpy as np

from operators.aggregators import parse_quantile, weighted_quantile

__all__ = [
    "gauge_segments", "exact_aggregates", "pooled_aggregates", "check_aggregate", "TIME_WEIGHTED"
]

#: Aggregates that are time-weighted for gauges; the rest are per sample.
TIME_WEIGHTED = frozenset({"mean", "stddev", "variance"})
_PLAIN = ("count", "sum", "mean", "min", "max", "stddev", "variance", "rate", "last", "first")


def check_aggregate(spec: str) -> str:
    """Normalize an aggregate name or raise ValueError naming the valid ones."""
    from operators.aggregators import canonical_aggregate

    return canonical_aggregate(spec)


def is_time_weighted(spec: str) -> bool:
    return spec in TIME_WEIGHTED or parse_quantile(spec) is not None


def gauge_segments(
    t: np.ndarray, v: np.ndarray, start: float, end: float, hold_until: float | None = None
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(values, weights, i0, i1): segments of a gauge over [start, end).

    ``t`` must be sorted. The value current at ``start`` (last change before it) is
    carried in as the first segment, unless a change happens exactly at ``start`` (then
    the older value is not in effect anywhere in the range). ``i0:i1`` is the index range
    of the changes inside. Every change in ``[start, end)`` is a segment, even one
    replaced at the same instant (weight 0): min/max/last see what the raw rows show.
    ``hold_until`` (the clock) ends the last segment early: a value is held up to now,
    not into the future, so a range reaching past now weighs time only up to now.
    """
    i0 = int(np.searchsorted(t, start, side="left"))
    i1 = int(np.searchsorted(t, end, side="left"))
    carry = i0 > 0 and (i0 == t.size or t[i0] > start)
    seg_t = t[i0:i1]
    seg_v = v[i0:i1]
    if carry:
        seg_t = np.concatenate(([start], seg_t))
        seg_v = np.concatenate(([v[i0 - 1]], seg_v))
    if seg_t.size == 0:
        return seg_v, seg_t, i0, i1
    stop = end if hold_until is None else min(end, hold_until)
    ends = np.empty_like(seg_t)
    ends[:-1] = seg_t[1:]
    ends[-1] = max(stop, seg_t[-1])
    return seg_v, ends - seg_t, i0, i1


def exact_aggregates(
    specs: list[str],
    times: np.ndarray,
    values: np.ndarray,
    start: float,
    end: float,
    *,
    weighting: str = "sample",
    seg_values: np.ndarray | None = None,
    seg_weights: np.ndarray | None = None,
    counter: bool = False,
) -> dict[str, float | None]:
    """Aggregates of the samples ``values`` (at ``times``) in [start, end).

    With ``weighting="time"``, mean/stddev/variance/quantiles use the gauge segments
    ``seg_values``/``seg_weights`` and min/max/first/last include the carried-in value.
    """
    out: dict[str, float | None] = {}
    n = int(values.size)
    tw = weighting == "time" and seg_values is not None and seg_values.size > 0
    held = seg_values if tw else values  # values present in the range
    span = end - start
    for spec in specs:
        if spec == "count":
            out[spec] = n  # a count is an int
        elif spec == "sum":
            out[spec] = counter_sum(values, counter) if n else None
        elif spec == "rate":
            # a range that is one instant wide (e.g. a single sample with no explicit
            # range) has no meaningful rate: None, not a division by ~1e-15
            if not math.isfinite(span) or span <= 1e-9 * max(1.0, abs(end)):
                out[spec] = None
            else:
                out[spec] = (float(values.sum()) if counter else float(n)) / span
        elif held is None or held.size == 0:
            out[spec] = None
        elif spec == "min":
            out[spec] = float(held.min())
        elif spec == "max":
            out[spec] = float(held.max())
        elif spec == "first":
            out[spec] = float(held[0])
        elif spec == "last":
            out[spec] = float(held[-1])
        elif tw:
            assert seg_weights is not None
            w = seg_weights
            wsum = float(w.sum())
            if spec in ("mean", "stddev", "variance"):
                if wsum <= 0:  # held for no time: the current value is the answer
                    mean, var = float(held[-1]), 0.0
                else:
                    mean = float((held * w).sum() / wsum)
                    var = float((w * (held - mean) ** 2).sum() / wsum)
                out[spec] = (
                    mean if spec == "mean" else var if spec == "variance" else math.sqrt(var)
                )
            else:
                q = parse_quantile(spec)
                assert q is not None
                out[spec] = weighted_quantile(held, w, q) if wsum > 0 else float(held[-1])
        elif spec == "mean":
            out[spec] = float(values.mean())
        elif spec == "variance":
            out[spec] = float(values.var())
        elif spec == "stddev":
            out[spec] = float(values.std())
        else:
            q = parse_quantile(spec)
            if q is None:
                raise ValueError(f"unknown aggregate {spec!r}")
            out[spec] = float(np.quantile(values, q))
    return out


def pooled_aggregates(
    specs: list[str],
    ts: list[np.ndarray],
    vs: list[np.ndarray],
    start: float,
    end: float,
    *,
    weighting: str = "sample",
    seg_values: list[np.ndarray] | None = None,
    seg_weights: list[np.ndarray] | None = None,
    counter: bool = False,
) -> dict[str, float | None]:
    """Aggregates of several series pooled (``ts[k]``, ``vs[k]``: series k's samples in
    [start, end); ``seg_*[k]``: its gauge segments from `gauge_segments`).

    Pooled meaning: the samples of all series as one population (count, sum, rate,
    quantiles, min/max); a pooled gauge (time weighting) is the mixture "a series picked
    at random at a random instant": each held value weighs the seconds it was held, in
    whichever series. ``first``/``last`` are by time across series (a gauge's carried-in
    value is at ``start``), ties broken by the order of the series as given (callers
    sort by source, name).
    """
    times = np.concatenate(ts) if ts else np.empty(0)
    values = np.concatenate(vs) if vs else np.empty(0)
    if len(ts) > 1:
        order = np.argsort(times, kind="stable")  # first/last need global time order
        times, values = times[order], values[order]
    tw = weighting == "time" and seg_values is not None
    held = np.concatenate(seg_values) if tw and seg_values else None
    weights = np.concatenate(seg_weights) if tw and seg_weights else None
    out = exact_aggregates(specs, times, values, start, end, weighting=weighting,
                           seg_values=held, seg_weights=weights, counter=counter)
    if tw and seg_values is not None and len(seg_values) > 1 and (
            "first" in specs or "last" in specs):
        first = last = None
        for k, (sv, tk) in enumerate(zip(seg_values, ts, strict=True)):
            if sv.size == 0:
                continue
            carried = sv.size > tk.size
            f = (start if carried else float(tk[0]), k, float(sv[0]))
            la = (float(tk[-1]) if tk.size else start, k, float(sv[-1]))
            first = f if first is None or f[:2] < first[:2] else first
            last = la if last is None or la[:2] >= last[:2] else last
        if "first" in specs:
            out["first"] = None if first is None else first[2]
        if "last" in specs:
            out["last"] = None if last is None else last[2]
    return out


def counter_sum(values: np.ndarray, counter: bool) -> float | int:
    """Sum of the samples; a counter whose increments are all whole numbers sums to an
    int (5 requests, not 5.0)."""
    total = float(values.sum())
    if counter and abs(total) < 2**53 and bool(np.all(values == np.floor(values))):
        return int(total)
    return total


def result_weighting(specs: list[str], weighting: str) -> str:
    """The weighting a result actually used (time only if some aggregate is)."""
    if weighting == "time" and any(is_time_weighted(s) for s in specs):
        return "time"
    return "sample"
