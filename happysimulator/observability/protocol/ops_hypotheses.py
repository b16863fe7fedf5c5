"""Session operations that help test hypotheses: changes (what changed, and when) and
snapshot (the whole model at one instant)."""

from __future__ import annotations

from typing import Any

import msgspec

from happysim_rx import QueryError
from happysimulator.observability.protocol import messages as m
from happysimulator.observability.protocol.answers import _jsonable, _size
from happysimulator.observability.protocol.errors import ProtocolError


class HypothesisOps:
    """``changes``/``snapshot`` of `SessionProtocol` (mixed into it), also as Python
    methods: ``session.changes(before=[100, 300], after=[300, 600])``."""

    def _ask(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        answer = self.handle({"op": op, **{k: v for k, v in args.items() if v is not None}})
        if not answer["ok"]:
            err = answer["error"]
            raise ProtocolError(err["kind"], err["message"], err.get("valid"))
        return answer

    def changes(self, before: list[float] | None = None, after: list[float] | None = None,
                limit: int = 20, branch: str = "main") -> dict[str, Any]:
        """The ``changes`` operation (raises `ProtocolError` on a failed request)."""
        return self._ask("changes", {"before": before and list(before),
                                     "after": after and list(after), "limit": limit,
                                     "branch": branch})

    def snapshot(self, at: float | None = None, branch: str = "main") -> dict[str, Any]:
        """The ``snapshot`` operation (raises `ProtocolError` on a failed request)."""
        return self._ask("snapshot", {"at": at, "branch": branch})

    def _op_changes(self, req: m.ChangesRequest) -> m.ChangesResponse:
        from happysimulator.observability.changes import changes

        engine = self._sim.query

        def run() -> dict[str, Any]:
            try:
                return changes(engine, req.before, req.after, limit=10**9)
            except QueryError as exc:
                raise ProtocolError("bad_request", str(exc)) from None

        doc = _jsonable(self._call(run))
        rows = doc.pop("series")
        resp = m.ChangesResponse(**doc, series=[])
        shown = rows[:req.limit]
        head = _size(msgspec.to_builtins(resp)) + 40
        room = req.budget_bytes - head
        used, keep = 0, 0
        for row in shown:  # most changed first: the least changed are dropped
            used += _size(row) + 1
            if used > room:
                break
            keep += 1
        resp.series = [msgspec.convert(r, m.ChangeRow) for r in shown[:keep]]
        resp.omitted = len(rows) - keep
        return resp

    def _op_snapshot(self, req: m.SnapshotRequest) -> m.SnapshotResponse:
        from happysimulator.observability.snapshot import snapshot

        engine = self._sim.query

        def run() -> dict[str, Any]:
            try:
                return snapshot(engine, req.at)
            except QueryError as exc:
                raise ProtocolError("bad_request", str(exc)) from None

        doc = _jsonable(self._call(run))
        entities = doc["entities"]
        resp = m.SnapshotResponse(at=doc["at"], exact=doc["exact"], entities={},
                                  requests=msgspec.convert(doc["requests"],
                                                           m.RequestsInSystem))
        room = req.budget_bytes - _size(msgspec.to_builtins(resp)) - 200
        used = 0
        omitted = []
        for name, snap in entities.items():
            size = _size(snap) + len(name) + 4
            if used + size > room:
                omitted.append(name)
                continue
            used += size
            resp.entities[name] = msgspec.convert(snap, m.EntitySnapshot)
        resp.omitted = omitted
        return resp
