"""Results of replications and sweeps: estimates, pooled quantiles, tidy DataFrames."""

from __future__ import annotations

import html
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from happysimulator.experiments.estimate import (
    Estimate,
    PooledQuantile,
    merge_sketches,
)
from happysimulator.experiments.summarize import ReplicationSummary
from operators.aggregators import parse_quantile

__all__ = ["Failure", "Replications", "Sweep"]

_COLUMNS = ("replication", "seed", "entity", "metric", "kind", "aggregate", "value")


class Failure(NamedTuple):
    """A replication that raised: its parameter point, its index and the error (a
    `ReplicationError` whose message names the seed and the model's exception)."""

    point: dict[str, Any]
    replication: int
    error: BaseException


class Replications:
    """``n`` independent runs of one model at one parameter point.

    ``estimate(metric, entity=, aggregate=)`` gives the across-replication mean with a
    t-based confidence interval; ``quantile(metric, q, entity=)`` pools the replications'
    sketches; ``to_dataframe()`` has one row per replication x series x aggregate.
    """

    def __init__(self, runs: Sequence[ReplicationSummary], params: dict[str, Any] | None = None,
                 *, level: float = 0.95, failures: Sequence[Failure] = ()) -> None:
        self.runs = sorted(runs, key=lambda r: r.replication)
        self.params = dict(params or {})
        self.level = level
        #: replications that raised (``errors="collect"``, or what a partial result lacks)
        self.failures: list[Failure] = list(failures)
        #: with ``replicate(precision=...)``: the target, the replications run, the
        #: relative half-width achieved and whether it ``met`` the target
        self.precision: dict[str, Any] | None = None
        self._index: dict[tuple[str | None, str, str], list[float | None]] = {}
        self._kinds: dict[tuple[str | None, str], str] = {}
        for r in self.runs:
            for entity, metric, kind, agg, value in r.scalars:
                self._index.setdefault((entity, metric, agg), []).append(value)
                self._kinds[(entity, metric)] = kind

    # -- what is there ---------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.runs)

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.runs]

    def series(self) -> list[dict[str, Any]]:
        """The series every replication reports: entity, metric, kind, aggregates."""
        aggs: dict[tuple[str | None, str], list[str]] = {}
        for entity, metric, agg in self._index:
            aggs.setdefault((entity, metric), []).append(agg)
        return [{"entity": e, "metric": m, "kind": self._kinds[(e, m)], "aggregates": a}
                for (e, m), a in aggs.items()]

    def _entity_for(self, metric: str, entity: str | None) -> str | None:
        if not self.runs:
            failed = f" ({len(self.failures)} failed: see .failures)" if self.failures else ""
            raise ValueError(f"no completed replications at {self.params or 'this point'}"
                             f"{failed}")
        owners = sorted({e for (e, m) in self._kinds if m == metric}, key=str)
        if not owners:
            known = sorted({m for (_, m) in self._kinds})
            import difflib

            close = difflib.get_close_matches(metric, known, n=3)
            hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
            raise KeyError(f"no series {metric!r} in these replications{hint}; "
                           f"known: {', '.join(known) or 'none'}")
        if entity is None:
            if len(owners) > 1:
                raise ValueError(f"{metric!r} is recorded by {owners}: give entity=")
            return owners[0]
        if entity not in owners:
            raise KeyError(f"entity {entity!r} has no series {metric!r}; "
                           f"entities with it: {', '.join(map(str, owners))}")
        return entity

    def unit(self, metric: str, *, entity: str | None = None) -> str | None:
        """The unit of `metric`'s values ("s", "requests", ...; None when unknown)."""
        ent = self._entity_for(metric, entity)
        for r in self.runs:
            u = r.units.get((ent, metric))
            if u:
                return u
        return None

    # -- answers -----------------------------------------------------------------------------
    def values(self, metric: str, *, entity: str | None = None,
               aggregate: str | None = None) -> list[float | None]:
        """Per-replication values of one aggregate (None where a replication had no data)."""
        entity = self._entity_for(metric, entity)
        if aggregate is None:
            aggregate = "value" if self._kinds[(entity, metric)] == "measure" else "mean"
        key = (entity, metric, aggregate)
        if key not in self._index:
            have = sorted(a for (e, m, a) in self._index if e == entity and m == metric)
            raise KeyError(f"aggregate {aggregate!r} of {metric!r} was not computed; computed: "
                           f"{', '.join(have)} (choose others with replicate(aggregates=...))")
        return list(self._index[key])

    def estimate(self, metric: str, *, entity: str | None = None,
                 aggregate: str | None = None, level: float | None = None) -> Estimate:
        """Mean over replications of one per-replication aggregate (default ``"mean"``;
        ``"value"`` for `measure` results), with a t-based confidence interval."""
        entity = self._entity_for(metric, entity)
        vals = self.values(metric, entity=entity, aggregate=aggregate)
        agg = aggregate or ("value" if self._kinds[(entity, metric)] == "measure" else "mean")
        missing = [r.replication for r, v in zip(self.runs, vals, strict=True) if v is None]
        if missing:
            raise ValueError(f"{entity}.{metric} {agg} has no value in replication(s) "
                             f"{missing} (no samples there); an average would hide that")
        return Estimate(metric, entity, agg, tuple(float(v) for v in vals),  # type: ignore[arg-type]
                        level=self.level if level is None else level)

    def quantile(self, metric: str, q: float, *, entity: str | None = None) -> PooledQuantile:
        """The `q`-quantile (0..1, or a name like ``"p99"``) of all replications' samples
        pooled, by merging their sketches (not by averaging per-replication quantiles)."""
        if isinstance(q, str):
            parsed = parse_quantile(q.strip().lower())
            if parsed is None:
                raise ValueError(f"quantile must be in [0, 1] or a name like 'p99', got {q!r}")
            q = parsed
        if not 0.0 <= q <= 1.0 or q != q:
            raise ValueError(f"quantile must be in [0, 1], got {q!r}")
        ent = self._entity_for(metric, entity)
        kind = self._kinds[(ent, metric)]
        if kind in ("counter", "measure"):
            raise ValueError(f"{ent}.{metric} is a {kind}: it has no distribution to take "
                             "a quantile of")
        sketches = [r.sketches.get((ent, metric)) for r in self.runs]  # type: ignore[arg-type]
        present = [s for s in sketches if s is not None]
        if not present:
            raise ValueError(f"no replication recorded samples of {ent}.{metric}")
        merged = merge_sketches(present)
        per = tuple(s.quantile(q) for s in present)
        return PooledQuantile(
            metric=metric, entity=ent, q=q, value=merged.quantile(q),  # type: ignore[arg-type]
            relative_accuracy=merged.relative_accuracy, count=merged.count,
            weighting="time" if kind == "gauge" else "sample",
            per_replication=Estimate(metric, ent, f"p{q * 100:g}", per, level=self.level))  # type: ignore[arg-type]

    def over_time(self, metric: str, *, entity: str | None = None,
                  aggregate: str | None = None, level: float | None = None) -> Any:
        """Per window (``replicate(window=...)``): the mean over replications of one
        windowed aggregate with its t-based confidence interval, as a `QueryResult`
        (rows: start, end, n, mean, half_width, ci_low, ci_high; ``plot()`` draws the
        band).

        Windows never overlap: they sit on multiples of the width (the first one starts
        at the warm-up when that is not a multiple). A window a replication covered only
        in part (its run ended inside it) is left out of that window's row rather than
        mixed with the full ones: ``n`` counts the replications that covered the window
        whole, and ``partial_windows_dropped`` (also in ``query``) how many partial ones
        were left out. A partial window every replication covers exactly alike (the one cut by the
        warm-up, or the last one when all runs end at the same time) is kept."""
        from happysim_rx.result import QueryResult

        width = self.runs[0].window if self.runs else None
        if width is None:
            raise ValueError("no windowed summaries: run replicate(..., window=seconds)")
        ent = self._entity_for(metric, entity)
        kind = self._kinds[(ent, metric)]
        agg = aggregate or "mean"
        lvl = self.level if level is None else level
        per, dropped = self._window_values(ent, metric, agg, width)
        rows = []
        for (start, stop), vals in sorted(per.items()):
            if not vals:  # (covered, but no replication had a sample in it)
                continue
            est = Estimate(metric, ent, agg, tuple(vals), level=lvl)
            row: dict[str, Any] = {"metric": metric, "source": ent, "start": start,
                                   "end": stop, "n": est.n, "mean": est.mean,
                                   "half_width": None, "ci_low": None, "ci_high": None}
            if est.n >= 2:
                lo, hi = est.ci()
                row.update(half_width=est.half_width, ci_low=lo, ci_high=hi)
            rows.append(row)
        time_weighted = kind == "gauge" and (agg in ("mean", "stddev", "variance")
                                             or parse_quantile(agg) is not None)
        result = QueryResult(
            {"kind": "metrics", "name": metric, "entity": ent, "window": width,
             "aggregates": [agg], "group_by": [], "replications": self.n, "level": lvl,
             "partial_windows_dropped": dropped, "unit": self.unit(metric, entity=ent)},
            rows, aggregates=["mean"], weighting="time" if time_weighted else "sample",
            exact=True, start=rows[0]["start"] if rows else None,
            end=rows[-1]["end"] if rows else None)
        result.series_kind = kind
        result.partial_windows_dropped = dropped
        return result

    def warmup(self, metric: str, *, entity: str | None = None,
               aggregate: str = "mean") -> float:
        """Where the warm-up ends, in simulated seconds: the MSER-5 truncation point of
        `metric`'s window means averaged over the replications (needs
        ``replicate(..., window=seconds)``, windows about 1/100 of a run). Pass it on as
        ``replicate(..., warmup=reps.warmup(...))``. Warns when no steady state shows in
        the first half of the runs."""
        from happysimulator.experiments.steady_state import warmup_from_windows

        width = self.runs[0].window if self.runs else None
        if width is None:
            raise ValueError("reps.warmup needs per-window summaries: replicate(..., "
                             "window=seconds), windows about 1/100 of a run")
        ent = self._entity_for(metric, entity)
        per, _ = self._window_values(ent, metric, aggregate, width)
        covered = self._window_owners(ent, metric, aggregate)
        rows, empty = [], 0
        for (start, stop), vals in sorted(per.items()):
            if covered[(start, stop)] < self.n:  # not every replication ran this far
                break
            if not vals:  # every replication covered it, none had a sample in it
                empty += 1
                continue
            # the mean over the replications with a sample in the window
            rows.append((start, stop, float(np.mean(vals))))
        label = f"{ent + '.' if ent else ''}{metric} {aggregate}"
        return warmup_from_windows(rows, label=label, empty=empty)

    def _window_owners(self, ent: str | None, metric: str, agg: str
                       ) -> dict[tuple[float, float], int]:
        """{(start, end): how many replications covered the window (with a sample in it
        or not)}."""
        owners: dict[tuple[float, float], int] = {}
        for r in self.runs:
            for e, m, _, a, start, stop, _v in r.windows:
                if e == ent and m == metric and a == agg:
                    owners[(start, stop)] = owners.get((start, stop), 0) + 1
        return owners

    def _window_values(self, ent: str | None, metric: str, agg: str, width: float
                       ) -> tuple[dict[tuple[float, float], list[float]], int]:
        """{(start, end): per-replication values} of whole windows (and of partial ones
        every replication has alike; empty: no replication had a sample in it), and how
        many partial ones were dropped."""
        spans: dict[tuple[float, float], list[float]] = {}
        owners: dict[tuple[float, float], int] = {}
        computed = set()
        for r in self.runs:
            for e, m, _, a, start, stop, v in r.windows:
                if e == ent and m == metric:
                    computed.add(a)
                    if a == agg:
                        owners[(start, stop)] = owners.get((start, stop), 0) + 1
                        vals = spans.setdefault((start, stop), [])
                        if v is not None:
                            vals.append(v)
        if agg not in computed:
            raise KeyError(f"aggregate {agg!r} of {metric!r} was not computed per window; "
                           f"computed: {', '.join(sorted(computed)) or 'none'}")
        tol = 1e-9 * max(1.0, width)
        keep, dropped = {}, 0
        for span, vals in spans.items():
            whole = span[1] - span[0] >= width - tol
            if whole or owners[span] == self.n:
                keep[span] = vals
            else:
                dropped += owners[span]
        return keep, dropped

    # -- export ------------------------------------------------------------------------------
    def records(self) -> list[dict[str, Any]]:
        """One dict per replication x series x aggregate (parameters as extra keys)."""
        out = []
        for r in self.runs:
            for entity, metric, kind, agg, value in r.scalars:
                out.append({**r.params, "replication": r.replication, "seed": r.seed,
                            "entity": entity, "metric": metric, "kind": kind,
                            "aggregate": agg, "value": value})
        return out

    def to_dataframe(self) -> Any:
        """Tidy pandas DataFrame: columns ``replication, seed, entity, metric, kind,
        aggregate, value`` (and one per parameter, first)."""
        pd = _pandas()
        cols = [*self.params, *_COLUMNS]
        return pd.DataFrame.from_records(self.records(), columns=cols)

    def runs_dataframe(self) -> Any:
        """One row per replication: seed, events processed, simulated and wall seconds."""
        pd = _pandas()
        return pd.DataFrame.from_records([
            {**r.params, "replication": r.replication, "seed": r.seed,
             "events_processed": r.events_processed, "sim_time_s": r.sim_time_s,
             "wall_s": r.wall_s, "stop_reason": r.stop_reason} for r in self.runs])

    def summary_table(self) -> list[dict[str, Any]]:
        """Mean and half-width of every computed aggregate (the notebook view's rows)."""
        rows = []
        for (entity, metric, agg), vals in self._index.items():
            ok = [v for v in vals if v is not None and math.isfinite(v)]
            row: dict[str, Any] = {"entity": entity, "metric": metric, "aggregate": agg,
                                   "n": len(ok), "mean": None, "half_width": None}
            if ok:
                est = Estimate(metric, entity, agg, tuple(ok), level=self.level)
                row["mean"] = est.mean
                row["half_width"] = est.half_width if est.n >= 2 else None
            rows.append(row)
        return rows

    def __repr__(self) -> str:
        p = f" {self.params}" if self.params else ""
        f = f" failed={len(self.failures)}" if self.failures else ""
        return f"<Replications n={self.n}{p} series={len(self._kinds)}{f}>"

    def _repr_html_(self) -> str:
        head = (f"<b>Replications</b> n={self.n}"
                + (f", params {html.escape(str(self.params))}" if self.params else "")
                + f", {self.level:.0%} t-intervals")
        rows = "".join(
            f"<tr><td>{html.escape(str(r['entity'] or ''))}</td>"
            f"<td>{html.escape(r['metric'])}</td><td>{html.escape(r['aggregate'])}</td>"
            f"<td>{_fmt(r['mean'])}</td><td>{_fmt(r['half_width'], '± ')}</td>"
            f"<td>{r['n']}</td></tr>" for r in self.summary_table())
        return (f"<div>{head}<table><thead><tr><th>entity</th><th>metric</th><th>aggregate"
                f"</th><th>mean</th><th>half-width</th><th>n</th></tr></thead><tbody>{rows}"
                "</tbody></table></div>")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write these replications to the directory ``path`` (Parquet + JSON, sketches
        included); ``happysimulator.experiments.load(path)`` reads them back."""
        from happysimulator.experiments.persist import save

        return save(self, path)

    def plot(self, metric: str, *, entity: str | None = None, aggregate: str | None = None,
             ax: Any = None) -> Any:
        """Per-replication values with the mean and its confidence band (matplotlib)."""
        from happysimulator.experiments._plot import plot_replications

        return plot_replications(self, metric, entity=entity, aggregate=aggregate, ax=ax)


class Sweep:
    """Replications at every point of a parameter grid."""

    def __init__(self, points: Sequence[dict[str, Any]], runs: Sequence[ReplicationSummary],
                 *, level: float = 0.95, failures: Sequence[Failure] = (),
                 common_random_numbers: bool = False) -> None:
        self.points = [dict(p) for p in points]
        by_point: dict[int, list[ReplicationSummary]] = {i: [] for i in range(len(points))}
        for r in runs:
            by_point[r.point].append(r)
        self.level = level
        self.common_random_numbers = common_random_numbers
        #: every failed replication: (point, replication, error), in point order
        self.failures: list[Failure] = list(failures)
        self._reps = [Replications(by_point[i], self.points[i], level=level,
                                   failures=[f for f in self.failures if f.point == p])
                      for i, p in enumerate(self.points)]

    @property
    def parameters(self) -> list[str]:
        return list(self.points[0]) if self.points else []

    def __len__(self) -> int:
        return len(self._reps)

    def __iter__(self) -> Any:
        return iter(self._reps)

    def __getitem__(self, i: int) -> Replications:
        return self._reps[i]

    def at(self, **params: Any) -> Replications:
        """The replications of the point with these parameter values."""
        for p, reps in zip(self.points, self._reps, strict=True):
            if all(p.get(k) == v for k, v in params.items()):
                return reps
        raise KeyError(f"no point with {params}; points: {self.points}")

    def estimates(self, metric: str, *, entity: str | None = None,
                  aggregate: str | None = None) -> list[Estimate]:
        """One estimate per point, in point order."""
        return [r.estimate(metric, entity=entity, aggregate=aggregate) for r in self._reps]

    def estimates_dataframe(self, metric: str, *, entity: str | None = None,
                            aggregate: str | None = None) -> Any:
        """Per point: parameters, n, mean, half_width, ci_low, ci_high, and ``failed`` (the
        point's failed replications: its estimate is over the others only)."""
        pd = _pandas()
        rows = []
        for p, reps in zip(self.points, self._reps, strict=True):
            row: dict[str, Any] = {**p}
            if reps.n:  # a point whose replications all failed: n=0, no estimate
                row.update(reps.estimate(metric, entity=entity, aggregate=aggregate).to_dict())
            else:
                row.update(n=0, mean=None)
            row["failed"] = len(reps.failures)
            rows.append(row)
        return pd.DataFrame.from_records(rows)

    def quantiles(self, metric: str, q: float, *, entity: str | None = None
                  ) -> list[PooledQuantile]:
        return [r.quantile(metric, q, entity=entity) for r in self._reps]

    def to_dataframe(self) -> Any:
        """Tidy: one row per point x replication x series x aggregate; a column per
        parameter."""
        pd = _pandas()
        cols = [*self.parameters, *_COLUMNS]
        recs = [rec for r in self._reps for rec in r.records()]
        return pd.DataFrame.from_records(recs, columns=cols)

    def __repr__(self) -> str:
        n = sum(r.n for r in self._reps)
        f = f" failed={len(self.failures)}" if self.failures else ""
        return f"<Sweep points={len(self.points)} parameters={self.parameters} runs={n}{f}>"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(str(p))}</td><td>{r.n}</td></tr>"
            for p, r in zip(self.points, self._reps, strict=True))
        return (f"<div><b>Sweep</b> over {html.escape(', '.join(self.parameters))}"
                f"<table><thead><tr><th>point</th><th>replications</th></tr></thead>"
                f"<tbody>{rows}</tbody></table></div>")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the sweep to the directory ``path`` (see `Replications.save`)."""
        from happysimulator.experiments.persist import save

        return save(self, path)

    def plot(self, metric: str, *, x: str | None = None, entity: str | None = None,
             aggregate: str | None = None, ax: Any = None) -> Any:
        """The estimate against parameter `x`, with its confidence band (matplotlib)."""
        from happysimulator.experiments._plot import plot_sweep

        return plot_sweep(self, metric, x=x, entity=entity, aggregate=aggregate, ax=ax)


def _fmt(v: Any, prefix: str = "") -> str:
    if v is None:
        return ""
    return f"{prefix}{v:.6g}"


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - optional dependency
        raise ImportError("to_dataframe() needs pandas: pip install pandas") from e
    return pd
