"""Exact aggregates over raw numpy slices (shared by the exact and streaming stores).

Gauges: ``gauge_segments`` turns change points into (value, seconds held) segments over
``[start, end)``, carrying in the value that was current at ``start``.
"""

from __future__ import annotations

import math

import numpy as np

from operators.aggregators import parse_quantile, weighted_quantile
from operators.simtime import is_instant

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
    # (an empty range [x, x) answers the value held just before x, for no time)
    carry = i0 > 0 and (i0 == t.size or t[i0] > start or end <= start)
    seg_t = t[i0:i1]
    seg_v = v[i0:i1]
    if carry:
        seg_t = np.concatenate(([start], seg_t))
        seg_v = np.concatenate(([v[i0 - 1]], seg_v))
    if seg_t.size == 0:
        return seg_v, seg_t, i0, i1
    stop = end if hold_until is None else min(end, hold_until)
    w = np.empty_like(seg_t)  # seconds held: to the next change, the end or now
    np.subtract(seg_t[1:], seg_t[:-1], out=w[:-1])
    w[-1] = max(stop, float(seg_t[-1])) - seg_t[-1]
    return seg_v, w, i0, i1


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
            # a range that holds one instant (a single sample with no explicit range, the
            # row [now, just after now)) has no rate: None, not a division by one ulp.
            # Any range holding two instants has one, at any magnitude of time.
            if not math.isfinite(span) or is_instant(start, end):
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
                    mean = float(np.dot(held, w) / wsum)
                    var = 0.0
                    if spec != "mean":  # (one pass less when only the mean is asked)
                        dev = held - mean
                        var = float(np.dot(w, dev * dev) / wsum)
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
    one = len(ts) == 1  # (no copies for the common single-series case)
    times = ts[0] if one else np.concatenate(ts) if ts else np.empty(0)
    values = vs[0] if one else np.concatenate(vs) if vs else np.empty(0)
    if len(ts) > 1:
        order = np.argsort(times, kind="stable")  # first/last need global time order
        times, values = times[order], values[order]
    tw = weighting == "time" and seg_values is not None
    held = weights = None
    if tw and seg_values and seg_weights:
        held = seg_values[0] if one else np.concatenate(seg_values)
        weights = seg_weights[0] if one else np.concatenate(seg_weights)
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


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """numpy's own linear interpolation for quantiles (bit-identical to np.quantile)."""
    d = b - a
    return np.where(t >= 0.5, b - d * (1 - t), a + d * t)


def _rates(n: np.ndarray, edges: np.ndarray) -> list[float | None]:
    span = edges[1:] - edges[:-1]
    # (`is_instant`, window by window: a row holding one instant has no rate)
    ok = np.isfinite(span) & (edges[1:] > np.nextafter(edges[:-1], np.inf))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # (a sliver: inf)
        r = n / span
    return [float(x) if k else None for x, k in zip(r.tolist(), ok.tolist(), strict=True)]


def _fill(n_win: int, ne: np.ndarray, vals: np.ndarray) -> list[float | None]:
    """Per-window list: ``vals`` for the windows in ``ne`` (a mask), None elsewhere."""
    out: list[float | None] = [None] * n_win
    for i, x in zip(np.flatnonzero(ne).tolist(), vals.tolist(), strict=True):
        out[i] = x
    return out


def window_sample_aggregates(
    specs: list[str], times: np.ndarray, values: np.ndarray, edges: np.ndarray, *,
    counter: bool = False,
) -> list[dict[str, float | None]]:
    """`exact_aggregates` of samples for every window ``[edges[i], edges[i+1])`` in one
    vectorized pass: ``searchsorted`` bounds, ``reduceat`` sums and extremes, one
    segmented sort (``lexsort``) for all quantiles. ``times`` must be sorted."""
    n_win = edges.size - 1
    idx = np.searchsorted(times, edges, side="left")
    lo, hi = idx[:-1], idx[1:]
    cnt = hi - lo
    ne = cnt > 0
    base = int(idx[0])
    vals = values[base:int(idx[-1])]
    starts = (lo[ne] - base).astype(np.intp)
    c = cnt[ne]
    cols: dict[str, list[float | None]] = {}
    sums = np.add.reduceat(vals, starts) if starts.size else np.empty(0)
    sorted_vals = None
    for spec in specs:
        if spec in cols:
            continue
        if spec == "count":
            cols[spec] = cnt.tolist()  # counts are ints
        elif spec == "sum":
            col = _fill(n_win, ne, sums)
            if counter and starts.size:  # whole increments sum to an int (counter_sum)
                frac = np.add.reduceat((vals != np.floor(vals)).astype(np.int64), starts)
                for i, k in zip(np.flatnonzero(ne).tolist(), frac.tolist(), strict=True):
                    x = col[i]
                    if k == 0 and x is not None and abs(x) < 2**53:
                        col[i] = int(x)
            cols[spec] = col
        elif spec == "rate":
            full = np.zeros(n_win)
            full[ne] = sums if counter else c
            cols[spec] = _rates(full, edges)
        elif spec == "mean":
            cols[spec] = _fill(n_win, ne, sums / c)
        elif spec in ("variance", "stddev"):
            mean = sums / c
            dev = vals - np.repeat(mean, c)
            var = np.add.reduceat(dev * dev, starts) / c if starts.size else np.empty(0)
            cols[spec] = _fill(n_win, ne, var if spec == "variance" else np.sqrt(var))
        elif spec == "min":
            cols[spec] = _fill(n_win, ne, np.minimum.reduceat(vals, starts)
                               if starts.size else np.empty(0))
        elif spec == "max":
            cols[spec] = _fill(n_win, ne, np.maximum.reduceat(vals, starts)
                               if starts.size else np.empty(0))
        elif spec == "first":
            cols[spec] = _fill(n_win, ne, vals[starts])
        elif spec == "last":
            cols[spec] = _fill(n_win, ne, vals[starts + c - 1])
        else:
            q = parse_quantile(spec)
            if q is None:
                raise ValueError(f"unknown aggregate {spec!r}")
            if sorted_vals is None:
                seg = np.repeat(np.arange(c.size), c)
                sorted_vals = vals[np.lexsort((vals, seg))]
            pos = q * (c - 1)
            f = np.floor(pos).astype(np.intp)
            g = np.minimum(f + 1, c - 1)
            cols[spec] = _fill(n_win, ne, _lerp(sorted_vals[starts + f],
                                                sorted_vals[starts + g], pos - f))
    return [{s: cols[s][i] for s in specs} for i in range(n_win)]


def window_gauge_aggregates(
    specs: list[str], t: np.ndarray, v: np.ndarray, edges: np.ndarray,
    hold_until: float | None = None,
) -> list[dict[str, float | None]] | None:
    """Time-weighted `exact_aggregates` of one gauge (changes ``t``, ``v``, sorted) for
    every window in one pass; None for aggregates it does not vectorize (quantiles)."""
    if any(parse_quantile(s) is not None for s in specs):
        return None
    n_win = edges.size - 1
    idx = np.searchsorted(t, edges, side="left")
    lo, hi = idx[:-1], idx[1:]
    cnt = hi - lo
    # the value carried into each window: the last change before its start, unless a
    # change happens exactly at the start (or the window is empty: x in [x, x) holds it)
    has_prev = lo > 0
    at_start = np.zeros(n_win, dtype=bool)
    inside = lo < t.size
    at_start[inside] = t[lo[inside]] == edges[:-1][inside]
    empty_range = edges[1:] <= edges[:-1]
    carry = has_prev & (~at_start | empty_range)
    carry_v = np.where(has_prev, v[np.maximum(lo - 1, 0)], np.nan) if t.size \
        else np.full(n_win, np.nan)
    # pieces: window starts and change times inside, each held to the next boundary
    i0, i1 = int(idx[0]), int(idx[-1])
    ct = t[i0:i1]
    starts_t = edges[:-1][carry]
    pt = np.concatenate((starts_t, ct))
    pv = np.concatenate((carry_v[carry], v[i0:i1]))
    pw_win = np.concatenate((np.flatnonzero(carry), np.searchsorted(edges, ct, "right") - 1))
    order = np.lexsort((np.concatenate((np.zeros(starts_t.size), np.ones(ct.size))), pt))
    pt, pv, pw_win = pt[order], pv[order], pw_win[order]
    nxt = np.empty_like(pt)
    nxt[:-1] = pt[1:]
    stop = edges[1:][pw_win] if pt.size else np.empty(0)
    if hold_until is not None:
        stop = np.minimum(stop, hold_until)
    if pt.size:
        nxt[-1] = np.inf
        nxt = np.minimum(nxt, edges[1:][pw_win])
        # a piece ends at the next piece, the window end or now (never before it starts)
        nxt = np.maximum(np.minimum(nxt, stop), pt)
    w = nxt - pt
    npieces = np.bincount(pw_win, minlength=n_win)
    has = npieces > 0
    wsum = np.bincount(pw_win, weights=w, minlength=n_win)
    cols: dict[str, list[float | None]] = {}
    pstart = np.concatenate(([0], np.cumsum(npieces)[:-1]))
    last_v = np.where(has, pv[np.maximum(pstart + npieces - 1, 0)] if pt.size else 0.0, np.nan)
    for spec in specs:
        if spec in cols:
            continue
        if spec == "count":
            cols[spec] = cnt.tolist()  # counts are ints
        elif spec in ("sum", "rate"):
            vals = v[i0:i1]
            seg = np.searchsorted(edges, ct, "right") - 1
            s = np.bincount(seg, weights=vals, minlength=n_win)
            if spec == "sum":
                cols[spec] = [float(x) if k else None
                              for x, k in zip(s.tolist(), (cnt > 0).tolist(), strict=True)]
            else:
                cols[spec] = _rates(cnt.astype(float), edges)
        elif spec in ("min", "max"):
            red = np.minimum if spec == "min" else np.maximum
            ext = red.reduceat(pv, pstart[has]) if pt.size else np.empty(0)
            cols[spec] = _fill(n_win, has, ext)
        elif spec == "first":
            cols[spec] = _fill(n_win, has, pv[pstart[has]])
        elif spec == "last":
            cols[spec] = _fill(n_win, has, last_v[has])
        elif spec in ("mean", "variance", "stddev"):
            with np.errstate(divide="ignore", invalid="ignore"):
                mean = np.bincount(pw_win, weights=pv * w, minlength=n_win) / wsum
                mean = np.where(wsum > 0, mean, last_v)
                dev = pv - mean[pw_win]
                var = np.bincount(pw_win, weights=w * dev * dev, minlength=n_win) / wsum
                var = np.where(wsum > 0, var, 0.0)
            res = mean if spec == "mean" else var if spec == "variance" else np.sqrt(var)
            cols[spec] = _fill(n_win, has, res[has])
        else:
            raise ValueError(f"unknown aggregate {spec!r}")
    return [{s: cols[s][i] for s in specs} for i in range(n_win)]
