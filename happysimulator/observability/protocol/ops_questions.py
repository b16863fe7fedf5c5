"""Session operations that ask: query, trace, export, fetch."""

from __future__ import annotations

import math
from typing import Any

import msgspec

from happysim_rx import QueryError
from happysimulator.observability.export import Exporter
from happysimulator.observability.protocol import messages as m
from happysimulator.observability.protocol.answers import _jsonable, _size
from happysimulator.observability.protocol.errors import ProtocolError
from happysimulator.observability.protocol.trace_missing import missing_trace
from operators.aggregators import AGGREGATE_NAMES
from operators.simtime import just_after


def _ids_only(node: dict[str, Any]) -> dict[str, Any]:
    """A trace-tree node as its span id and children (the span itself is in spans)."""
    out: dict[str, Any] = {"span_id": _jsonable(node.get("span_id"))}
    children = node.get("children") or []
    if children:
        out["children"] = [_ids_only(c) for c in children]
    return out


class QuestionOps:
    """``query``/``trace``/``export``/``fetch`` of `SessionProtocol`
    (mixed into it: works on its simulation, runner and lock)."""

    def _query_dict(self, spec: m.QuerySpec) -> dict[str, Any]:
        d = msgspec.to_builtins(spec)
        d.setdefault("entity", "*")
        last = d.pop("last_s", None)
        if last is not None:
            if spec.start is not None or spec.end is not None:
                raise ProtocolError("bad_request", "give either last_s or start/end, not both")
            now = self._sim.now.to_seconds()
            # the next float after now (now + 1e-9 rounds to now past ~1.7e7 s): the
            # values in effect at now count
            d["start"], d["end"] = now - last, just_after(now)
        if spec.kind == "metrics" and spec.name is None:
            raise ProtocolError("bad_request", "a metrics query needs a 'name' (see catalog)")
        if spec.kind == "spans" and spec.name is not None:
            raise ProtocolError("bad_request", "a spans query takes no 'name' (use entity)")
        for key in ("start", "end", "window"):
            v = d.get(key)
            if isinstance(v, float) and math.isnan(v):
                raise ProtocolError("bad_request", f"{key} must not be NaN")
        return d

    def _execute(self, spec: m.QuerySpec) -> Any:
        d = self._query_dict(spec)

        def run() -> Any:
            try:
                return self._sim.query.execute(d)
            except QueryError as exc:
                raise self._query_error(exc) from None

        return self._call(run)

    def _query_error(self, exc: QueryError) -> ProtocolError:
        text = str(exc)
        if text.startswith("unknown metric"):
            names = sorted({s["name"] for s in self._sim.query.catalog()["metrics"]})
            return ProtocolError("unknown_name", text, names)
        if text.startswith("unknown entity"):
            return ProtocolError("unknown_name", text)
        if text.startswith("unknown event type"):
            names = sorted({e["name"] for e in self._sim.query.catalog().get("events", [])})
            return ProtocolError("unknown_name", text, names)
        if text.startswith("unknown aggregate"):
            return ProtocolError("unknown_name", text, [*AGGREGATE_NAMES, "pNN", "pNN.N"])
        return ProtocolError("bad_request", text, getattr(exc, "valid", None))

    def _op_query(self, req: m.QueryRequest) -> m.QueryResponse:
        result = self._execute(req.query).to_dict()
        return self._rows_response(result, req.budget_bytes)

    def _rows_response(self, result: dict[str, Any], budget: int) -> m.QueryResponse:
        info = m.QueryResultInfo(**_jsonable(result))
        rows = info.rows
        info.rows = []
        head = _size(msgspec.to_builtins(m.QueryResponse(result=info)))
        shown, cut = self._cut(rows, budget - head, "rows", asked=budget)
        info.rows = shown
        return m.QueryResponse(result=info, truncated=cut)

    def _op_trace(self, req: m.TraceRequest) -> m.TraceResponse:
        def run() -> m.TraceResponse:
            store = self._sim.query.trace_store
            if store is None:
                raise ProtocolError("state", "traces are not recorded (ObservabilityConfig "
                                    "traces=False)")
            tid: Any = req.trace_id
            spans = store.trace(tid)
            if not spans and isinstance(tid, str) and tid.lstrip("-").isdecimal():
                tid = int(tid)
                spans = store.trace(tid)
            if not spans:
                raise missing_trace(self._sim, store, req.trace_id, tid)
            path = store.critical_path(tid)
            # each span once (in spans); the tree and the critical path refer to them by id
            return m.TraceResponse(
                trace_id=tid, spans=[_jsonable(s.to_dict()) for s in spans],
                tree=[_ids_only(node) for node in store.tree(tid)],
                critical_path=[s.entity for s in path],
                critical_path_spans=[{"span_id": _jsonable(s.span_id), "entity": s.entity}
                                     for s in path],
                duration_s=max(s.end for s in spans) - min(s.start for s in spans))

        resp = self._call(run)
        for part in ("spans", "tree"):
            if _size(msgspec.to_builtins(resp)) <= req.budget_bytes:
                break
            setattr(resp, part, [])
            resp.truncated.append(part)
        return resp

    def _op_export(self, req: m.ExportRequest) -> m.ExportResponse:
        if req.what == "summary":
            if req.format != "json":
                raise ProtocolError("bad_request", "the summary is JSON only", ["json"])
            if req.query is not None:
                raise ProtocolError("bad_request", "the summary takes no query")
            budget = req.budget_bytes - 200  # room for the envelope
            doc = self._call(lambda: Exporter(self._sim).summary(budget_bytes=max(512, budget)))
            return m.ExportResponse(what="summary", format="json", content=_jsonable(doc),
                                    size_bytes=_size(doc))
        if req.query is None:
            raise ProtocolError("bad_request", "export of a query needs 'query' (or what: "
                                "'summary')")
        result = self._execute(req.query)
        if req.format == "json":
            resp = self._rows_response(result.to_dict(), req.budget_bytes - 200)
            content = msgspec.to_builtins(resp.result)
            return m.ExportResponse(what="query", format="json", content=content,
                                    size_bytes=_size(content), truncated=resp.truncated)
        text = Exporter(self._sim).to_csv(result)
        shown, cut = self._cut_text(text, req.budget_bytes - 400)
        # (the content's size in the answer: the CSV text as a JSON string, escaped)
        return m.ExportResponse(what="query", format="csv", content=shown,
                                size_bytes=_size(shown), truncated=cut)

    def _op_fetch(self, req: m.FetchRequest) -> m.FetchResponse:
        kind, items = self.resource(req.handle)
        if req.offset > len(items):
            raise ProtocolError("bad_request", f"offset {req.offset} is past the end "
                                f"({len(items)} items)")
        if kind == "text":
            shown, cut = self._cut_text(items, req.budget_bytes - 400, req.offset,
                                        handle=req.handle)
        else:
            # (`_cut` keeps its own reserve for the envelope: not subtracted twice)
            shown, cut = self._cut(items, req.budget_bytes, kind, req.offset,
                                   handle=req.handle, progress=True)
        return m.FetchResponse(handle=req.handle, kind=kind, items=shown, offset=req.offset,
                               truncated=cut)
