"""Drive and question a simulation through JSON only (for AI models and other programs).

    api = JsonSession(sim)
    api.handle('{"op": "catalog"}')
    api.handle({"op": "add_breakpoint", "metric": ["Server", "queue_depth", "gt", 20]})
    api.handle({"op": "run"})                   # -> {"ok": true, "state": {...}, ...}
    api.handle({"op": "query", "query": {"kind": "metrics", "name": "latency",
                "start": 10, "end": 20, "aggregates": ["p99"]}})
    api.handle({"op": "step", "n": 5})

Every response is ``{"ok": true, ...}`` or ``{"ok": false, "error": {"type", "message"}}``
(the message names the valid choices); nothing recorded is lost by a bad request.
``{"op": "help"}`` lists the operations and their arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from happysimulator.observability.breakpoints import Breakpoint, MetricCondition
from happysimulator.observability.export import Exporter

_OPS_HELP: dict[str, str] = {
    "help": "this list",
    "catalog": "the series, span entities and event types that can be queried",
    "state": "where the simulation is (time, events, paused_by, ...)",
    "run": "run to the next pause or the end; optional 'until' (seconds)",
    "step": "process the next 'n' events (default 1) and return them",
    "query": "'query': a query spec {kind, name, entity, tags, start, end, window, "
             "group_by, aggregates, limit, weighting}",
    "peek": "the next 'n' events (default 5) without running them",
    "add_breakpoint": "one of 'time' (s), 'event_count', 'event_type', or 'metric': "
                      "[source, name, operator, threshold] with optional 'for' (s)",
    "remove_breakpoint": "'id' of a breakpoint",
    "breakpoints": "the armed breakpoints",
    "trace": "'trace_id': the spans of one request, as a tree, and its critical path",
    "summary": "a compact digest of the run; optional 'budget_bytes'",
}


def _event(ev: Any) -> dict[str, Any]:
    return {"time": ev.time.to_seconds(), "event_type": ev.event_type,
            "target": getattr(ev.target, "name", type(ev.target).__name__)}


class JsonSession:
    """A JSON request/response interface over one simulation."""

    def __init__(self, sim: Any) -> None:
        if getattr(sim, "control", None) is None:
            raise ValueError("JsonSession needs a simulation with observability "
                             "(not observability=False)")
        self.sim = sim
        self._ops: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            name: getattr(self, f"_op_{name}") for name in _OPS_HELP
        }

    def handle(self, request: str | bytes | dict[str, Any]) -> dict[str, Any]:
        """Answer one request (a JSON text or a dict)."""
        try:
            if isinstance(request, str | bytes):
                request = msgspec.json.decode(request)
            if not isinstance(request, dict) or "op" not in request:
                raise ValueError("a request is a JSON object with an 'op' field; "
                                 f"ops: {', '.join(_OPS_HELP)}")
            op = request["op"]
            fn = self._ops.get(op)
            if fn is None:
                raise ValueError(f"unknown op {op!r}; valid: {', '.join(_OPS_HELP)}")
            return {"ok": True, **fn(request)}
        except (ValueError, TypeError, KeyError, RuntimeError) as exc:
            return {"ok": False, "error": {"type": type(exc).__name__,
                                           "message": str(exc).strip("'\"")}}

    def handle_json(self, request: str | bytes) -> str:
        """Text in, text out."""
        return msgspec.json.encode(self.handle(request)).decode()

    # ---- operations -------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return self.sim.control.get_state().to_dict()

    def _op_help(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"ops": _OPS_HELP}

    def _op_catalog(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"catalog": self.sim.query.catalog()}

    def _op_state(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"state": self._state()}

    def _op_run(self, req: dict[str, Any]) -> dict[str, Any]:
        control = self.sim.control
        if "until" in req:
            control.run_until(req["until"])
        elif control.is_paused:
            control.resume()
        else:
            self.sim.run()
        return {"state": self._state()}

    def _op_step(self, req: dict[str, Any]) -> dict[str, Any]:
        events = self.sim.control.step(req.get("n", 1))
        return {"events": [_event(e) for e in events], "state": self._state()}

    def _op_peek(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"events": [_event(e) for e in self.sim.control.peek_next(req.get("n", 5))]}

    def _op_query(self, req: dict[str, Any]) -> dict[str, Any]:
        spec = req.get("query")
        if not isinstance(spec, dict):
            raise ValueError("'query' must be an object, e.g. {\"kind\": \"metrics\", "
                             "\"name\": \"latency\", \"aggregates\": [\"p99\"]}")
        result = self.sim.query.execute(spec)
        return {"result": msgspec.json.decode(result.to_json())}

    def _op_add_breakpoint(self, req: dict[str, Any]) -> dict[str, Any]:
        kinds = [k for k in ("time", "event_count", "event_type", "metric") if k in req]
        if len(kinds) != 1:
            raise ValueError("add_breakpoint needs exactly one of time, event_count, "
                             f"event_type, metric; got {kinds or 'none'}")
        kind = kinds[0]
        one_shot = req.get("one_shot")
        if kind == "metric":
            spec = req["metric"]
            if not isinstance(spec, list) or len(spec) != 4:
                raise ValueError("metric must be [source, name, operator, threshold]")
            bp = Breakpoint(metric_condition=MetricCondition(*spec, for_=req.get("for")),
                            one_shot=one_shot)
        else:
            bp = Breakpoint(**{kind: req[kind]}, one_shot=one_shot)
        self.sim.control.add_breakpoint(bp)
        return {"breakpoint": bp.to_dict()}

    def _op_remove_breakpoint(self, req: dict[str, Any]) -> dict[str, Any]:
        self.sim.control.remove_breakpoint(req["id"])
        return {"removed": req["id"]}

    def _op_breakpoints(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"breakpoints": [bp.to_dict() for bp in self.sim.control.list_breakpoints()]}

    def _op_trace(self, req: dict[str, Any]) -> dict[str, Any]:
        store = self.sim.query.trace_store
        if store is None:
            raise ValueError("traces are not recorded (ObservabilityConfig traces=False)")
        tid = req["trace_id"]
        spans = store.trace(tid)
        if not spans:
            raise KeyError(f"no trace with id {tid!r}")
        return {"spans": [s.to_dict() for s in spans],
                "critical_path": [s.entity for s in store.critical_path(tid)]}

    def _op_summary(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"summary": Exporter(self.sim).summary(
            budget_bytes=req.get("budget_bytes", 8_000))}
