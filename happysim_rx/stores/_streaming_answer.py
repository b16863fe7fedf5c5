"""Answering a range from a streaming series: its `View` (rollup buckets older than
the raw ring, then the ring), edge snapping, and the pooled aggregates over buckets
and raw samples (see `happysim_rx.stores.streaming` for the accuracy contract)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from happysim_rx.stores._rollup import Bucket
from happysim_rx.stores.compute import gauge_segments, pooled_aggregates
from happysim_rx.stores.metric import RangeAnswer
from operators.aggregators import parse_quantile
from operators.simtime import is_instant
from operators.sketch import QuantileSketch

__all__ = ["View", "combined", "exact_pooled", "snap"]


class View:
    """What answers a query on one series: buckets in time order (disjoint extents),
    the raw ring, and ``R``: every sample at or after ``R`` is in the ring (``R`` is the
    end of the bucket holding the newest evicted sample; -inf when nothing was evicted).
    """

    __slots__ = ("series", "buckets", "e0", "e1", "t", "v", "R", "gauge", "open_t", "open_v",
                 "tail", "newest")

    def __init__(self, s: Any) -> None:
        self.series = s
        bks = sorted([*s.coarse.buckets.values(), *s.fine.buckets.values()], key=lambda b: b.e0)
        self.buckets = bks
        self.e0 = np.array([b.e0 for b in bks])
        self.e1 = np.array([b.e1 for b in bks])
        t, v = s.ring_all()
        self.gauge = s.is_gauge
        if self.gauge and s.evicted_v is not None:  # carry-in for the ring's first segment
            t = np.concatenate(([s.evicted_t], t))
            v = np.concatenate(([s.evicted_v], v))
        self.t, self.v = t, v
        self.open_t, self.open_v = s.open_t, s.open_v
        # a gauge's newest point: in `t`/`v` (the ring's end) but in no bucket; the bucket
        # part of a range must add it when it lies there (it shares the bucket of R)
        self.tail = getattr(s, "tail", None)
        # the newest time of any of its data (a range ending after it cuts no bucket's
        # data: a gauge's held time in the buckets ends at its last summarized change)
        lts = [b.lt for b in bks if b.n]
        self.newest = max(([float(t[-1])] if t.size else []) + lts
                          + ([self.tail[0]] if self.tail is not None else []),
                          default=-math.inf)
        if s.evicted_v is None:
            self.R = -math.inf
        else:
            i = int(np.searchsorted(self.e1, s.evicted_t, side="right"))
            inside = i < len(bks) and self.e0[i] <= s.evicted_t
            self.R = float(self.e1[i]) if inside else math.nextafter(s.evicted_t, math.inf)

    def snap(self, x: float, down: bool) -> float:
        """``x`` if no bucket older than the ring's reach straddles it, else that
        bucket's start (``down``) or end."""
        if x >= self.R or (not down and x > self.newest):
            # (an end after all the data cuts nothing: the range [a, x) holds the
            # whole of the bucket around x -- e.g. a range ending just after now)
            return x
        i = int(np.searchsorted(self.e1, x, side="right"))  # first bucket ending after x
        if i < len(self.buckets) and self.e0[i] < x:
            return float(self.e0[i] if down else self.e1[i])
        return x

    def bucket_range(self, a: float, b: float) -> list[Bucket]:
        """Buckets whose extent lies in [a, b) (a and b cut no bucket)."""
        i0 = int(np.searchsorted(self.e0, a, side="left"))
        i1 = int(np.searchsorted(self.e1, b, side="right"))
        return self.buckets[i0:i1]

    def carry_before(self, a: float) -> float | None:
        """Gauge value in effect just before ``a`` from the buckets (last change < a)."""
        if self.tail is not None and self.tail[0] < a:
            return self.tail[1]
        i = int(np.searchsorted(self.e1, a, side="right"))
        for b in reversed(self.buckets[:i]):
            if b.n:
                return b.lv
        return None

    def bucket_end(self, b: float) -> float:
        """Where the bucket part of a range ending at ``b`` ends: ``b`` itself, or, when
        ``b`` falls inside a bucket after all the data, that bucket's end."""
        if b < self.R and b > self.newest:
            i = int(np.searchsorted(self.e1, b, side="right"))
            if i < len(self.buckets) and self.e0[i] < b:
                return float(self.e1[i])
        return b


def snap(views: list[View], x: float, how: str = "nearest") -> float:
    """The nearest time to ``x`` that cuts no bucket of any view (or the one below /
    above it)."""
    lo = x
    while True:
        nxt = min(v.snap(lo, True) for v in views)
        if nxt == lo:
            break
        lo = nxt
    hi = x
    while True:
        nxt = max(v.snap(hi, False) for v in views)
        if nxt == hi:
            break
        hi = nxt
    if how == "down":
        return lo
    if how == "up":
        return hi
    return lo if x - lo <= hi - x else hi


def exact_pooled(views, specs, a, b, weighting, counter, hold_until) -> dict[str, Any]:
    """Every view answers [a, b) from its raw ring: the exact store's computation."""
    ts, vs, segv, segw = [], [], [], []
    for view in views:
        t, v = view.t, view.v
        if weighting == "time":
            sv, sw, i0, i1 = gauge_segments(t, v, a, b, hold_until)
            segv.append(sv)
            segw.append(sw)
        else:
            i0, i1 = int(np.searchsorted(t, a)), int(np.searchsorted(t, b))
        ts.append(t[i0:i1])
        vs.append(v[i0:i1])
    return pooled_aggregates(specs, ts, vs, a, b, weighting=weighting, seg_values=segv,
                             seg_weights=segw, counter=counter)


class _Acc:
    """Pooled summary of bucket parts and raw parts of several series."""

    def __init__(self, ra: float) -> None:
        self.n = 0
        self.s = self.s2 = 0.0
        self.lo, self.hi = math.inf, -math.inf  # sample values
        self.hlo, self.hhi = math.inf, -math.inf  # values held (gauges)
        self.w = self.ws = self.ws2 = 0.0
        self.first: tuple[float, int, float] | None = None  # (time, series order, value)
        self.last: tuple[float, int, float] | None = None
        self.sketch = QuantileSketch(ra)
        self.res = 0.0

    def see(self, t: float, k: int, v: float) -> None:
        if self.first is None or (t, k) < self.first[:2]:
            self.first = (t, k, v)
        if self.last is None or (t, k) >= self.last[:2]:
            self.last = (t, k, v)

    def held(self, v: np.ndarray, w: np.ndarray) -> None:
        if v.size:
            self.hlo, self.hhi = min(self.hlo, float(v.min())), max(self.hhi, float(v.max()))
            self.w += float(w.sum())
            self.ws += float((v * w).sum())
            self.ws2 += float((v * v * w).sum())
            self.sketch.add_many(v, w)

    def samples(self, v: np.ndarray, sketch: bool) -> None:
        if v.size:
            self.n += int(v.size)
            self.s += float(v.sum())
            self.s2 += float((v * v).sum())
            self.lo, self.hi = min(self.lo, float(v.min())), max(self.hi, float(v.max()))
            if sketch:
                self.sketch.add_many(v)


def combined(views, specs, a, b, weighting, counter, hold_until, ra) -> RangeAnswer:
    """[a, b) from rollup buckets (the part before each series' raw ring) plus the raw
    rings: exact counts/sums/extremes, sketch quantiles."""
    tw = weighting == "time"
    if not tw and any(parse_quantile(s) is not None for s in specs):
        _refuse_sample_quantiles_of_gauges(views, a, b)
    acc = _Acc(ra)
    for k, view in enumerate(views):
        cut = min(b, view.R)
        seen_at_a = False
        if a < cut:  # the bucket part [a, cut)
            for bk in view.bucket_range(a, view.bucket_end(cut)):
                acc.res = max(acc.res, bk.e1 - bk.e0)
                if bk.n:
                    acc.n += bk.n
                    acc.s += bk.s
                    acc.s2 += bk.s2
                    acc.see(bk.ft, k, bk.fv)
                    acc.see(bk.lt, k, bk.lv)
                    seen_at_a = seen_at_a or bk.ft == a
                    if bk.slo < acc.lo:
                        acc.lo = bk.slo
                    if bk.shi > acc.hi:
                        acc.hi = bk.shi
                if tw:
                    acc.w += bk.w
                    acc.ws += bk.ws
                    acc.ws2 += bk.ws2
                    if bk.w > 0 or bk.n:
                        acc.hlo, acc.hhi = min(acc.hlo, bk.lo), max(acc.hhi, bk.hi)
                acc.sketch.merge(bk.sketch)
            tail = view.tail if view.tail is not None and view.tail[0] < cut else None
            if tail is not None and tail[0] >= a:  # the newest point, in no bucket
                acc.samples(np.array([tail[1]]), sketch=False)
                acc.see(tail[0], k, tail[1])
                seen_at_a = seen_at_a or tail[0] == a
            if view.gauge and tw:
                carry = view.carry_before(a)
                if carry is not None and not seen_at_a:
                    acc.see(a, k, carry)
                    acc.hlo, acc.hhi = min(acc.hlo, carry), max(acc.hhi, carry)
                # the open segment (value held since the last change) is in no bucket;
                # it ends where the tail (newer, in no bucket either) begins
                stop = cut if hold_until is None else min(cut, hold_until)
                ot = view.open_t
                open_stop = stop if tail is None else min(stop, tail[0])
                if ot is not None and ot < cut:
                    seg0 = max(ot, a)
                    if seg0 <= open_stop:
                        acc.held(np.array([view.open_v]), np.array([open_stop - seg0]))
                if tail is not None:
                    seg0 = max(tail[0], a)
                    if seg0 <= stop:
                        acc.held(np.array([tail[1]]), np.array([stop - seg0]))
        if a == b < view.R and view.gauge and tw:  # empty: the value held just before
            carry = view.carry_before(a)
            if carry is not None:
                acc.see(a, k, carry)
                acc.held(np.array([carry]), np.array([0.0]))
        if b > view.R or a == b == view.R:  # the raw part [max(a, R), b)
            # (an empty range at R itself: the value in effect there is the raw ring's,
            # as for any empty range after R; the buckets answer only those before R)
            a2 = max(a, view.R)
            t, v = view.t, view.v
            i0, i1 = int(np.searchsorted(t, a2)), int(np.searchsorted(t, b))
            vals = v[i0:i1]
            acc.samples(vals, sketch=not tw)
            if i1 > i0:
                acc.see(float(t[i0]), k, float(vals[0]))
                acc.see(float(t[i1 - 1]), k, float(vals[-1]))
            if tw:
                sv, sw, _, _ = gauge_segments(t, v, a2, b, hold_until)
                if sv.size > i1 - i0 and a2 == a:  # carried into the range at its start
                    # (when the range began in the buckets, the value carried into the raw
                    # part at R is their last change, already seen at its own time: seen
                    # again at R it would tie with the other series' and win or lose
                    # `first`/`last` by series order)
                    acc.see(a2, k, float(sv[0]))
                acc.held(sv, sw)
    out: dict[str, float | None] = {}
    span = b - a
    has_q = False
    for spec in specs:
        if spec == "count":
            out[spec] = int(acc.n)
        elif spec == "sum":
            whole = counter and float(acc.s).is_integer() and abs(acc.s) < 2**53
            out[spec] = (int(acc.s) if whole else acc.s) if acc.n else None
        elif spec == "rate":
            ok = math.isfinite(span) and not is_instant(a, b)
            out[spec] = ((acc.s if counter else acc.n) / span) if ok else None
        elif spec in ("first", "last"):
            pick = acc.first if spec == "first" else acc.last
            out[spec] = None if pick is None else pick[2]
        elif spec in ("min", "max"):
            lo, hi = (acc.hlo, acc.hhi) if tw else (acc.lo, acc.hi)
            if lo > hi:
                out[spec] = None
            else:
                out[spec] = lo if spec == "min" else hi
        elif spec in ("mean", "variance", "stddev"):
            if tw and acc.hlo <= acc.hhi:
                if acc.w > 0:
                    mean, ex2 = acc.ws / acc.w, acc.ws2 / acc.w
                else:  # held for no time: the value in effect is the answer
                    mean = ex2 = None
                    if acc.last is not None:
                        mean = acc.last[2]
                        ex2 = mean * mean
            elif not tw and acc.n:
                mean, ex2 = acc.s / acc.n, acc.s2 / acc.n
            else:
                mean = ex2 = None
            if mean is None or ex2 is None:
                out[spec] = None
                continue
            var = max(ex2 - mean * mean, 0.0)
            out[spec] = mean if spec == "mean" else var if spec == "variance" else math.sqrt(var)
        else:
            q = parse_quantile(spec)
            assert q is not None
            has_q = True
            if acc.sketch.count > 0:
                out[spec] = acc.sketch.quantile(q)
            elif tw and acc.last is not None and acc.hlo <= acc.hhi:
                out[spec] = acc.last[2]  # held for no time
            else:
                out[spec] = None
    return RangeAnswer(
        out,
        exact=not has_q,
        error_bound=ra if has_q else None,
        time_resolution=acc.res or None,
        start=a,
        end=b,
    )


def _refuse_sample_quantiles_of_gauges(views: list[View], a: float, b: float) -> None:
    """A gauge's rollup buckets sketch its values weighted by the seconds they were held:
    per-sample quantiles of it exist only where the raw ring still reaches. Answering
    them from the time-weighted sketches would be another statistic under this name."""
    for view in views:
        cut = min(b, view.R)
        if view.gauge and a < cut and any(bk.n for bk in view.bucket_range(a, cut)):
            s = view.series
            raise ValueError(
                f"per-sample quantiles of the gauge {s.source}.{s.name} before "
                f"t={view.R:.9g} s are not kept by the streaming store (its rollups weigh "
                "a gauge's values by the time they were held): ask the default "
                "weighting('time'), a range starting at or after that time, or record "
                "with ObservabilityConfig.full()")
