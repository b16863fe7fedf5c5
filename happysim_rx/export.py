"""Export query answers as JSON, CSV, records or a pandas DataFrame.

>>> from happysim_rx.clock import ManualClock
>>> from happysim_rx.bus import ObservationBus
>>> from happysim_rx.stores import MetricStore
>>> from happysim_rx.query import QueryEngine
>>> bus = ObservationBus(ManualClock()); _ = bus.attach_store(MetricStore())
>>> bus.metric("S", "latency", "sample").emit(0.5, 0.25)
>>> ex = Exporter(QueryEngine(bus))
>>> print(ex.to_csv(ex.engine.metrics("latency")).strip())
time,source,name,value
0.5,S,latency,0.25
"""

from __future__ import annotations

import csv
import io
import os
from typing import Any

import msgspec

from happysim_rx.query import Query, QueryEngine, QueryResult

__all__ = ["Exporter", "dumps", "loads"]


def dumps(obj: Any) -> str:
    """JSON text via msgspec (Spans, numpy scalars and enums handled)."""
    from happysim_rx.result import _enc_hook

    return msgspec.json.encode(obj, enc_hook=_enc_hook).decode()


def loads(s: str | bytes) -> Any:
    return msgspec.json.decode(s)


class Exporter:
    """``Exporter(engine).to_json(query)`` etc.; ``query`` may be a Query, its dict or
    JSON form, or an already computed QueryResult."""

    def __init__(self, engine: QueryEngine) -> None:
        self.engine = engine

    def result(self, query: Query | QueryResult | dict | str) -> QueryResult:
        if isinstance(query, QueryResult):
            return query
        return self.engine.execute(query)

    def to_json(self, query: Any) -> str:
        return self.result(query).to_json()

    def to_records(self, query: Any) -> list[dict[str, Any]]:
        return self.result(query).to_records()

    def to_dataframe(self, query: Any) -> Any:
        return self.result(query).to_pandas()

    def to_csv(self, query: Any, path: str | os.PathLike[str] | None = None) -> str:
        """CSV text (also written to ``path`` when given). Nested values become JSON."""
        records = self.to_records(query)
        cols: list[str] = []
        for r in records:
            cols.extend(k for k in r if k not in cols)
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for r in records:
            w.writerow({k: dumps(v) if isinstance(v, dict | list) else v for k, v in r.items()})
        text = buf.getvalue()
        if path is not None:
            with open(path, "w", newline="") as f:
                f.write(text)
        return text

    def catalog_json(self) -> str:
        """The engine's catalog (what can be asked) as JSON."""
        return dumps(self.engine.catalog())
