"""Saved experiments: ``reps.save(path)`` / ``sw.save(path)`` and ``load(path)``.

A directory holds:

- ``scalars.parquet``: one row per point x replication x series x aggregate (the tidy
  table of ``to_dataframe()``, plus ``point``), readable by DuckDB, Polars, pandas;
- ``windows.parquet``: the per-window summaries (``replicate(window=...)``), if any;
- ``experiment.json``: the points, each run's seed, parameters and run facts, the
  failures, the precision status, and every quantile sketch (exact bucket counts).

Floats go through Parquet's float64 and JSON's shortest round-trip form, so a loaded
result gives the same estimates and the same pooled quantiles, bit for bit.

Needs pyarrow (``pip install 'happysim-rx[export]'``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from happysimulator.experiments.results import Failure, Replications, Sweep
from happysimulator.experiments.summarize import ReplicationError, ReplicationSummary
from operators.sketch import QuantileSketch

__all__ = ["load", "save"]

FORMAT = "happysim-rx.experiment/1"


def _arrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ImportError("saving and loading experiments needs pyarrow: "
                          "pip install 'happysim-rx[export]'") from exc
    return pa, pq


def save(result: Replications | Sweep, path: str | os.PathLike[str]) -> Path:
    """Write ``result`` to the directory ``path`` (created; files in it replaced)."""
    pa, pq = _arrow()
    if isinstance(result, Sweep):
        kind, groups = "sweep", list(enumerate(result))
        points = result.points
    elif isinstance(result, Replications):
        kind, groups, points = "replications", [(0, result)], [result.params]
    else:
        raise TypeError(f"save() takes Replications or a Sweep, got {type(result).__name__}")
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{str(out)!r} is a file: give a directory")
    out.mkdir(parents=True, exist_ok=True)
    cols: dict[str, list[Any]] = {k: [] for k in (
        "point", "replication", "seed", "entity", "metric", "kind", "aggregate", "value")}
    wcols: dict[str, list[Any]] = {k: [] for k in (
        "point", "replication", "entity", "metric", "kind", "aggregate", "start", "end",
        "value")}
    runs, failures = [], []
    for i, reps in groups:
        for r in reps.runs:
            for entity, metric, k, agg, value in r.scalars:
                for key, v in zip(cols, (i, r.replication, r.seed, entity, metric, k, agg,
                                         value), strict=True):
                    cols[key].append(v)
            for entity, metric, k, agg, start, end, value in r.windows:
                for key, v in zip(wcols, (i, r.replication, entity, metric, k, agg, start,
                                          end, value), strict=True):
                    wcols[key].append(v)
            runs.append({
                "point": i, "replication": r.replication, "seed": str(r.seed),
                "params": r.params, "window": r.window,
                "events_processed": r.events_processed, "sim_time_s": r.sim_time_s,
                "wall_s": r.wall_s, "stop_reason": r.stop_reason,
                "units": [[e, m, u] for (e, m), u in r.units.items()],
                "series": list(r.series),
                "sketches": [{"entity": e, "metric": m, "sketch": s.to_dict()}
                             for (e, m), s in r.sketches.items()]})
        failures += [{"point": i, "replication": f.replication,
                      "error": f"{type(f.error).__name__}: {f.error}"} for f in reps.failures]
    schema = pa.schema([("point", pa.int64()), ("replication", pa.int64()),
                        ("seed", pa.uint64()), ("entity", pa.string()),
                        ("metric", pa.string()), ("kind", pa.string()),
                        ("aggregate", pa.string()), ("value", pa.float64())])
    pq.write_table(pa.table(cols, schema=schema), out / "scalars.parquet")
    wpath = out / "windows.parquet"
    if wcols["point"]:
        pq.write_table(pa.table(wcols), wpath)
    elif wpath.exists():
        wpath.unlink()
    meta = {"format": FORMAT, "kind": kind, "points": points, "level": result.level,
            "common_random_numbers": getattr(result, "common_random_numbers", False),
            "precision": getattr(result, "precision", None), "runs": runs,
            "failures": failures}
    (out / "experiment.json").write_text(json.dumps(meta))
    return out


def load(path: str | os.PathLike[str]) -> Replications | Sweep:
    """A result saved by ``save`` (``Replications`` or ``Sweep``, as it was saved)."""
    _, pq = _arrow()
    src = Path(path)
    meta_path = src / "experiment.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"no saved experiment in {str(src)!r} (no experiment.json)")
    meta = json.loads(meta_path.read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{str(src)!r} holds format {meta.get('format')!r}; this version "
                         f"reads {FORMAT!r}")
    summaries: dict[tuple[int, int], ReplicationSummary] = {}
    for run in meta["runs"]:
        summaries[(run["point"], run["replication"])] = ReplicationSummary(
            point=run["point"], replication=run["replication"], seed=int(run["seed"]),
            params=run["params"], scalars=[], window=run["window"],
            sketches={(s["entity"], s["metric"]): QuantileSketch.from_dict(s["sketch"])
                      for s in run["sketches"]},
            events_processed=run["events_processed"], sim_time_s=run["sim_time_s"],
            wall_s=run["wall_s"], stop_reason=run["stop_reason"],
            units={(e, m): u for e, m, u in run.get("units", [])},
            series=tuple(run.get("series", ())))
    table = pq.read_table(src / "scalars.parquet").to_pydict()
    for row in zip(*(table[k] for k in ("point", "replication", "entity", "metric", "kind",
                                        "aggregate", "value")), strict=True):
        summaries[(row[0], row[1])].scalars.append(tuple(row[2:]))  # type: ignore[arg-type]
    wpath = src / "windows.parquet"
    if wpath.is_file():
        w = pq.read_table(wpath).to_pydict()
        for row in zip(*(w[k] for k in ("point", "replication", "entity", "metric", "kind",
                                        "aggregate", "start", "end", "value")), strict=True):
            summaries[(row[0], row[1])].windows.append(tuple(row[2:]))  # type: ignore[arg-type]
    points = meta["points"]
    failures = [Failure(points[f["point"]], f["replication"], ReplicationError(f["error"]))
                for f in meta["failures"]]
    runs = list(summaries.values())
    if meta["kind"] == "sweep":
        return Sweep(points, runs, level=meta["level"], failures=failures,
                     common_random_numbers=meta["common_random_numbers"])
    reps = Replications(runs, points[0], level=meta["level"], failures=failures)
    reps.precision = meta["precision"]
    return reps
