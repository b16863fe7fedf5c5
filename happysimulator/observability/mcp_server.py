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
# ops that may block for long (a run waits up to wait_s; a rebuild pauses the old run)
# go to a worker thread; the others answer on the event loop: a thread hop costs a GIL
# switch interval (~5 ms median per call, benchmarks/bench_mcp_latency.py)
_BLOCKING = frozenset({"run", "resume", "run_until", "pause", "load", "reset", "step"})
# a summary read as a resource is not cut to a model's small budget
SUMMARY_BUDGET = 64_000

INSTRUCTIONS = (
    "A live discrete-event simulation you can pause, question, step and resume. "
    "Start with catalog (the series you can ask about), arm breakpoints (add_breakpoint), "
    "then run; a run answers when it stops or after wait_s seconds (state.status says "
    "'running' if it goes on; pause stops it). Query with kind/name/entity and last_s or "
    "start/end, aggregates like mean, p99, max, rate, last. Errors say their kind and list "
    "the valid choices. Long answers are cut: fetch the rest with fetch(handle) or read "
    "the resource happysim://answers/{handle}."
)

PROMPT = """You are investigating a running simulation through the happysim-rx tools.
{focus}
1. Call `catalog` to learn the series (kind, unit) and entities.
2. Arm a breakpoint on the symptom, e.g. add_breakpoint with
   metric = {{source: "Server", name: "queue_depth", operator: "gt", threshold: 20,
   for_s: 2}} or anomaly = {{source: "Server", metric: "queue_depth"}}.
3. `run` (wait_s bounds how long one call waits). When state.status is "paused", ask
   `query` about the recent past: last_s = 10 with aggregates [mean, max, p99], or
   window = 5 for a trend. Compare with an earlier range (start/end) to see what changed:
   arrivals (rate), service_time, wait_time, retries.
4. `trace` one slow request (its trace_id from a spans query) to see where it waited.
5. `step` a few events to watch what happens next, then `resume`.
6. At the end read the resource happysim://summary (or export what=summary) and state
   your conclusion with the numbers that support it.
Every answer states whether it is exact and how gauges are weighted: quote those."""


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
            input_schema=tool_input_schema(op), output_schema=_inline(response_schema(op))))
    return tools


def _text(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def build_server(session: SessionProtocol, *, name: str = "happysim-rx") -> Server:
    """An MCP server whose tools, resources and prompt drive `session`."""
    tools = _tools()

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        request = {**(params.arguments or {}), "op": params.name}
        if params.name not in OPS:
            answer = msgspec_error("unknown_name", f"unknown tool {params.name!r}", list(OPS))
        else:
            blocking = params.name in _BLOCKING or (
                params.name == "state" and request.get("wait_s"))
            if blocking:
                answer = await anyio.to_thread.run_sync(session.handle, request)
            else:
                answer = session.handle(request)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=_text(answer))],
            structured_content=answer, is_error=not answer.get("ok", False))

    async def list_resources(ctx: Any, params: Any) -> types.ListResourcesResult:
        fixed = [
            ("catalog", "What can be asked: series with kind, unit and tags"),
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
                name="answers", uri_template=f"{SCHEME}://answers/{{handle}}",
                description="The whole of an answer that was cut to its budget (rows, "
                            "events or CSV text), by the handle in its 'truncated' note",
                mime_type="application/json")])

    async def read_resource(ctx: Any,
                            params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        uri = str(params.uri)
        text, mime = await anyio.to_thread.run_sync(_read, session, uri)
        return types.ReadResourceResult(contents=[
            types.TextResourceContents(uri=uri, mime_type=mime, text=text)])

    async def list_prompts(ctx: Any, params: Any) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=[types.Prompt(
            name="investigate", title="Investigate a run",
            description="How to find out what happened in the simulation, step by step",
            arguments=[types.PromptArgument(
                name="symptom", description="what to look into, e.g. 'latency grows'",
                required=False)])])

    async def get_prompt(ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        if params.name != "investigate":
            raise ValueError(f"unknown prompt {params.name!r}; valid: investigate")
        symptom = (params.arguments or {}).get("symptom")
        focus = f"Focus: {symptom}." if symptom else "Find what limits the system."
        return types.GetPromptResult(
            description="Investigate a run", messages=[types.PromptMessage(
                role="user",
                content=types.TextContent(type="text", text=PROMPT.format(focus=focus)))])

    return Server(name, version=PROTOCOL_VERSION, instructions=INSTRUCTIONS,
                  on_list_tools=list_tools, on_call_tool=call_tool,
                  on_list_resources=list_resources, on_list_resource_templates=list_templates,
                  on_read_resource=read_resource, on_list_prompts=list_prompts,
                  on_get_prompt=get_prompt)


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
        try:
            kind, items = session.resource(path.split("/", 1)[1])
        except ProtocolError as exc:
            raise ValueError(f"{exc.message}; live handles: {', '.join(exc.valid or [])}") \
                from None
        if kind == "text":
            return items, "text/csv"
        answer = {"kind": kind, "items": items}
    else:
        raise ValueError(f"unknown resource {uri!r}; valid: {prefix}catalog, {prefix}state, "
                         f"{prefix}summary, {prefix}schema, {prefix}answers/{{handle}}")
    return _text(answer), "application/json"


async def serve_stdio(server: Server) -> None:
    """Serve over this process's stdin/stdout until the client closes them."""
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def serve_http(server: Server, host: str = "127.0.0.1", port: int = 8765,
               path: str = "/mcp") -> None:
    """Serve over streamable HTTP at ``http://host:port/mcp`` (blocks)."""
    import uvicorn

    app = server.streamable_http_app(streamable_http_path=path, host=host)
    uvicorn.run(app, host=host, port=port, log_level="warning")


_ = m  # the message types are the tools' schemas (via protocol.schema)
