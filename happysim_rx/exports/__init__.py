"""Standard exports: OTLP JSON traces, Chrome trace / Perfetto timelines, Arrow / Parquet.

Each reads the stores through a `QueryEngine`; `happysim_rx.Exporter` wires them in
(``to_otlp_json``, ``to_chrome_trace``, ``to_arrow``, ``to_parquet``).
"""

from happysim_rx.exports.arrow import events_table, metrics_table, spans_table, write_parquet
from happysim_rx.exports.chrome import chrome_trace, write_chrome_trace
from happysim_rx.exports.otlp import otlp_traces, write_otlp_json

__all__ = [
    "chrome_trace",
    "events_table",
    "metrics_table",
    "otlp_traces",
    "spans_table",
    "write_chrome_trace",
    "write_otlp_json",
    "write_parquet",
]
