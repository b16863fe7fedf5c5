"""Drive and question a simulation through JSON only (for AI models and other programs).

    api = JsonSession(sim)
    api.handle('{"op": "catalog"}')
    api.handle({"op": "add_breakpoint", "metric": {"source": "Server", "name": "queue_depth",
                "operator": "gt", "threshold": 20}})
    api.handle({"op": "run"})                   # -> {"ok": true, "state": {...}, ...}
    api.handle({"op": "query", "query": {"kind": "metrics", "name": "latency",
                "start": 10, "end": 20, "aggregates": ["p99"]}})
    api.handle({"op": "step", "n": 5})

A thin client of the session protocol (`happysimulator.observability.protocol`): the
operations, their JSON Schemas (``{"op": "help"}``) and the errors
(``{"ok": false, "error": {"kind", "message", "valid"?}}``) are the protocol's. Unlike
the protocol's default, ``run``/``resume``/``run_until`` wait until the run stops
(``wait_s`` in a request waits less). Two older spellings still work: ``breakpoints``
(= ``list_breakpoints``) and ``summary`` (= ``export`` of the summary, answered as
``{"summary": ...}``); ``metric`` may be ``[source, name, operator, threshold]`` with a
top-level ``for`` (seconds).
"""

from __future__ import annotations

from typing import Any

import msgspec

from happysimulator.observability.protocol.session import SessionProtocol


class JsonSession:
    """A JSON request/response interface over one simulation (see the module doc)."""

    def __init__(self, sim: Any) -> None:
        if getattr(sim, "control", None) is None:
            raise ValueError("JsonSession needs a simulation with observability "
                             "(not observability=False)")
        self.sim = sim
        self.protocol = SessionProtocol(sim, default_wait_s=None)

    def handle(self, request: str | bytes | dict[str, Any]) -> dict[str, Any]:
        """Answer one request (a JSON text or a dict). Never raises."""
        if isinstance(request, str | bytes | bytearray):
            try:
                request = msgspec.json.decode(request)
            except (msgspec.DecodeError, RecursionError):
                return self.protocol.handle(request)  # the protocol words the error
        if not isinstance(request, dict):
            return self.protocol.handle(request)
        op = request.get("op")
        if op == "breakpoints":
            return self.protocol.handle({**request, "op": "list_breakpoints"})
        if op == "summary":
            answer = self.protocol.handle({**request, "op": "export", "what": "summary"})
            if answer.get("ok"):
                return {"ok": True, "op": "summary", "summary": answer["content"]}
            return answer
        if op == "add_breakpoint" and isinstance(request.get("metric"), list | tuple):
            request = dict(request)
            spec = request.pop("metric")
            for_s = request.pop("for", None)
            if len(spec) != 4:
                return self.protocol.handle({**request, "metric": spec})  # worded error
            metric = dict(zip(("source", "name", "operator", "threshold"), spec, strict=True))
            if for_s is not None:
                metric["for_s"] = for_s
            request["metric"] = metric
        return self.protocol.handle(request)

    def handle_json(self, request: str | bytes) -> str:
        """Text in, text out."""
        return msgspec.json.encode(self.handle(request)).decode()
