"""Metrics, spans and events as Arrow tables and Parquet files (pyarrow), for DuckDB,
Polars, pandas and Spark to read directly.

``metrics``: time (s), source, name, kind (gauge/sample/counter), value, tags (JSON text)
``spans``:   trace_id, span_id, parent_id, entity, start, end, duration (s), attributes
``events``:  time, kind, source, name, value (JSON text), tags (JSON text)

Ids are int64 columns when every id is an integer, text otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from happysim_rx.exports import _data

__all__ = ["metrics_table", "spans_table", "events_table", "write_parquet"]


def _pa() -> Any:
    try:
        import pyarrow as pa
    except ImportError as e:
        raise ImportError("Arrow/Parquet export needs pyarrow: pip install 'happysim-rx[export]'"
                          ) from e
    return pa


def _json(v: Any) -> str | None:
    if v is None:
        return None
    from happysim_rx.result import _enc_hook

    return msgspec.json.encode(v, enc_hook=_enc_hook).decode()


def metrics_table(engine: Any, *, start: float | None = None, end: float | None = None) -> Any:
    pa = _pa()
    times, sources, names, kinds, values, tags = [], [], [], [], [], []
    for source, name, kind, t, v, tag_map in _data.metric_series(engine, start, end):
        n = len(t)
        if not n:
            continue
        times.append(np.asarray(t, dtype=np.float64))
        values.append(np.asarray(v, dtype=np.float64))
        sources.append(pa.array([source] * n, pa.string()))
        names.append(pa.array([name] * n, pa.string()))
        kinds.append(pa.array([kind] * n, pa.string()))
        if tag_map:
            tags.append(pa.array([_json(tag_map.get(j)) for j in range(n)], pa.string()))
        else:
            tags.append(pa.nulls(n, pa.string()))

    def cat(xs: list[Any], typ: Any) -> Any:
        return pa.concat_arrays(xs) if xs else pa.array([], typ)

    return pa.table({
        "time": pa.array(np.concatenate(times) if times else np.empty(0), pa.float64()),
        "source": cat(sources, pa.string()),
        "name": cat(names, pa.string()),
        "kind": cat(kinds, pa.string()),
        "value": pa.array(np.concatenate(values) if values else np.empty(0), pa.float64()),
        "tags": cat(tags, pa.string()),
    })


def _id_array(pa: Any, ids: list[Any]) -> Any:
    if all(i is None or (isinstance(i, int) and not isinstance(i, bool)
                         and -(1 << 63) <= i < (1 << 63)) for i in ids):
        return pa.array(ids, pa.int64())
    return pa.array([None if i is None else str(i) for i in ids], pa.string())


def spans_table(engine: Any, *, start: float | None = None, end: float | None = None) -> Any:
    pa = _pa()
    spans = _data.spans(engine, start, end)
    starts = np.array([s.start for s in spans], dtype=np.float64)
    ends = np.array([s.end for s in spans], dtype=np.float64)
    return pa.table({
        "trace_id": _id_array(pa, [s.trace_id for s in spans]),
        "span_id": _id_array(pa, [s.span_id for s in spans]),
        "parent_id": _id_array(pa, [s.parent_id for s in spans]),
        "entity": pa.array([s.entity for s in spans], pa.string()),
        "start": pa.array(starts, pa.float64()),
        "end": pa.array(ends, pa.float64()),
        "duration": pa.array(ends - starts, pa.float64()),
        "attributes": pa.array([_json(s.attributes) for s in spans], pa.string()),
    })


def events_table(engine: Any, *, start: float | None = None, end: float | None = None) -> Any:
    pa = _pa()
    rows = _data.events(engine, start, end)
    return pa.table({
        "time": pa.array([r["time"] for r in rows], pa.float64()),
        "kind": pa.array([str(r["kind"]) for r in rows], pa.string()),
        "source": pa.array([r["source"] for r in rows], pa.string()),
        "name": pa.array([r["name"] for r in rows], pa.string()),
        "value": pa.array([_json(r.get("value")) for r in rows], pa.string()),
        "tags": pa.array([_json(r.get("tags")) for r in rows], pa.string()),
    })


def write_parquet(engine: Any, directory: str | os.PathLike[str], **kwargs: Any
                  ) -> dict[str, Path]:
    """metrics.parquet, spans.parquet and events.parquet in `directory` (created);
    returns their paths. A kind nobody recorded is written as an empty table."""
    pa = _pa()
    import pyarrow.parquet as pq

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, build in (("metrics", metrics_table), ("spans", spans_table),
                        ("events", events_table)):
        table = build(engine, **kwargs)
        assert isinstance(table, pa.Table)
        path = out / f"{name}.parquet"
        pq.write_table(table, path)
        paths[name] = path
    return paths
