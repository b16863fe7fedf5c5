"""What every page of one debugger shows alike: breakpoints, charts, speed, selection.

They live on the server, so a second tab, a reload or another person's browser sees the
same state, and every change is pushed to all pages at once (``{"type": "shared"}``).
Breakpoints are kept as the requests that made them, so a Reset (a fresh model from the
factory, whose control has none) re-arms them.
"""

from __future__ import annotations

import math
from typing import Any

from happysimulator.observability.web._shared import _err


class SharedOps:
    """``select`` and the breakpoint bookkeeping (mixed into `Debugger`)."""

    def _init_shared(self) -> None:
        self.bp_specs: dict[int, dict[str, Any]] = {}  # breakpoint id -> its request
        self.breakpoints: list[dict[str, Any]] = []  # as the session lists them
        self.selection: dict[str, Any] = {"trace_id": None, "window": None, "chart": None}

    def shared(self) -> dict[str, Any]:
        """The state every page shows (charts without their points: those come apart)."""
        return {"breakpoints": self.breakpoints, "speed": self.speed,
                "selection": self.selection,
                "charts": [c.describe(points=False) for c in self.charts.values()]}

    def _push_shared(self) -> None:
        self.push({"type": "shared", **self.shared()})

    def _list_breakpoints(self) -> None:
        resp = self._forward({"op": "list_breakpoints"})
        if resp.get("ok"):
            self.breakpoints = resp["breakpoints"]

    def _breakpoints_changed(self, req: dict[str, Any], resp: dict[str, Any]) -> None:
        """After an add/remove/clear that succeeded: keep its request, tell every page."""
        op = req.get("op")
        if op == "add_breakpoint":
            bp = resp.get("breakpoint") or {}
            if isinstance(bp.get("id"), int):
                self.bp_specs[bp["id"]] = {k: v for k, v in req.items() if k != "op"}
        elif op == "remove_breakpoint":
            self.bp_specs.pop(req.get("id"), None)  # type: ignore[arg-type]
        elif op == "clear_breakpoints":
            self.bp_specs.clear()
        self._list_breakpoints()
        self._push_shared()

    def _rearm_breakpoints(self) -> list[str]:
        """After a reset or load: the kept breakpoints again, on the fresh model; those it
        refuses (e.g. a series the new model lacks) are dropped, and named."""
        specs, self.bp_specs, dropped = list(self.bp_specs.values()), {}, []
        for spec in specs:
            resp = self._forward({"op": "add_breakpoint", **spec})
            bp = resp.get("breakpoint") or {}
            if resp.get("ok") and isinstance(bp.get("id"), int):
                self.bp_specs[bp["id"]] = spec
            else:
                dropped.append(f"{spec}: {resp.get('error', {}).get('message')}")
        self._list_breakpoints()
        return dropped

    def _op_select(self, req: dict[str, Any]) -> dict[str, Any]:
        """What the pages look at: a trace, a chart's window ``[start, end)``."""
        sel = dict(self.selection)
        if "trace_id" in req:
            tid = req["trace_id"]
            if tid is not None and (isinstance(tid, bool) or not isinstance(tid, int)):
                return _err("bad_request", f"trace_id must be an integer or null, got {tid!r}")
            sel["trace_id"] = tid
        if "window" in req:
            win = req["window"]
            if win is not None and not (
                    isinstance(win, list) and len(win) == 2
                    and all(isinstance(x, int | float) and not isinstance(x, bool)
                            and math.isfinite(x) for x in win) and win[0] < win[1]):
                return _err("bad_request", f"window must be [start, end) with start < end, "
                                           f"or null, got {win!r}")
            sel["window"] = win
        if "chart" in req:
            sel["chart"] = req["chart"]
        self.selection = sel
        self._push_shared()
        return {"ok": True, "selection": sel}
