"""Bounded metric store: memory independent of run length.

Per series:

* a ring of the most recent ``raw_capacity`` raw samples;
* a *fine* tier of ``fine_buckets`` time buckets of ``bucket_width`` seconds, and a
  *coarse* tier of at most ``coarse_buckets`` buckets that doubles its width (merging
  pairs) when full, so the whole history stays summarized at decreasing resolution.
  Each bucket holds count/sum/sum of squares/min/max/first/last, time-weighted sums for
  gauges, and a mergeable ``QuantileSketch``. Each bucket knows its extent: the extents
  of a series' buckets are disjoint and lie on the grid of ``bucket_width``.

How a range ``[start, end)`` is answered (never a made-up value):

* every sample at or after the series' ``R`` (the end of the bucket holding the newest
  evicted sample) is in the ring: edges after ``R`` are used as asked, and that part is
  answered from the raw samples, exactly as the exact store would;
* an edge before ``R`` that falls inside a bucket moves to the nearer bucket edge. The
  answer states the range it really covers (``RangeAnswer.start/end``; the query rows'
  ``start``/``end``), and windows whose edges snap together merge into one row, so rows
  partition the run and counts over them add up;
* over the stated range, count, sum, rate, mean, stddev, min, max, first and last are
  exact; quantiles that used rollups are within ``relative_accuracy`` (relative) of the
  item of that rank (``error_bound``); ``exact`` is False only then.

>>> s = StreamingMetricStore(raw_capacity=100)
>>> ser = s.series_for("Sink", "latency", "sample")
>>> for i in range(1000): ser.append(i * 0.01, 1.0)
>>> a = s.aggregate([ser], ["count"], 0.0, 10.0, weighting="sample")
>>> a.values["count"], a.exact, (a.start, a.end)
(1000, True, (0.0, 10.0))
>>> a = s.aggregate([ser], ["count", "p50"], 0.25, 9.5, weighting="sample")
>>> a.values["count"], a.exact, a.error_bound, (a.start, a.end)
(950, False, 0.005, (0.0, 9.5))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from happysim_rx.observation import ObservationKind
from happysim_rx.stores._series_map import SeriesMap
from happysim_rx.stores._streaming_answer import combined, exact_pooled, snap
from happysim_rx.stores._streaming_series import StreamingSeries
from happysim_rx.stores.compute import exact_aggregates
from happysim_rx.stores.metric import RangeAnswer

__all__ = ["StreamingMetricStore", "StreamingSeries"]



class StreamingMetricStore(SeriesMap):
    """Bounded-memory metric store; see module docstring for the accuracy contract."""

    kinds = frozenset({ObservationKind.METRIC})
    exact = False
    keeps_tags = False  # samples are summarized without their tags

    def __init__(
        self,
        *,
        raw_capacity: int = 8192,
        bucket_width: float = 1.0,
        fine_buckets: int = 64,
        coarse_buckets: int = 128,
        relative_accuracy: float = 0.005,
    ) -> None:
        if bucket_width <= 0 or raw_capacity < 1 or fine_buckets < 1 or coarse_buckets < 2:
            raise ValueError(
                "bucket_width > 0, raw_capacity >= 1, fine_buckets >= 1, coarse_buckets >= 2"
            )
        self.raw_capacity = raw_capacity
        self.bucket_width = float(bucket_width)
        self.fine_buckets = fine_buckets
        self.coarse_buckets = coarse_buckets
        self.relative_accuracy = relative_accuracy
        super().__init__()

    def _new_series(self, source: str, name: str, series_kind: str | None) -> Any:
        return StreamingSeries(self, source, name, series_kind)

    def time_bounds(self, series: list[StreamingSeries]) -> tuple[float, float] | None:
        lo, hi = math.inf, -math.inf
        for s in series:
            v = s.view()
            if v.t.size:
                hi = max(hi, float(v.t[-1]))
                lo = min(lo, float(v.t[0]))
            if v.buckets:
                lo = min(lo, v.buckets[0].e0)
        return None if lo > hi else (lo, hi)

    def nbytes(self) -> int:
        return sum(s.nbytes() for s in self._series.values())

    def finish(self, now: float) -> None:
        # appended samples reach the rings; summarizing waits for the first query
        for s in self._series.values():
            s._push()

    def raw_from(self, series: list[StreamingSeries]) -> float:
        """Raw rows are complete from this time on (older samples are only summarized)."""
        return max((s.raw_from() for s in series), default=-math.inf)

    def raw(
        self, series: list[StreamingSeries], start: float, end: float, where: dict | None = None
    ) -> list[tuple[float, str, str, float, dict | None]]:
        """Raw samples still in the rings (complete from `raw_from`; older ones are only
        summarized)."""
        rows = []
        for s in series:
            t, v = s.ring()
            i0, i1 = int(np.searchsorted(t, start)), int(np.searchsorted(t, end))
            rows.extend((float(t[j]), s.source, s.name, float(v[j]), None) for j in range(i0, i1))
        rows.sort(key=lambda r: r[0])
        return rows

    # -- range answers --------------------------------------------------------------
    def snap_edges(self, series: list[StreamingSeries], edges: list[float]) -> list[float]:
        """Range/window edges moved to where this store can answer exactly: an edge
        inside a rollup bucket (older than the raw ring) moves to the nearer bucket edge
        (for every series pooled); edges in the raw ring's reach stay. The first and last
        edges move outward if nearest-snapping would leave an empty range."""
        views = [s.view() for s in series]
        if not views or not edges:
            return list(edges)
        if edges[0] == edges[-1]:
            # an empty range [a, a) moves down to the bucket edge at or before a, never up:
            # up could pass now (a row starting after the range cut at now ends)
            d = snap(views, edges[0], "down")
            return [d for _ in edges]
        out = [snap(views, x) for x in edges]
        if len(out) >= 2 and out[0] >= out[-1] and edges[0] < edges[-1]:
            out[0], out[-1] = snap(views, edges[0], "down"), snap(views, edges[-1], "up")
        lo, hi = out[0], out[-1]
        return [min(max(x, lo), hi) for x in out]

    def aggregate(
        self,
        series: list[StreamingSeries],
        specs: list[str],
        start: float,
        end: float,
        *,
        weighting: str,
        where: dict | None = None,
        counter: bool = False,
        hold_until: float | None = None,
    ) -> RangeAnswer:
        """Aggregates over the range this store can answer exactly nearest to
        ``[start, end)``: ``RangeAnswer.start/end`` state it (edges snapped to rollup
        buckets where the raw ring no longer reaches). Counts, sums, means, min/max,
        first/last are exact over the stated range; quantiles from rollups are within
        ``relative_accuracy`` of the item of that rank (``error_bound``)."""
        if where:
            raise ValueError("where(**tags) needs an exact store (ObservabilityConfig.full())")
        views = [s.view() for s in series]
        if not views:
            return RangeAnswer(exact_aggregates(specs, np.empty(0), np.empty(0), start, end),
                               start=start, end=end)
        a, b = self.snap_edges(series, [start, end])
        if all(a >= v.R for v in views):
            vals = exact_pooled(views, specs, a, b, weighting, counter, hold_until)
            return RangeAnswer(vals, exact=True, start=a, end=b)
        return combined(views, specs, a, b, weighting, counter, hold_until,
                         self.relative_accuracy)
