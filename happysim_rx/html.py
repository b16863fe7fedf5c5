"""HTML for notebooks (``_repr_html_``): query results, catalogs, plain records.

Everything is escaped; long tables show their first rows and say how many are left out.

>>> print(table([{"a": 1, "b": "<x>"}], caption="t"))
<table><caption>t</caption><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>&lt;x&gt;</td></tr></tbody></table>
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["Catalog", "table", "fields_table", "result_html"]

MAX_ROWS = 50


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "NaN" if math.isnan(v) else f"{v:.6g}"
    if isinstance(v, Mapping):
        v = ", ".join(f"{k}={x}" for k, x in v.items())
    elif isinstance(v, list | tuple):
        v = ", ".join(map(str, v))
    return html.escape(str(v))


def table(rows: Iterable[Mapping[str, Any]], columns: list[str] | None = None, *,
          caption: str | None = None, max_rows: int = MAX_ROWS) -> str:
    """An HTML table of dict rows (columns: the union of keys, in first-seen order)."""
    rows = list(rows)
    if columns is None:
        columns = []
        for r in rows:
            columns.extend(k for k in r if k not in columns)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in columns) + "</tr>"
                   for r in rows[:max_rows])
    more = len(rows) - max_rows
    if more > 0:
        body += f'<tr><td colspan="{max(len(columns), 1)}">... {more} more rows</td></tr>'
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def fields_table(title: str, fields: Mapping[str, Any]) -> str:
    """A two-column (field, value) table under a bold title."""
    body = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                   f"<td>{_cell(v)}</td></tr>" for k, v in fields.items())
    return f"<div><b>{html.escape(title)}</b><table><tbody>{body}</tbody></table></div>"


def result_html(result: Any) -> str:
    """A `QueryResult`: what was asked, how it was answered (weighting, exactness), rows."""
    q = result.query
    what = q.get("kind") or "?"
    if q.get("name") not in (None, "*"):
        what += f" {q['name']}"
    if q.get("entity") not in (None, "*"):
        what += f" from {q['entity']}"
    if result.start is not None or result.end is not None:
        what += f" in [{_cell(result.start)}, {_cell(result.end)})"
    if q.get("window"):
        what += f", windows of {_cell(q['window'])} s"
    if q.get("group_by"):
        what += f", by {', '.join(q['group_by'])}"
    honesty = f"weighting={result.weighting}, exact={result.exact}"
    if result.error_bound is not None:
        honesty += f", error_bound={_cell(result.error_bound)}"
    if result.time_resolution is not None:
        honesty += f", time_resolution={_cell(result.time_resolution)} s"
    head = (f"<div><b>QueryResult</b>: {html.escape(what)} &mdash; "
            f"{len(result.rows)} row{'s' if len(result.rows) != 1 else ''} "
            f"<small>({html.escape(honesty)})</small>")
    rows = result.to_records()
    if result.aggregates and not q.get("window") and not q.get("group_by") and len(rows) == 1:
        cols = [a for a in result.aggregates]
        return head + table(rows, cols) + "</div>"
    return head + table(rows) + "</div>"


class Catalog(dict):
    """What can be asked (a plain dict, shown as tables in a notebook)."""

    def _repr_html_(self) -> str:
        parts = ["<div><b>Catalog</b>"]
        parts.append(table(self.get("metrics", []), ["source", "name", "series_kind"],
                           caption="metric series", max_rows=200))
        spans = self.get("span_entities") or []
        parts.append(f"<p>spans from: {_cell(list(spans)) or 'none'}</p>")
        events = self.get("events") or []
        if events:
            parts.append(table(events, caption="events and states", max_rows=200))
        if self.get("aggregates"):
            parts.append(f"<p>aggregates: {_cell(self['aggregates'])}</p>")
        return "".join(parts) + "</div>"
