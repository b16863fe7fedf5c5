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

    # -- standard formats (happysim_rx.exports; one module per format) -------------------
    def to_otlp_json(self, path: str | os.PathLike[str], *, start: float | None = None,
                     end: float | None = None, epoch_unix_nano: int = 0) -> int:
        """Spans as OTLP JSON (Jaeger, OpenTelemetry Collector); returns the span count."""
        from happysim_rx.exports.otlp import write_otlp_json

        return write_otlp_json(self.engine, path, start=start, end=end,
                               epoch_unix_nano=epoch_unix_nano)

    def to_chrome_trace(self, path: str | os.PathLike[str], *, start: float | None = None,
                        end: float | None = None, spans: bool = True, gauges: bool = True,
                        flows: bool = True) -> int:
        """A Chrome trace-event / Perfetto timeline: spans per entity, gauges as counter
        tracks, request hops as flows; returns the number of trace events."""
        from happysim_rx.exports.chrome import write_chrome_trace

        return write_chrome_trace(self.engine, path, start=start, end=end, spans=spans,
                                  gauges=gauges, flows=flows)

    def to_arrow(self, *, start: float | None = None, end: float | None = None
                 ) -> dict[str, Any]:
        """{"metrics", "spans", "events"}: pyarrow Tables."""
        from happysim_rx.exports import arrow

        return {"metrics": arrow.metrics_table(self.engine, start=start, end=end),
                "spans": arrow.spans_table(self.engine, start=start, end=end),
                "events": arrow.events_table(self.engine, start=start, end=end)}

    def to_parquet(self, directory: str | os.PathLike[str], *, start: float | None = None,
                   end: float | None = None) -> dict[str, Any]:
        """metrics.parquet, spans.parquet, events.parquet in `directory`; returns paths."""
        from happysim_rx.exports.arrow import write_parquet

        return write_parquet(self.engine, directory, start=start, end=end)

    def catalog_json(self) -> str:
        """The engine's catalog (what can be asked) as JSON."""
        return dumps(self.engine.catalog())
