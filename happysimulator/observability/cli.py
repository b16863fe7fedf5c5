"""``happysim-rx``: run a model, serve it to an AI assistant over MCP, or debug it in a
browser.

    happysim-rx run examples/m_m_1_queue.py:build --param customers=50000
    happysim-rx run examples/metastable_failure.py:build --seed 3 --summary-out run.json
    happysim-rx mcp examples/metastable_failure.py:build           # stdio MCP server
    happysim-rx mcp examples/metastable_failure.py:build --http    # streamable HTTP
    happysim-rx serve examples/metastable_failure.py:build         # browser debugger

``MODEL`` is ``path/to/file.py:factory`` or ``package.module:factory``: a function that
takes keyword parameters (``--param name=value``) and returns a `Simulation`, so one
model file serves scripts, this command, the MCP server and sweeps.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from happysimulator.observability.protocol import (
    ModelSpecError,
    SessionProtocol,
    load_factory,
    parse_param,
)

_MODEL_HELP = ("the model: path/to/file.py:factory or package.module:factory (a function "
               "taking keyword parameters and returning a Simulation)")
_EPILOG = """examples:
  happysim-rx run examples/m_m_1_queue.py:build --param customers=50000
  happysim-rx run examples/metastable_failure.py:build --seed 3 \\
      --query '{"kind": "metrics", "name": "queue_depth", "window": 10, "aggregates": ["mean", "max"]}' \\
      --format csv --out-dir out/
  happysim-rx mcp examples/metastable_failure.py:build
  happysim-rx serve examples/metastable_failure.py:build --port 8765
"""


def _parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="happysim-rx", description=__doc__.split("\n\n")[0],
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action="version", version=_version())
    sub = top.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def model_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("model", metavar="MODEL", help=_MODEL_HELP)
        p.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE",
                       help="a factory parameter; VALUE is a Python literal (9.5, 'x', True, "
                            "[1, 2]) or else a string; repeat for several")
        p.add_argument("--seed", type=int, default=None,
                       help="passed to the factory as seed=SEED")

    run = sub.add_parser(
        "run", help="run a model to the end, print its summary, write exports",
        description="Run MODEL to the end (or --until), showing progress on a terminal "
                    "(simulated time, events/s, ETA when the end is known), then print the "
                    "summary and write the requested exports. Ctrl-C pauses the run and "
                    "prints what was recorded so far.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_EPILOG)
    model_args(run)
    run.add_argument("--until", type=float, default=None, metavar="SECONDS",
                     help="stop at this simulated time instead of the end")
    bar = run.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="show the progress bar even when stderr is not a terminal")
    bar.add_argument("--no-progress", dest="progress", action="store_false",
                     help="never show the progress bar")
    run.add_argument("--json", action="store_true",
                     help="print the summary as JSON (happysim-rx.summary/1) instead of text")
    run.add_argument("--summary-budget", type=int, default=16_000, metavar="BYTES",
                     help="byte budget of the summary (default 16000)")
    run.add_argument("--summary-out", type=Path, default=None, metavar="PATH",
                     help="write the summary JSON here")
    run.add_argument("--query", action="append", default=[], metavar="JSON",
                     help="a query spec to export (see docs/protocol.md), e.g. "
                          "'{\"kind\": \"metrics\", \"name\": \"latency\", \"window\": 10, "
                          "\"aggregates\": [\"p99\"]}'; repeat for several")
    run.add_argument("--format", choices=("csv", "json"), default="csv",
                     help="format of the --query exports (default csv)")
    run.add_argument("--out-dir", type=Path, default=Path("."), metavar="DIR",
                     help="where --query exports go, as query-1.csv, query-2.csv, ... "
                          "(default: the current directory)")

    mcp = sub.add_parser(
        "mcp", help="serve a model to an MCP client (an AI assistant): stdio or HTTP",
        description="Serve MODEL as a live session over the Model Context Protocol: every "
                    "session operation (run, pause, step, query, add_breakpoint, ...) is a "
                    "tool; the catalog, state, summary and cut answers are resources. "
                    "stdio by default (what assistants launch); --http for streamable HTTP.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="register with an assistant (its MCP config):\n"
               '  {"mcpServers": {"happysim": {"command": "happysim-rx", "args": '
               '["mcp", "examples/metastable_failure.py:build"]}}}')
    model_args(mcp)
    mcp.add_argument("--http", action="store_true",
                     help="serve streamable HTTP at http://HOST:PORT/mcp instead of stdio")
    mcp.add_argument("--host", default="127.0.0.1", help="HTTP host (default 127.0.0.1)")
    mcp.add_argument("--port", type=int, default=8765, help="HTTP port (default 8765)")
    mcp.add_argument("--wait-s", type=float, default=5.0, metavar="SECONDS",
                     help="how long run/resume wait for a stop by default (default 5)")
    mcp.add_argument("--allow-load", action="store_true",
                     help="let the client load other MODEL specs (runs their code)")
    mcp.add_argument("--session", choices=("shared", "per-client"), default="shared",
                     help="over HTTP: one session all clients share (default), or one "
                          "session per client connection (stdio has one client)")
    mcp.add_argument("--text", choices=("brief", "json"), default="brief",
                     help="a tool result's text beside its structured content: a line "
                          "(default) or the whole answer again (for clients that read "
                          "only text)")

    web = sub.add_parser(
        "serve", help="debug a model in the browser: a local web page (127.0.0.1)",
        description="Open MODEL in the browser debugger: a web server on 127.0.0.1 whose "
                    "page runs, pauses, steps and resets the model (speed: max or "
                    "simulated seconds per second), shows live charts of windowed "
                    "aggregates, breakpoints, the next events, request traces, a query "
                    "console and exports. Prints the URL to open (it carries an access "
                    "token); Ctrl-C stops the server. Needs the 'web' extra.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_EPILOG)
    model_args(web)
    web.add_argument("--port", type=int, default=8765,
                     help="port on 127.0.0.1 (default 8765; 0: any free port)")
    web.add_argument("--open", action="store_true",
                     help="also open the page in the default web browser")
    return top


def _version() -> str:
    try:
        from importlib.metadata import version

        return f"happysim-rx {version('happysim-rx')}"
    except Exception:  # not installed (run from a checkout)
        return "happysim-rx (not installed)"


def _params(args: argparse.Namespace) -> dict[str, Any]:
    params = dict(parse_param(p) for p in args.param)
    if args.seed is not None:
        if "seed" in params:
            raise ModelSpecError("give the seed once: --seed or --param seed=...")
        params["seed"] = args.seed
    return params


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    streams = None
    if args.command == "mcp" and not args.http:
        # stdout is the JSON-RPC channel: take it before any model code runs (importing
        # the model file, its factory), so their print() goes to stderr
        try:
            from happysimulator.observability.mcp_server import claim_stdio
        except ImportError as exc:
            print(f"happysim-rx mcp needs the MCP SDK: pip install 'happysim-rx[mcp]' "
                  f"({exc})", file=sys.stderr)
            return 2
        streams = claim_stdio()
    try:
        params = _params(args)
        factory = load_factory(args.model)
        if args.command == "run":
            return _run(args, factory, params)
        if args.command == "serve":
            return _serve(args, factory, params)
        return _mcp(args, factory, params, streams)
    except ModelSpecError as exc:
        print(f"happysim-rx: {exc}", file=sys.stderr)
        return 2


# ---- run -------------------------------------------------------------------------------------
def _run(args: argparse.Namespace, factory: Any, params: dict[str, Any]) -> int:
    session = SessionProtocol(factory, params=params, default_wait_s=0.0)
    session._spec = args.model  # shown in the summary's model info
    show = sys.stderr.isatty() if args.progress is None else args.progress
    request: dict[str, Any] = {"op": "run", "wait_s": 0.0}
    if args.until is not None:
        request = {"op": "run_until", "time": args.until, "wait_s": 0.0}
    answer = session.handle(request)
    bar = _Progress(session, enabled=show)
    interrupted = False
    try:
        while answer.get("ok") and answer["state"]["status"] == "running":
            answer = session.handle({"op": "state", "wait_s": bar.interval})
            bar.update(answer.get("state"))
    except KeyboardInterrupt:
        interrupted = True
        answer = session.handle({"op": "pause", "wait_s": 30.0})
    bar.close()
    if not answer.get("ok"):
        err = answer["error"]
        print(f"happysim-rx: {err['kind']}: {err['message']}", file=sys.stderr)
        if err["kind"] != "model_fault":
            return 1
    summary = session.handle({"op": "export", "what": "summary",
                              "budget_bytes": max(1024, args.summary_budget + 200)})
    doc = summary["content"] if summary.get("ok") else {}
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        print(_summary_text(session, doc, interrupted))
    if args.summary_out is not None:
        args.summary_out.parent.mkdir(parents=True, exist_ok=True)
        args.summary_out.write_text(json.dumps(doc))
        print(f"summary written to {args.summary_out}", file=sys.stderr)
    code = 0 if answer.get("ok") else 1
    for i, text in enumerate(args.query, 1):
        code = max(code, _export_query(session, text, i, args))
    return code


def _export_query(session: SessionProtocol, text: str, i: int, args: argparse.Namespace) -> int:
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        print(f"happysim-rx: --query {i} is not JSON: {exc}", file=sys.stderr)
        return 2
    answer = session.handle({"op": "export", "query": spec, "format": args.format,
                             "budget_bytes": 4_000_000})
    if not answer.get("ok"):
        err = answer["error"]
        valid = f" (valid: {', '.join(err['valid'][:20])})" if err.get("valid") else ""
        print(f"happysim-rx: --query {i}: {err['kind']}: {err['message']}{valid}",
              file=sys.stderr)
        return 2
    content = answer["content"]
    parts = [content]
    cut = answer.get("truncated")
    while cut is not None:  # bigger than one answer: fetch the rest
        more = session.handle({"op": "fetch", "handle": cut["handle"],
                               "offset": cut["next_offset"], "budget_bytes": 4_000_000})
        parts.append(more["items"])
        cut = more.get("truncated")
    if args.format == "csv":
        body = "".join(parts)
    else:
        doc = parts[0]
        for extra in parts[1:]:
            doc["rows"].extend(extra)
        body = json.dumps(doc)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    path = args.out_dir / f"query-{i}.{args.format}"
    path.write_text(body)
    print(f"query {i} written to {path}", file=sys.stderr)
    return 0


def _summary_text(session: SessionProtocol, doc: dict[str, Any], interrupted: bool) -> str:
    run = doc.get("run", {})
    state = session.handle({"op": "state"}).get("state", {})
    wall = state.get("wall_clock_elapsed_s") or 0.0
    events = state.get("events_processed", 0)
    lines = []
    how = "paused by Ctrl-C" if interrupted else (
        state.get("stop_reason") or state.get("status"))
    lines.append(f"{session._spec}: {how} at t={state.get('current_time', 0.0):g}s, "
                 f"{events:,} events in {wall:.2f}s wall "
                 f"({events / wall if wall > 0 else 0:,.0f} events/s), seed {run.get('seed')}")
    if state.get("paused_by"):
        lines.append(f"paused by: {state['paused_by']}")
    if state.get("fault"):
        f = state["fault"]
        lines.append(f"model fault: {f['message']} at t={f.get('time')}")
    rows = []
    for s in doc.get("series", []):
        stats = ", ".join(f"{k}={_fmt(v)}" for k, v in s.get("stats", {}).items())
        rows.append(f"  {s['source']}.{s['name']} ({s['kind']}): {stats}")
    if rows:
        lines.append("series:")
        lines += rows
    for a in doc.get("anomalies", []):
        lines.append(f"anomaly: {a.get('source')}.{a.get('metric')} at t={a.get('time')} "
                     f"(onset {a.get('onset')})")
    if doc.get("truncated"):
        lines.append(f"(summary cut to its budget: {', '.join(doc['truncated'])})")
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


class _Progress:
    """Simulated time, events/s and ETA on stderr (tqdm if installed, else one line)."""

    interval = 0.25

    def __init__(self, session: SessionProtocol, enabled: bool) -> None:
        self.session = session
        self.enabled = enabled
        self.t0 = time.perf_counter()
        self.last = (self.t0, 0)
        self.rate = 0.0
        self.bar: Any = None
        sim = session.sim
        self.sources = list(getattr(sim, "sources", []))
        self.limit = (sum(s.limit for s in self.sources)
                      if self.sources and all(getattr(s, "limit", None) for s in self.sources)
                      else None)
        stops = [getattr(s, "stop_after", None) for s in self.sources]
        self.stop_after = (max(_seconds(x) for x in stops)
                           if stops and all(x is not None for x in stops) else None)
        if enabled:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=1000, file=sys.stderr, unit="‰", leave=False,
                                bar_format="{l_bar}{bar}| {postfix}")
            except ImportError:
                self.bar = None

    def fraction(self, state: dict[str, Any]) -> float | None:
        now = state["current_time"]
        if state.get("end_time"):
            return min(1.0, now / state["end_time"]) if state["end_time"] > 0 else None
        if self.stop_after:
            return min(1.0, now / self.stop_after)
        if self.limit:
            return min(1.0, sum(getattr(s, "generated", 0) for s in self.sources) / self.limit)
        return None

    def update(self, state: dict[str, Any] | None) -> None:
        if not self.enabled or not state:
            return
        wall = time.perf_counter()
        t_prev, n_prev = self.last
        if wall > t_prev:
            self.rate = (state["events_processed"] - n_prev) / (wall - t_prev)
        self.last = (wall, state["events_processed"])
        frac = self.fraction(state)
        elapsed = wall - self.t0
        eta = (elapsed * (1 - frac) / frac) if frac and frac > 0 else None
        text = (f"t={state['current_time']:.6g}s  {state['events_processed']:,} events  "
                f"{self.rate:,.0f} ev/s" + (f"  ETA {eta:.0f}s" if eta is not None else ""))
        if self.bar is not None:
            self.bar.n = int((frac or 0) * 1000)
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.refresh()
        else:
            pct = f"{frac:6.1%} " if frac is not None else ""
            sys.stderr.write(f"\r{pct}{text}\x1b[K")
            sys.stderr.flush()

    def close(self) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.close()
        else:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _seconds(x: Any) -> float:
    return float(x.to_seconds()) if hasattr(x, "to_seconds") else float(x)


# ---- mcp -------------------------------------------------------------------------------------
def _mcp(args: argparse.Namespace, factory: Any, params: dict[str, Any],
         streams: Any = None) -> int:
    try:
        from happysimulator.observability.mcp_server import (
            build_server,
            serve_http,
            serve_stdio,
        )
    except ImportError as exc:
        print(f"happysim-rx mcp needs the MCP SDK: pip install 'happysim-rx[mcp]' ({exc})",
              file=sys.stderr)
        return 2
    if not (args.wait_s >= 0 and math.isfinite(args.wait_s)):
        print("happysim-rx: --wait-s must be >= 0 seconds", file=sys.stderr)
        return 2
    def new_session() -> SessionProtocol:
        session = SessionProtocol(factory, params=params, default_wait_s=args.wait_s,
                                  allow_load=args.allow_load)
        session._spec = args.model
        return session

    per_client = bool(args.http) and args.session == "per-client"
    server = build_server(new_session if per_client else new_session(),
                          per_client=per_client, text=args.text)
    if args.http:
        sharing = "one session per client" if per_client else "one session, shared"
        print(f"happysim-rx: MCP over streamable HTTP at http://{args.host}:{args.port}/mcp "
              f"({sharing})", file=sys.stderr)
        serve_http(server, args.host, args.port)
    else:
        import anyio

        anyio.run(serve_stdio, server, streams)
    server.happysim_sessions.close()
    return 0


# ---- serve -----------------------------------------------------------------------------------
def _serve(args: argparse.Namespace, factory: Any, params: dict[str, Any]) -> int:
    try:
        from happysimulator.observability.web import serve
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        print(f"happysim-rx serve needs the web extra: pip install 'happysim-rx[web]' ({exc})",
              file=sys.stderr)
        return 2
    session = SessionProtocol(factory, params=params, default_wait_s=600.0)
    session._spec = args.model
    try:
        server = serve(session, port=args.port)
    except (OSError, ValueError, ImportError) as exc:
        print(f"happysim-rx: {exc}", file=sys.stderr)
        session.close()
        return 2
    if args.open:
        import webbrowser

        webbrowser.open(server.url)
    print("Ctrl-C stops the server.", file=sys.stderr)
    server.wait()
    session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
