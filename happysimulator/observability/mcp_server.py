"""An MCP server over one live simulation session (needs the ``mcp`` extra).

Every session-protocol operation is a tool whose input schema is the operation's request
schema and whose output schema is its response schema; a failed operation is a tool
result with ``isError`` and the protocol's typed error as structured content. The
catalog, the state, the run's summary and every cut answer are resources; the prompt
``investigate`` explains how to investigate a run.

    happysim-rx mcp examples/metastable_failure.py:build          # stdio
    happysim-rx mcp examples/metastable_failure.py:build --http   # streamable HTTP

In Python: ``build_server(SessionProtocol(...))`` returns an ``mcp`` low-level `Server`;
``serve_stdio(server)`` / ``serve_http(server, host, port)`` run it.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server

from happysimulator.observability.protocol import OPS, PROTOCOL_VERSION, SessionProtocol
from happysimulator.observability.protocol import messages as m
from happysimulator.observability.protocol.schema import response_schema, tool_input_schema
from happysimulator.observability.protocol.session import ProtocolError

__all__ = ["build_server", "serve_stdio", "serve_http", "INSTRUCTIONS", "PROMPT"]

SCHEME = "happysim"
# ops that may block for long (a run waits up to wait_s; a rebuild pauses the old run; a
# replay runs the model again) go to a worker thread; the others answer on the event
# loop: a thread hop costs a GIL switch interval (~5 ms median per call,
# benchmarks/bench_mcp_latency.py)
_BLOCKING = frozenset({"run", "resume", "run_until", "pause", "load", "reset", "step",
                       "fork", "rewind", "compare", "changes", "drop_branch"})
# a summary read as a resource is not cut to a model's small budget
SUMMARY_BUDGET = 64_000
# a cut answer read as a resource comes in pages of about this many bytes
PAGE_BYTES = 64_000
# per-client sessions over HTTP: at most this many live at once (the oldest is closed)
MAX_CLIENT_SESSIONS = 32

READ_ONLY = frozenset({"help", "state", "catalog", "peek", "list_breakpoints", "query",
                       "trace", "export", "fetch", "changes", "snapshot", "branches",
                       "compare"})
# ops that throw away what the session holds: the model (load, reset), the breakpoints
# (remove, clear), a branch's later history (rewind), a whole branch (drop_branch)
DESTRUCTIVE = frozenset({"load", "reset", "remove_breakpoint", "clear_breakpoints",
                         "rewind", "drop_branch"})
IDEMPOTENT = READ_ONLY | frozenset({"pause", "clear_breakpoints", "remove_breakpoint"})

INSTRUCTIONS = (
    "A live discrete-event simulation you can pause, question, step, resume and branch. "
    "Start with catalog (the entities in flow order, their configuration and every "
    "series with its kind and unit), arm breakpoints (add_breakpoint), then run; a run "
    "answers when it stops or after wait_s seconds (state.status says 'running' if it "
    "goes on; pause stops it). changes ranks every series by how much it changed between "
    "two windows and says when; snapshot gives the whole model at one instant. To test a "
    "hypothesis, fork a what-if branch with a change (set: {\"Entity.attribute\": value}), "
    "run it, and compare a query across branches; rewind replays a branch to an earlier "
    "time; drop_branch frees one (at most 16 live). Errors say their kind and list the "
    "valid choices. Long answers are cut: fetch the rest with fetch(handle) or read "
    "happysim://answers/{handle}."
)

PROMPT = """You are investigating a simulation through the happysim-rx tools.
{focus}
The model: {flow}.
1. `catalog` lists every entity (role, concurrency, service time, rate, downstream edges)
   and every series with its kind and unit.
2. Arm a breakpoint on the symptom, e.g. add_breakpoint with
   metric = {{source: "{station}", name: "queue_depth", operator: "gt", threshold: 20,
   for_s: 2}} or anomaly = {{source: "{station}", metric: "queue_depth"}}.
3. `run` (wait_s bounds how long one call waits). When state.status is "paused", call
   `changes` (default: the last tenth of the run against the tenth before; or give
   before/after windows): the series that changed most come first, with the onset of each
   change. `snapshot` shows every entity at one instant.
4. `query` for detail (last_s = 10 with aggregates [mean, max, p99], or window = 5 for a
   trend); `trace` one slow request (its spans split each hop into wait and service).
5. Test your hypothesis: `fork` with set = {{"{station}.concurrency": 2}} (or
   "{station}.service_time.mean": seconds, a source's "<name>.rate": per second, retries
   off with "<client>.retry_policy.max_attempts": 1), `run` the branch (branch: "<its
   name>"), then `compare` the same query on main and the branch: the differences come in
   one answer. `drop_branch` frees a branch you are done with (at most 16).
6. State your conclusion with the numbers that support it. Every answer states whether it
   is exact and how gauges are weighted: quote those."""


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A msgspec schema ``{"$ref": root, "$defs": ...}`` with the root inlined (MCP wants
    an object schema at the top)."""
    defs = dict(schema.get("$defs", {}))
    name = schema["$ref"].rsplit("/", 1)[1]
    body = dict(defs.pop(name))
    if defs:
        body["$defs"] = defs
    return body


def _tools() -> list[types.Tool]:
    tools = []
    for op in OPS:
        req = OPS[op][0]
        doc = " ".join((req.__doc__ or "").split())
        tools.append(types.Tool(
            name=op, title=op.replace("_", " "), description=doc,
            input_schema=tool_input_schema(op), output_schema=_inline(response_schema(op)),
            annotations=types.ToolAnnotations(
                title=op.replace("_", " "), read_only_hint=op in READ_ONLY,
                destructive_hint=op in DESTRUCTIVE, idempotent_hint=op in IDEMPOTENT,
                open_world_hint=False)))
    return tools


def _text(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def no_nulls(obj: Any) -> Any:
    """`obj` without null values: an absent field means 'none' (no data, no fault)."""
    if isinstance(obj, dict):
        return {k: no_nulls(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [no_nulls(v) for v in obj]
    return obj


def _digest(op: str, answer: dict[str, Any]) -> str:
    """The text beside the structured content: a line, not a second copy."""
    if not answer.get("ok"):
        err = answer.get("error", {})
        valid = err.get("valid")
        return (f"{op} failed ({err.get('kind')}): {err.get('message')}"
                + (f" Valid: {', '.join(map(str, valid[:20]))}." if valid else ""))
    size = len(_text(answer))
    state = answer.get("state") or {}
    where = f"; status {state['status']} at t={state['current_time']:g}s" if (
        "status" in state and "current_time" in state) else ""
    return f"{op} ok ({size} bytes of structured content){where}"


class ClientUnknown(ValueError):
    """A per-client server got a request it cannot tell the client of."""


class _Sessions:
    """The session a request is served by: one shared, or one per client connection."""

    def __init__(self, session: Any, per_client: bool) -> None:
        if per_client and not callable(session):
            raise TypeError("per-client sessions need a session factory: a callable "
                            "returning a SessionProtocol")
        if not per_client and not isinstance(session, SessionProtocol):
            session = session()
        self.per_client = per_client
        self.shared: SessionProtocol | None = None if per_client else session
        self.make = session if per_client else None
        self.by_client: dict[Any, tuple[Any, SessionProtocol]] = {}

    def get(self, ctx: Any) -> SessionProtocol:
        if self.shared is not None:
            return self.shared
        # a request's ServerSession is made per request; its connection is the client's
        # (streamable HTTP: the MCP session id; other transports: the connection object)
        session = getattr(ctx, "session", None)
        client = getattr(session, "_connection", None) or session
        key: Any = getattr(client, "session_id", None) or id(client)
        if isinstance(key, int) and not getattr(client, "has_standalone_channel", True):
            # a single-exchange request (MCP 2026-07-28 and later without a session):
            # nothing says which client sent it, and a session made for it alone would
            # forget every run and branch at once
            raise ClientUnknown(
                "this server gives each client its own session (--session per-client), "
                "which needs a stateful MCP connection: this request came alone, "
                "without an MCP session. Connect with a session (a client that "
                "initializes one, e.g. the Python SDK's Client(url, mode='legacy')) or "
                "serve with --session shared")
        entry = self.by_client.get(key)
        if entry is None or (isinstance(key, int) and entry[0] is not client):
            assert self.make is not None
            entry = (client, self.make())
            self.by_client[key] = entry
            while len(self.by_client) > MAX_CLIENT_SESSIONS:
                old = next(iter(self.by_client))
                self.by_client.pop(old)[1].close()
        return entry[1]

    def close(self) -> None:
        if self.shared is not None:
            self.shared.close()
        for _, s in self.by_client.values():
            s.close()
        self.by_client.clear()


async def _at_boundary(served: SessionProtocol, request: dict[str, Any]) -> dict[str, Any]:
    """``served.handle(request)`` answered at the run's next event boundary. On asyncio
    the event loop waits on a future that the run thread resolves (no thread per
    request: each thread hop costs a wait for the GIL the run loop holds); on another
    backend a worker thread waits."""
    import asyncio

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # (not asyncio: trio)
        return await anyio.to_thread.run_sync(served.handle, request)
    future: asyncio.Future[dict[str, Any]] = loop.create_future()

    def resolve(answer: dict[str, Any]) -> None:
        if not future.done():  # (the client may have gone: cancelled)
            future.set_result(answer)

    def done(answer: dict[str, Any]) -> None:  # (on the run thread, or here)
        try:
            loop.call_soon_threadsafe(resolve, answer)
        except RuntimeError:  # the event loop is closed: nobody waits any more
            pass

    served.handle_soon(request, done)
    return await future


def build_server(session: Any, *, name: str = "happysim-rx", per_client: bool = False,
                 text: str = "brief") -> Server:
    """An MCP server whose tools, resources and prompt drive `session`.

    Args:
        session: a `SessionProtocol`, or a callable returning one (needed with
            ``per_client``: each client connection then gets its own session).
        per_client: one session per client connection (HTTP) instead of one shared.
        text: what a tool result's text content holds beside the structured content:
            ``"brief"`` (a line; the structured content is the answer) or ``"json"``
            (the whole answer again, for clients that read only text).
    """
    if text not in ("brief", "json"):
        raise ValueError(f"text must be 'brief' or 'json', got {text!r}")
    tools = _tools()
    sessions = _Sessions(session, per_client)

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        request = {**(params.arguments or {}), "op": params.name}
        if params.name not in OPS:
            answer = msgspec_error("unknown_name", f"unknown tool {params.name!r}", list(OPS))
        else:
            try:
                served = sessions.get(ctx)
            except ClientUnknown as exc:
                answer = msgspec_error("state", str(exc), ["--session shared", "mode legacy"])
            else:
                blocking = params.name in _BLOCKING or (
                    params.name == "state" and request.get("wait_s"))
                if not blocking and served.running:
                    # a read while the model runs waits for an event boundary: without
                    # blocking the event loop, so that concurrent readers wait together
                    # and are served there in one batch (see `_at_boundary`)
                    answer = await _at_boundary(served, request)
                elif blocking:
                    answer = await anyio.to_thread.run_sync(served.handle, request)
                else:
                    answer = served.handle(request)
        answer = no_nulls(answer)
        shown = _text(answer) if text == "json" else _digest(params.name, answer)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=shown)],
            structured_content=answer, is_error=not answer.get("ok", False))

    async def list_resources(ctx: Any, params: Any) -> types.ListResourcesResult:
        fixed = [
            ("catalog", "The model's entities in flow order and every series (kind, unit)"),
            ("state", "Where the simulation is, its model and its breakpoints"),
            ("summary", "A compact, versioned digest of the run so far "
                        "(happysim-rx.summary/1)"),
            ("schema", f"The JSON Schemas of the session protocol ({PROTOCOL_VERSION})"),
        ]
        return types.ListResourcesResult(resources=[
            types.Resource(name=n, uri=f"{SCHEME}://{n}", description=d,
                           mime_type="application/json") for n, d in fixed])

    async def list_templates(ctx: Any, params: Any) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=[
            types.ResourceTemplate(
                name="answers", uri_template=f"{SCHEME}://answers/{{handle}}{{?offset}}",
                description="An answer that was cut to its budget (rows, events or CSV "
                            "text), by the handle in its 'truncated' note, in pages of "
                            f"about {PAGE_BYTES} bytes: each page names the next",
                mime_type="application/json")])

    async def read_resource(ctx: Any,
                            params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        uri = str(params.uri)
        served = sessions.get(ctx)
        text_, mime = await anyio.to_thread.run_sync(_read, served, uri)
        return types.ReadResourceResult(contents=[
            types.TextResourceContents(uri=uri, mime_type=mime, text=text_)])

    async def list_prompts(ctx: Any, params: Any) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=[types.Prompt(
            name="investigate", title="Investigate a run",
            description="How to find out what happened in the simulation and test a "
                        "hypothesis with a what-if branch, step by step",
            arguments=[types.PromptArgument(
                name="symptom", description="what to look into, e.g. 'latency grows'",
                required=False)])])

    async def get_prompt(ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        if params.name != "investigate":
            raise ValueError(f"unknown prompt {params.name!r}; valid: investigate")
        symptom = (params.arguments or {}).get("symptom")
        focus = f"Focus: {symptom}." if symptom else "Find what limits the system."
        served = sessions.get(ctx)
        flow, station = await anyio.to_thread.run_sync(_model_words, served)
        return types.GetPromptResult(
            description="Investigate a run", messages=[types.PromptMessage(
                role="user", content=types.TextContent(type="text", text=PROMPT.format(
                    focus=focus, flow=flow, station=station)))])

    server = Server(name, version=PROTOCOL_VERSION, instructions=INSTRUCTIONS,
                    on_list_tools=list_tools, on_call_tool=call_tool,
                    on_list_resources=list_resources,
                    on_list_resource_templates=list_templates,
                    on_read_resource=read_resource, on_list_prompts=list_prompts,
                    on_get_prompt=get_prompt)
    server.happysim_sessions = sessions  # (for closing them when serving ends)
    return server


def _model_words(session: SessionProtocol) -> tuple[str, str]:
    """The model's flow in words and the name of its first station (for the prompt)."""
    answer = session.handle({"op": "catalog"})
    entities = answer.get("catalog", {}).get("entities", []) if answer.get("ok") else []
    if not entities:
        return "no entities known yet", "Server"
    parts = []
    for e in entities[:12]:
        extra = []
        if "concurrency" in e:
            extra.append(f"concurrency {e['concurrency']}")
        if "service_time" in e and "mean" in e["service_time"]:
            extra.append(f"mean service {e['service_time']['mean']:g} s")
        if "rate" in e:
            extra.append(f"rate {e['rate']}")
        label = f"{e['name']} ({e['role']}{', ' if extra else ''}{', '.join(extra)})"
        parts.append(label)
    more = f" and {len(entities) - 12} more" if len(entities) > 12 else ""
    stations = [e["name"] for e in entities if e["role"] == "station"]
    return " -> ".join(parts) + more, (stations[0] if stations else entities[0]["name"])


def msgspec_error(kind: str, message: str, valid: list[str] | None = None) -> dict[str, Any]:
    return {"ok": False, "error": {"kind": kind, "message": message, "valid": valid},
            "state": None}


def _read(session: SessionProtocol, uri: str) -> tuple[str, str]:
    prefix = f"{SCHEME}://"
    if not uri.startswith(prefix):
        raise ValueError(f"unknown resource {uri!r}; resources start with {prefix}")
    path = uri[len(prefix):]
    if path in ("catalog", "state"):
        answer = session.handle({"op": path})
    elif path == "summary":
        answer = session.handle({"op": "export", "what": "summary",
                                 "budget_bytes": SUMMARY_BUDGET})
        if answer.get("ok"):
            answer = answer["content"]
    elif path == "schema":
        from happysimulator.observability.protocol.schema import session_schema

        return _text(session_schema()), "application/json"
    elif path.startswith("answers/"):
        handle, _, query = path.split("/", 1)[1].partition("?")
        offset = 0
        if query:
            key, _, value = query.partition("=")
            if key != "offset" or not value.isdecimal():
                raise ValueError(f"unknown resource {uri!r}: the only parameter is "
                                 "?offset=N (a non-negative integer)")
            offset = int(value)
        try:
            kind, items = session.resource(handle)
        except ProtocolError as exc:
            raise ValueError(f"{exc.message}; live handles: {', '.join(exc.valid or [])}") \
                from None
        return _text(_page(handle, kind, items, offset)), "application/json"
    else:
        raise ValueError(f"unknown resource {uri!r}; valid: {prefix}catalog, {prefix}state, "
                         f"{prefix}summary, {prefix}schema, {prefix}answers/{{handle}}")
    return _text(answer), "application/json"


def _page(handle: str, kind: str, items: Any, offset: int) -> dict[str, Any]:
    """One page (about `PAGE_BYTES`) of a cut answer from `offset`, naming the next."""
    total = len(items)
    if offset > total:
        raise ValueError(f"offset {offset} is past the end of {handle} ({total} items)")
    if kind == "text":
        piece = items[offset:offset + PAGE_BYTES]
        end = offset + len(piece)
    else:
        used, end = 0, offset
        while end < total:
            used += len(_text(items[end])) + 1
            if used > PAGE_BYTES and end > offset:
                break
            end += 1
        piece = items[offset:end]
    page = {"handle": handle, "kind": kind, "offset": offset, "total": total,
            "items": piece}
    if end < total:
        page["next"] = f"{SCHEME}://answers/{handle}?offset={end}"
    return page


def claim_stdio() -> tuple[Any, Any]:
    """Take this process's stdin and stdout for the protocol now, before any model code
    runs: fd 1 then points at stderr (a ``print()`` in a model or its factory lands
    there, not in the JSON-RPC stream) and fd 0 at the null device. Returns the
    protocol's (stdin, stdout) as the async text files `serve_stdio` takes."""
    import io
    import os
    import sys

    sys.stdout.flush()
    wire_out, wire_in = os.dup(1), os.dup(0)
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    out = io.TextIOWrapper(os.fdopen(wire_out, "wb", buffering=0), encoding="utf-8",
                           write_through=True)
    inp = io.TextIOWrapper(os.fdopen(wire_in, "rb"), encoding="utf-8", errors="replace")
    return anyio.wrap_file(inp), anyio.wrap_file(out)


async def serve_stdio(server: Server, streams: tuple[Any, Any] | None = None) -> None:
    """Serve over this process's stdin/stdout (or the `streams` from `claim_stdio`)
    until the client closes them."""
    from mcp.server.stdio import stdio_server

    stdin, stdout = streams if streams is not None else (None, None)
    async with stdio_server(stdin, stdout) as (read, write):
        await server.run(read, write, server.create_initialization_options())


def serve_http(server: Server, host: str = "127.0.0.1", port: int = 8765,
               path: str = "/mcp") -> None:
    """Serve over streamable HTTP at ``http://host:port/mcp`` (blocks)."""
    import uvicorn

    app = server.streamable_http_app(streamable_http_path=path, host=host)
    uvicorn.run(app, host=host, port=port, log_level="warning")


_ = m  # the message types are the tools' schemas (via protocol.schema)
