"""Answers cut to a byte budget, the rest kept behind a handle (``fetch``)."""

from __future__ import annotations

from typing import Any

from happysimulator.observability.protocol import messages as m
from happysimulator.observability.protocol.answers import _size
from happysimulator.observability.protocol.errors import ProtocolError

_MAX_HANDLES = 32
_RESERVE = 400  # bytes kept free for the truncation note when cutting to a budget


class AnswerBudgets:
    """The session's truncation handles: `resource(handle)` and the cutting
    (mixed into `SessionProtocol`)."""

    def resource(self, handle: str) -> tuple[str, Any]:
        """The whole answer behind a truncation handle: ``(kind, items)``."""
        try:
            return self._handles[handle]
        except KeyError:
            raise ProtocolError("unknown_name", f"no answer with handle {handle!r} (handles "
                                "expire after 32 newer cut answers)",
                                list(self._handles)) from None

    # ---- budgets ---------------------------------------------------------------------------------
    def _keep(self, kind: str, items: Any, handle: str | None) -> str:
        if handle is None:
            handle = f"{kind[0]}{next(self._handle_ids)}"
            self._handles[handle] = (kind, items)
            while len(self._handles) > _MAX_HANDLES:
                self._handles.popitem(last=False)
        return handle

    def _cut(self, items: list[Any], budget: int, kind: str, offset: int = 0,
             handle: str | None = None) -> tuple[list[Any], m.Truncation | None]:
        """The items from `offset` that fit `budget` bytes, and a note if some did not."""
        room = budget - _RESERVE
        used, end = 2, offset
        while end < len(items):
            used += _size(items[end]) + 1
            if used > room:
                break
            end += 1
        if end == len(items):
            return items[offset:], None
        handle = self._keep(kind, items, handle)
        return items[offset:end], m.Truncation(
            handle=handle, total=len(items), returned=end - offset, next_offset=end,
            uri=f"happysim://answers/{handle}")

    def _cut_text(self, text: str, budget: int, offset: int = 0,
                  handle: str | None = None) -> tuple[str, m.Truncation | None]:
        rest = text[offset:]
        if len(rest.encode()) <= budget:
            return rest, None
        piece = rest.encode()[:max(budget, 1)].decode(errors="ignore")
        nl = piece.rfind("\n")
        if nl > 0:
            piece = piece[:nl + 1]
        handle = self._keep("text", text, handle)
        end = offset + len(piece)
        return piece, m.Truncation(handle=handle, total=len(text), returned=len(piece),
                                   next_offset=end, uri=f"happysim://answers/{handle}")


def _bytes(resp: Any) -> int:
    import msgspec

    return _size(msgspec.to_builtins(resp))


class FittedAnswers:
    """``catalog``, ``state`` and ``help`` cut to their ``budget_bytes`` (mixed into
    `SessionProtocol`): the least needed parts go first, and the answer names them."""

    def _fit_catalog(self, resp: m.CatalogResponse, budget: int) -> m.CatalogResponse:
        cat = resp.catalog
        if _bytes(resp) <= budget:
            return resp
        if cat.events:
            cat.events = []
            resp.omitted.append("events")
        if _bytes(resp) > budget and cat.metrics:
            cat.metrics = []  # (the entities carry every series with its kind and unit)
            resp.omitted.append("metrics")
        for e in reversed(cat.entities):
            if _bytes(resp) <= budget:
                break
            if e.series:
                e.series = []
                resp.omitted.append(f"series of {e.name}")
        while _bytes(resp) > budget and cat.entities:
            resp.omitted.append(f"entity {cat.entities.pop().name}")
        return resp

    def _fit_state(self, resp: m.StateResponse, budget: int) -> m.StateResponse:
        while _bytes(resp) > budget and resp.breakpoints:
            resp.breakpoints.pop()
            resp.omitted += 1
        return resp

    def _fit_help(self, resp: m.HelpResponse, budget: int) -> m.HelpResponse:
        if _bytes(resp) <= budget:
            return resp
        resp.error_schema = None
        resp.omitted.append("error_schema")
        for name, op in reversed(list(resp.ops.items())):
            if _bytes(resp) <= budget:
                break
            op.request = op.response = None
            resp.omitted.insert(0, name)
        return resp
