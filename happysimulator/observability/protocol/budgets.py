"""Answers cut to a byte budget, the rest kept behind a handle (``fetch``)."""

from __future__ import annotations

import json
from typing import Any

from happysimulator.observability.protocol import messages as m
from happysimulator.observability.protocol.answers import _size
from happysimulator.observability.protocol.errors import ProtocolError

_MAX_HANDLES = 32
_RESERVE = 400  # bytes kept free for the truncation note when cutting to a budget


def _spaced_size(item: Any) -> int:
    """An item's size as JSON with the spaces of Python's default ``json.dumps`` (at
    least its compact size): a budget holds however the client prints the answer."""
    return len(json.dumps(item, default=repr))


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
             handle: str | None = None, progress: bool = False,
             asked: int | None = None) -> tuple[list[Any], m.Truncation | None]:
        """The items from `offset` that fit `budget` bytes (`_RESERVE` of it kept for the
        envelope and the note), and a note if some did not. ``progress``: a fetch must
        move on; when not even the next item fits, that is an error naming the size
        needed, never an answer with no items and the same offset (a client following
        ``truncated`` would loop). ``asked``: the budget the client asked for (a first
        answer is cut to what its envelope leaves): a first answer of no items whose next
        item not even a fetch at ``asked`` could carry is refused the same way."""
        room = budget - _RESERVE
        used, end = 2, offset
        while end < len(items):
            used += _spaced_size(items[end]) + 2
            if used > room:
                break
            end += 1
        if end == len(items):
            return items[offset:], None
        if end == offset:
            need = _spaced_size(items[offset]) + 4 + _RESERVE
            if progress:
                raise ProtocolError("bad_request", f"budget_bytes={budget} is too small for "
                                    f"the next item (at offset {offset}: an answer of about "
                                    f"{need} bytes); fetch with a larger budget_bytes")
            if asked is not None and need > asked:
                # a first answer of no items whose first item no fetch at this budget can
                # carry either: refused now, not at the client's first fetch
                raise ProtocolError("bad_request", f"budget_bytes={asked} is too small for "
                                    f"one item of this answer (about {need} bytes with its "
                                    "envelope); ask with a larger budget_bytes")
        handle = self._keep(kind, items, handle)
        return items[offset:end], m.Truncation(
            handle=handle, total=len(items), returned=end - offset, next_offset=end,
            uri=f"happysim://answers/{handle}")

    def _cut_text(self, text: str, budget: int, offset: int = 0,
                  handle: str | None = None) -> tuple[str, m.Truncation | None]:
        """The text from `offset` that fits `budget` bytes *as it appears in the JSON
        answer* (quotes, backslashes and newlines escaped), cut after a line if one fits."""
        rest = text[offset:]
        if _size(rest) <= budget:
            return rest, None
        lo, hi = 0, len(rest)  # the longest prefix whose JSON string fits
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if _size(rest[:mid]) <= budget:
                lo = mid
            else:
                hi = mid - 1
        piece = rest[:lo]
        nl = piece.rfind("\n")
        if nl > 0:
            piece = piece[:nl + 1]
        if not piece:
            raise ProtocolError("bad_request", f"budget_bytes is too small for any text "
                                f"(at offset {offset}); ask with a larger budget_bytes")
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
        _CatalogSize(resp).fit(budget)
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


class _CatalogSize:
    """The JSON size of a catalog answer while its entities' series, then its entities,
    are left out from the end: each part is measured once and the total kept by
    arithmetic (a compact JSON list is ``[`` + the items joined by ``,`` + ``]``), instead
    of encoding the whole answer again after every cut (quadratic in the entities)."""

    __slots__ = ("resp", "envelope", "sizes", "_bare", "entities_sum", "notes_sum")

    def __init__(self, resp: m.CatalogResponse) -> None:
        import msgspec

        cat = resp.catalog
        entities, notes = cat.entities, resp.omitted
        cat.entities, resp.omitted = [], []
        try:
            self.envelope = _bytes(resp)  # with both lists empty: "[]" each
        finally:
            cat.entities, resp.omitted = entities, notes
        self.resp = resp
        self.sizes = [_bytes(e) for e in entities]
        self.entities_sum = sum(self.sizes)
        self.notes_sum = sum(_size(n) for n in notes)
        self._bare = [(_bytes(msgspec.structs.replace(e, series=[])) if e.series else s)
                      for e, s in zip(entities, self.sizes, strict=True)]

    def total(self) -> int:
        n, k = len(self.resp.catalog.entities), len(self.resp.omitted)
        return (self.envelope + self.entities_sum + max(n - 1, 0)
                + self.notes_sum + max(k - 1, 0))

    def _note(self, text: str) -> None:
        self.resp.omitted.append(text)
        self.notes_sum += _size(text)

    def fit(self, budget: int) -> None:
        """What `_fit_catalog` did with a full encoding per step, in the same order: the
        series of the last entities first, then the last entities themselves."""
        entities = self.resp.catalog.entities
        for i in range(len(entities) - 1, -1, -1):
            if self.total() <= budget:
                break
            e = entities[i]
            if e.series:
                e.series = []
                self.entities_sum += self._bare[i] - self.sizes[i]
                self.sizes[i] = self._bare[i]
                self._note(f"series of {e.name}")
        while self.total() > budget and entities:
            e = entities.pop()
            self.entities_sum -= self.sizes.pop()
            self._note(f"entity {e.name}")
