"""`MetricAnswers`: how `QueryEngine` answers metric queries (series resolved from the
catalog, grouped, windowed, aggregated by the metric store)."""

from __future__ import annotations

import math
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

import numpy as np

from happysim_rx.engine_windows import (
    _cut_at_now,
    _edges,
    _snapped_windows,
    _split_at_now,
)
from happysim_rx.query import Query, QueryError, _Spec, _suggest
from happysim_rx.result import QueryResult
from happysim_rx.stores.compute import result_weighting
from operators.simtime import just_after

__all__ = ["MetricAnswers"]


class MetricAnswers:
    """Metric queries, mixed into `QueryEngine` (the attributes below are its)."""

    metric_store: Any
    declared_tags: dict[tuple[str, str], tuple[str, ...]]

    if TYPE_CHECKING:  # (`QueryEngine`'s)
        def _metric_catalog(self) -> list[tuple[str, str, str | None]]: ...
        def now(self) -> float | None: ...
        def _range(self, spec: _Spec, bounds: tuple[float, float] | None
                   ) -> tuple[float, float] | None: ...
        @staticmethod
        def _windows(spec: _Spec, start: float, end: float) -> list[tuple[float, float]]: ...

    def _resolve_metric_series(self, spec: _Spec) -> list[Any]:
        store = self.metric_store
        if store is None:
            raise QueryError(
                "no metric store is recording (observability disabled or metrics=False); "
                "enable one, e.g. Simulation(observability=ObservabilityConfig.default())"
            )
        cat = self._metric_catalog()
        names = {n for _, n, _ in cat}
        assert spec.name is not None
        matched_names = {n for n in names if fnmatchcase(n, spec.name)}
        if not matched_names:
            raise QueryError(_suggest(spec.name, names, "metric"))
        sources = {s for s, n, _ in cat if n in matched_names}
        if not any(fnmatchcase(s, spec.entity) for s in sources):
            raise QueryError(
                _suggest(spec.entity, sources, "entity").replace(
                    "known entitys", f"entities with {spec.name!r}"
                )
            )
        if store is None:
            raise QueryError(
                "no metric store is recording (observability disabled or metrics=False); "
                "enable a metric store to query metrics"
            )
        # a stable order (source, name): pooled first/last break time ties by it
        return sorted(store.select(spec.name, spec.entity), key=lambda s: (s.source, s.name))

    def _metrics(self, query: Query) -> QueryResult:
        spec = query.spec
        store = self.metric_store
        series = self._resolve_metric_series(spec)
        kinds = {s.series_kind or "sample" for s in series}
        if spec.weighting == "time" and spec.aggregates and kinds - {"gauge"}:
            # holding a sample (a latency) or an increment until the next one is not a
            # value in effect over time: no meaning to answer, and the stores would
            # each make up their own
            other = sorted({(s.source, s.name, s.series_kind or "sample") for s in series
                            if (s.series_kind or "sample") != "gauge"})
            src, name, kind = other[0]
            raise QueryError(
                f"weighting('time') applies to gauges (a value held until its next "
                f"change); {name!r} on {src!r} is a {kind} series"
                + (f" (and {len(other) - 1} more)" if len(other) > 1 else "")
                + ": use weighting('sample') or leave weighting out (each series is "
                "weighted by its own kind)")
        weighting = spec.weighting or ("time" if kinds == {"gauge"} else "sample")
        bounds = store.time_bounds(series) if series else None
        rng = self._range(spec, bounds)
        aggs = list(spec.aggregates)
        qd = query.to_dict()
        # The clock follows this data (not an offline feed): time after now has not
        # happened, so a range (window) reaching past now answers [start, now] and says
        # so; one entirely after now answers "nothing yet" (see `_split_at_now`).
        clock = self.now()
        follows = clock is not None and (bounds is None or clock >= bounds[1])
        if rng is not None and rng[0] > rng[1]:  # since(t) after the data and now:
            rng = (rng[0], rng[0])  # an empty range there (nothing yet), never start > end
        tag_keys = set(spec.tags) | (set(spec.group_by) - {"source", "name"})
        if tag_keys and not store.keeps_tags:  # (before any data too: never "none yet")
            raise QueryError(
                f"the {type(store).__name__} keeps no per-sample tags, so it cannot filter "
                f"or group by {sorted(tag_keys)}: record with ObservabilityConfig.full() "
                "or default(), or group by 'source' or 'name'")
        if tag_keys:  # (before the range: the answer to a typo never depends on the data)
            self._check_tag_keys(spec, series, tag_keys)
        if rng is None:  # declared, never recorded: the same row shape as an empty range
            rows = []
            if aggs and spec.window is None and not spec.group_by:
                rows = [{"metric": spec.name, "start": spec.start, "end": spec.end,
                         **{g: (0 if g == "count" else None) for g in aggs}}]
            return QueryResult(
                qd, rows, aggregates=aggs, weighting=result_weighting(aggs, weighting),
                exact=True
            )
        start, end = rng
        if not aggs:
            return self._raw_metrics(query, store, series, start, end)
        groups = self._metric_groups(spec, series, start, end)
        rows: list[dict[str, Any]] = []
        exact, bound, res = True, None, None
        used: set[str] = set()  # the weightings the groups used
        row_weighting: list[str] = []  # (and each row's, said when they differ)
        base_weighting = weighting
        snap = getattr(store, "snap_edges", None)
        windows, future = _split_at_now(self._windows(spec, start, end),
                                        clock if follows else None)
        nothing_yet = {g: (0 if g == "count" else None) for g in aggs}
        # (a range that reaches past now: rows a bounded store snapped beyond now say they
        # stop just after it; one that ends by now keeps the store's wider stated range)
        past_now = just_after(clock) if follows and end > clock else None
        for gkey, gseries, gwhere in groups:
            gkinds = {s.series_kind or "sample" for s in gseries}
            _check_pooled(spec, aggs, gkinds)
            counter = gkinds == {"counter"}
            # each group weighted by its own kind: a glob grouped by name averages its
            # gauges over time and its samples per sample
            weighting = spec.weighting or ("time" if gkinds == {"gauge"} else "sample")
            gw = result_weighting(aggs, weighting)
            used.add(gw)
            n_before = len(rows)
            # A gauge holds its last value only up to now: time after the clock (a paused
            # run, or past the end of a finished one) has no value yet, so it is not made
            # up. The values in effect *at* now (a change at the current instant) count.
            now = clock if follows and weighting == "time" else None
            gwin = windows
            if snap is not None and gseries and windows:
                gwin = _snapped_windows(snap(gseries, _edges(windows)), windows)
            batch = getattr(store, "aggregate_windows", None)
            answers = None
            if batch is not None and len(gwin) > 1 and not gwhere and gseries:
                answers = batch(gseries, aggs, _edges(gwin), weighting=weighting,
                                counter=counter, hold_until=now)
            if answers is not None:
                for (a, b), vals in zip(gwin, answers, strict=True):
                    row = {"metric": spec.name, **gkey, "start": a, "end": b}
                    if now is not None and a > now:  # entirely in the future: nothing yet
                        vals = {g: (0 if g == "count" else None) for g in aggs}
                    row.update(vals)
                    rows.append(_cut_at_now(row, past_now))
                rows.extend({"metric": spec.name, **gkey, "start": a, "end": b, **nothing_yet}
                            for a, b in future)
                row_weighting.extend([gw] * (len(rows) - n_before))
                continue
            for a, b in gwin:
                row: dict[str, Any] = {"metric": spec.name, **gkey, "start": a, "end": b}
                if now is not None and a > now:  # entirely in the future: nothing yet
                    row.update({g: (0 if g == "count" else None) for g in aggs})
                    rows.append(row)
                    continue
                try:
                    ans = store.aggregate(
                        gseries,
                        aggs,
                        a,
                        b,
                        weighting=weighting,
                        where=gwhere or None,
                        counter=counter,
                        hold_until=now,
                    )
                except ValueError as e:
                    raise QueryError(str(e)) from None
                if ans.start is not None:  # the range really answered
                    row["start"], row["end"] = ans.start, ans.end
                exact = exact and ans.exact
                if ans.error_bound is not None:
                    bound = max(bound or 0.0, ans.error_bound)
                if ans.time_resolution is not None:
                    res = max(res or 0.0, ans.time_resolution)
                row.update(ans.values)
                rows.append(_cut_at_now(row, past_now))
            rows.extend({"metric": spec.name, **gkey, "start": a, "end": b, **nothing_yet}
                        for a, b in future)
            row_weighting.extend([gw] * (len(rows) - n_before))
        if spec.limit is not None:
            rows = rows[: spec.limit]
        if rows and spec.window is None and not spec.group_by:
            start, end = rows[0]["start"], rows[0]["end"]
        if not used:
            used.add(result_weighting(aggs, base_weighting))
        elif len(used) > 1:
            for row, w in zip(rows, row_weighting, strict=False):
                row["weighting"] = w
        return QueryResult(
            qd,
            rows,
            aggregates=aggs,
            # groups of different kinds each use their own; "mixed" says so (each row's
            # weighting is its series' kind's: time for gauges, sample otherwise)
            weighting=used.pop() if len(used) == 1 else "mixed",
            exact=exact,
            error_bound=bound,
            time_resolution=res,
            start=start,
            end=end,
        )

    def _check_tag_keys(self, spec: _Spec, series: list[Any], keys: set[str]) -> None:
        """Refuse tag keys the selected series can never carry. The valid keys are those
        the series' components declare (known from the start, like the series) plus
        those any recorded sample carries (a user's own ``observe(..., lane=...)``): a
        valid key filters or groups, possibly to nothing; any other is refused, with or
        without data, so a mistyped key is never answered ``count: 0``."""
        valid = {k for s in series for k in s.tag_keys()}
        valid.update(k for s in series for k in self.declared_tags.get((s.source, s.name), ()))
        unknown = sorted(keys - valid)
        if unknown:
            raise QueryError(
                f"no series of {spec.name!r} from {spec.entity!r} declares or carries tag "
                f"key(s) {unknown}; valid tag keys: {sorted(valid) or 'none'} (the catalog "
                "lists each series' tags)", sorted(valid))

    def _raw_metrics(
        self, query: Query, store: Any, series: list[Any], start: float, end: float
    ) -> QueryResult:
        """Raw samples; a store that keeps only recent ones states where they start."""
        spec = query.spec
        if spec.window is not None:
            raise QueryError("window() needs an aggregate, e.g. .aggregate('mean')")
        raw_from = getattr(store, "raw_from", None)
        complete_from = raw_from(series) if raw_from is not None and series else -math.inf
        if start < complete_from:
            if end <= complete_from:
                raise QueryError(
                    f"raw samples before t={complete_from:.9g} s are not kept by the "
                    f"{type(store).__name__} (only rollups are): ask for aggregates, e.g. "
                    ".aggregate('count', 'mean', 'p99') (they cover the whole run), or "
                    "record with ObservabilityConfig.full()")
            start = complete_from  # rows state the range they are complete for
        raw = store.raw(series, start, end, spec.tags or None)
        if spec.limit is not None:
            raw = raw[: spec.limit]
        rows = [
            {"time": t, "source": s, "name": nm, "value": v, **({"tags": dict(tg)} if tg else {})}
            for t, s, nm, v, tg in raw
        ]
        return QueryResult(
            query.to_dict(),
            rows,
            aggregates=[],
            weighting="sample",
            exact=True,
            start=start,
            end=end,
        )

    def _metric_groups(
        self, spec: _Spec, series: list[Any], start: float, end: float
    ) -> list[tuple[dict[str, Any], list[Any], dict[str, Any]]]:
        """[(group key dict, series, tag filter)] for the group_by keys."""
        split = [k for k in spec.group_by if k in ("source", "name")]

        def time_weighted(s: Any) -> bool:
            """Whether `s` is answered time-weighted: the weighting asked, else that of
            the kinds of its final group (the series sharing its source/name keys)."""
            if spec.weighting is not None:
                return spec.weighting == "time"
            return all((x.series_kind or "sample") == "gauge" for x in series
                       if all(getattr(x, k) == getattr(s, k) for k in split))

        groups: list[tuple[dict[str, Any], list[Any], dict[str, Any]]] = [
            ({}, series, dict(spec.tags))
        ]
        for key in spec.group_by:
            nxt = []
            for gk, gs, gw in groups:
                if key in ("source", "name"):
                    vals = sorted({getattr(s, key) for s in gs})
                    for val in vals:
                        nxt.append(
                            ({**gk, key: val}, [s for s in gs if getattr(s, key) == val], gw)
                        )
                else:
                    tag_vals: set[Any] = set()
                    for s in gs:
                        t, _ = s.arrays()
                        i0, i1 = (int(i) for i in np.searchsorted(t, [start, end]))
                        # a value carried in at the start (time-weighted) is held from the
                        # change before it: its group holds time in the range too
                        if (i0 > 0 and (i0 == t.size or t[i0] > start or end <= start)
                                and time_weighted(s)):
                            i0 -= 1
                        tag_vals.update(v for v in s.tag_values(i0, i1, key) if v is not None)
                    # (a valid key no sample in the range carries: no group, no row)
                    for val in sorted(tag_vals, key=repr):
                        nxt.append(({**gk, key: val}, gs, {**gw, key: val}))
            groups = nxt
        return groups


#: What a pool of series of different kinds (e.g. ``metrics("*")``) can answer: how many
#: observations, and how often. A mean of latencies, queue depths and counter increments
#: together means nothing.
_MIXED_OK = frozenset({"count", "rate"})


def _check_pooled(spec: _Spec, aggs: list[str], kinds: set[str]) -> None:
    if len(kinds) > 1:
        bad = [a for a in aggs if a not in _MIXED_OK]
        if bad:
            raise QueryError(
                f"{spec.name!r} pools series of different kinds ({', '.join(sorted(kinds))})"
                f": {', '.join(bad)} over them means nothing; split with group_by('name') "
                "or group_by('entity'), narrow with from_entity(...) or a more specific "
                "name, or ask only for count / rate")
