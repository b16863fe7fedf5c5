"""The debugger's downloads: a whole export as text, its cut parts fetched and joined."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from happysimulator.observability.web._shared import _err


class DownloadOps:
    """``download`` (mixed into `Debugger`: uses its worker's protocol requests)."""

    def _op_download(self, req: dict[str, Any]) -> dict[str, Any]:
        """A whole export as text: a query's CSV/JSON (its cut parts fetched and joined)
        or the run's summary (JSON)."""
        fmt = req.get("format")
        if fmt == "summary":
            resp = self._forward({"op": "export", "what": "summary", "format": "json",
                                  "budget_bytes": int(req.get("budget_bytes", 16_000))})
            if not resp.get("ok"):
                return resp
            return {"ok": True, "content": json.dumps(resp["content"], indent=1)}
        if fmt not in ("csv", "json"):
            return _err("bad_request", f"unknown export format {fmt!r}",
                        ["csv", "json", "summary"])
        resp = self._forward({"op": "export", "what": "query", "format": fmt,
                              "query": req.get("query"), "budget_bytes": self.export_budget})
        if not resp.get("ok"):
            return resp
        content, cut = resp["content"], resp.get("truncated")
        parts: list[Any] = []
        while cut:  # the rest of a cut answer: CSV text pieces, or JSON rows
            more = self._forward({"op": "fetch", "handle": cut["handle"],
                                  "offset": cut["next_offset"], "budget_bytes": self.export_budget})
            if not more.get("ok"):
                return more
            parts.append(more["items"])
            cut = more.get("truncated")
        if fmt == "csv":
            return {"ok": True, "content": _with_width_csv(content + "".join(parts))}
        rows = list(content.get("rows", []))
        for items in parts:
            rows.extend(items)
        for row in rows:
            width = _width(row.get("start"), row.get("end"))
            if width is not None:
                row["window_s"] = width
        return {"ok": True, "content": json.dumps({**content, "rows": rows})}


def _width(start: Any, end: Any) -> float | None:
    """``end - start`` to the nanosecond (the engine's resolution): the range a row
    really answers, which a streaming store's rollups make wider than the asked window."""
    try:
        return round(float(end) - float(start), 9)
    except (TypeError, ValueError):
        return None


def _with_width_csv(text: str) -> str:
    """The CSV with a ``window_s`` column after ``end`` on every row that has a range."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or "start" not in rows[0] or "end" not in rows[0] or "window_s" in rows[0]:
        return text
    head = rows[0]
    i, j = head.index("start"), head.index("end")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*head[:j + 1], "window_s", *head[j + 1:]])
    for row in rows[1:]:
        width = _width(row[i], row[j]) if len(row) == len(head) else None
        writer.writerow([*row[:j + 1], "" if width is None else repr(width), *row[j + 1:]])
    return out.getvalue()
