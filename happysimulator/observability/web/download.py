"""The debugger's downloads: a whole export as text, its cut parts fetched and joined."""

from __future__ import annotations

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
            return {"ok": True, "content": content + "".join(parts)}
        rows = list(content.get("rows", []))
        for items in parts:
            rows.extend(items)
        return {"ok": True, "content": json.dumps({**content, "rows": rows})}
