"""The debugger's web server: a Starlette app over a `Debugger`.

Routes (all but the page's static files need the server's token):

* ``GET /?token=...``: the page; the token is exchanged for an HttpOnly, SameSite=Strict
  cookie (the page then drops it from its URL), so it stays out of the history, of export
  links and of ``Referer`` headers. Without a valid token or cookie: a plain "wrong or
  missing token" page. ``/static/...``: the page's script, style and uPlot.
* ``POST /api/op``: one request (``{"op": ...}``), the response as JSON (cookie, or the
  token in an ``X-Token`` header for scripts).
* ``GET /api/export?format=csv|json|summary&query=<json spec>``: a download.
* ``WS /ws``: pushes ``status``, ``points`` (closed windows of a chart), ``gauges``,
  ``queues``, ``marker``, ``shared`` (breakpoints, charts, speed, selection) and
  ``reset`` messages; the first message is a full snapshot.

Like a careful local development server, every request must name the server by a
loopback ``Host`` (``127.0.0.1``, ``localhost`` or ``[::1]`` with this port: a page of
another site that rebinds its DNS name to 127.0.0.1 is refused), WebSockets must come from
the page's own origin, and every answer carries a Content-Security-Policy, refuses
framing and sends no referrer.
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
from starlette.requests import HTTPConnection, Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from happysimulator.observability.web.driver import Debugger

STATIC = Path(__file__).parent / "static"
_CLIENT_QUEUE = 256  # messages buffered per page; a slow page loses old points, not memory
_EXPORTS = {"csv": ("text/csv", "csv"), "json": ("application/json", "json"),
            "summary": ("application/json", "json")}
_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = [(b"content-security-policy", _CSP.encode()),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"cross-origin-resource-policy", b"same-origin")]
NO_TOKEN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>happysim-rx debugger: wrong or missing token</title></head>
<body>
<h1>Wrong or missing token</h1>
<p>This debugger only answers the URL it printed when it started
(<code>http://127.0.0.1:PORT/?token=...</code>). Open that URL again; if the debugger was
restarted, its token changed.</p>
</body></html>
"""


def loopback_hosts(port: int) -> frozenset[str]:
    """The ``Host`` values a page on this machine sends for this port."""
    names = ("127.0.0.1", "localhost", "[::1]")
    hosts = {f"{n}:{port}" for n in names}
    if port == 80:  # the default port is left out of Host
        hosts.update(names)
    return frozenset(hosts)


class _Guard:
    """ASGI middleware: refuses a non-loopback ``Host`` (DNS rebinding) and a WebSocket
    from another origin, and adds the security headers to every HTTP answer."""

    def __init__(self, app: Any, hosts: frozenset[str]) -> None:
        self.app, self.hosts = app, hosts
        self.origins = frozenset(f"http://{h}" for h in hosts)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1").lower()
        origin = headers.get(b"origin")
        bad = host not in self.hosts
        if kind == "websocket" and not bad:
            # a browser always sends Origin on a WebSocket: only the page's own is let in
            bad = origin is None or origin.decode("latin-1").lower() not in self.origins
        if bad:
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 4403})
                return None
            msg = (f"refused: Host {host!r} is not this debugger's address (it answers "
                   f"only {', '.join(sorted(self.hosts))})\n").encode()
            await send({"type": "http.response.start", "status": 421,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    *SECURITY_HEADERS]})
            await send({"type": "http.response.body", "body": msg})
            return None

        async def secured(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []),
                                                  *SECURITY_HEADERS]}
            await send(message)

        return await self.app(scope, receive, secured if kind == "http" else send)


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


def create_app(debugger_factory: Any, token: str | None = None, *,
               port: int = 8765) -> tuple[Starlette, Hub, str]:
    """The app for a server on 127.0.0.1:`port`; `debugger_factory(push)` builds the
    `Debugger` with the hub's push."""
    token = token or secrets.token_urlsafe(16)
    cookie = f"happysim_rx_{port}"  # cookies ignore ports: one name per debugger
    hub = Hub()
    debugger: Debugger = debugger_factory(hub.push)

    def valid(got: str | None) -> bool:
        return bool(got) and secrets.compare_digest(got.encode(), token.encode())

    def authorized(conn: HTTPConnection) -> bool:
        return valid(conn.cookies.get(cookie)) or valid(conn.headers.get("x-token"))

    async def page(request: Request) -> Response:
        given = request.query_params.get("token")
        if given is not None and valid(given):
            resp: Response = FileResponse(STATIC / "index.html",
                                          headers={"Cache-Control": "no-store"})
            resp.set_cookie(cookie, token, httponly=True, samesite="strict", path="/")
            return resp
        if given is None and authorized(request):
            return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})
        return HTMLResponse(NO_TOKEN_PAGE, status_code=403,
                            headers={"Cache-Control": "no-store"})

    def refused() -> JSONResponse:
        return JSONResponse({"ok": False, "error": {"kind": "state",
                             "message": "wrong or missing token"}}, status_code=403)

    async def op(request: Request) -> Response:
        if not authorized(request):
            return refused()
        try:
            req = await request.json()
        except ValueError as exc:
            return JSONResponse({"ok": False, "error": {"kind": "bad_request",
                                 "message": f"the body is not JSON: {exc}"}})
        resp = await asyncio.wrap_future(debugger.request(req))
        return JSONResponse(resp, headers={"Cache-Control": "no-store"})

    async def export(request: Request) -> Response:
        if not authorized(request):
            return Response("wrong or missing token", status_code=403)
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
            "Content-Disposition": f'attachment; filename="{safe}.{ext}"',
            "Cache-Control": "no-store"})

    async def ws(websocket: WebSocket) -> None:
        if not authorized(websocket):
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
    app.add_middleware(_Guard, hosts=loopback_hosts(port))
    app.state.debugger = debugger
    app.state.hub = hub
    return app, hub, token
