"""The debugger's web server: a Starlette app over a `Debugger`.

Routes (all but the page and its static files need the server's token, given in the URL
it prints, so another web page cannot drive a local simulation):

* ``GET /``: the page; ``/static/...``: its script, style and the uPlot chart library.
* ``POST /api/op``: one request (``{"op": ...}``), the response as JSON.
* ``GET /api/export?format=csv|json|summary&query=<json spec>``: a download.
* ``WS /ws``: pushes ``status``, ``points`` (closed windows of a chart), ``gauges``,
  ``marker`` and ``reset`` messages; the first message is a full snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from happysimulator.observability.web.driver import Debugger

STATIC = Path(__file__).parent / "static"
_CLIENT_QUEUE = 256  # messages buffered per page; a slow page loses old points, not memory
_EXPORTS = {"csv": ("text/csv", "csv"), "json": ("application/json", "json"),
            "summary": ("application/json", "json")}


class Hub:
    """Fans the worker thread's messages out to the connected pages (bounded queues)."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.clients: set[asyncio.Queue[dict[str, Any]]] = set()
        self.sent = 0

    def push(self, msg: dict[str, Any]) -> None:  # worker thread
        loop = self.loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._fan_out, msg)
            except RuntimeError:  # the loop shut down meanwhile
                pass

    def _fan_out(self, msg: dict[str, Any]) -> None:
        for q in self.clients:
            if q.full():
                q.get_nowait()  # drop the oldest: memory stays bounded
            q.put_nowait(msg)


def create_app(debugger_factory: Any, token: str | None = None) -> tuple[Starlette, Hub, str]:
    """The app; `debugger_factory(push)` builds the `Debugger` with the hub's push."""
    token = token or secrets.token_urlsafe(16)
    hub = Hub()
    debugger: Debugger = debugger_factory(hub.push)

    def authorized(got: str | None) -> bool:
        return got is not None and secrets.compare_digest(got, token)

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def op(request: Request) -> Response:
        if not authorized(request.headers.get("x-token")):
            return JSONResponse({"ok": False, "error": {"kind": "state",
                                 "message": "missing or wrong token"}}, status_code=403)
        try:
            req = await request.json()
        except ValueError as exc:
            return JSONResponse({"ok": False, "error": {"kind": "bad_request",
                                 "message": f"the body is not JSON: {exc}"}})
        resp = await asyncio.wrap_future(debugger.request(req))
        return JSONResponse(resp)

    async def export(request: Request) -> Response:
        if not authorized(request.query_params.get("token")):
            return Response("missing or wrong token", status_code=403)
        fmt = request.query_params.get("format", "")
        if fmt not in _EXPORTS:
            return Response(f"unknown format {fmt!r}; valid: {', '.join(_EXPORTS)}",
                            status_code=400)
        req: dict[str, Any] = {"op": "download", "format": fmt}
        if fmt != "summary":
            try:
                req["query"] = json.loads(request.query_params.get("query", ""))
            except ValueError as exc:
                return Response(f"query is not JSON: {exc}", status_code=400)
        resp = await asyncio.wrap_future(debugger.request(req))
        if not resp.get("ok"):
            return JSONResponse(resp, status_code=400)
        content = resp["content"]
        media, ext = _EXPORTS[fmt]
        name = request.query_params.get("name", fmt)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80] or fmt
        return Response(content, media_type=media, headers={
            "Content-Disposition": f'attachment; filename="{safe}.{ext}"'})

    async def ws(websocket: WebSocket) -> None:
        if not authorized(websocket.query_params.get("token")):
            await websocket.close(code=4403)
            return
        await websocket.accept()
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=_CLIENT_QUEUE)
        hub.loop = asyncio.get_running_loop()
        snapshot = await asyncio.wrap_future(debugger.request({"op": "status"}))
        hub.clients.add(q)

        async def sender(scope: anyio.CancelScope) -> None:
            try:
                await websocket.send_json({"type": "snapshot", **snapshot})
                while True:
                    msg = await q.get()
                    await websocket.send_json(msg)
                    hub.sent += 1
            except Exception:  # the page went away mid-send
                pass
            scope.cancel()

        async def receiver(scope: anyio.CancelScope) -> None:  # notices a page leaving at once
            try:
                while (await websocket.receive())["type"] != "websocket.disconnect":
                    pass
            except Exception:
                pass
            scope.cancel()

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(sender, tg.cancel_scope)
                tg.start_soon(receiver, tg.cancel_scope)
        finally:
            hub.clients.discard(q)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        hub.loop = asyncio.get_running_loop()
        yield

    app = Starlette(routes=[
        Route("/", page),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/api/op", op, methods=["POST"]),
        Route("/api/export", export),
        WebSocketRoute("/ws", ws),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ], lifespan=lifespan)
    app.state.debugger = debugger
    app.state.hub = hub
    return app, hub, token
