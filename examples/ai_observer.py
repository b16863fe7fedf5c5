"""An AI observer on the Model Context Protocol: investigating a metastable failure.

The metastable-failure model (``examples/metastable_failure.py:build``) is served by the
happysim-rx MCP server, and an MCP client session drives it the way an assistant would:
tools in, JSON out, nothing else. A scripted policy stands in for the model (no network,
no LLM): it reads the catalog, arms a breakpoint on queue growth, runs, and decides what
to ask next from the answers: did the offered load rise, or is the server slower? does
the overload outlive the burst? who is sending the extra work? It ends with what it
concluded and why.

The same server runs out of process with ``happysim-rx mcp examples/metastable_failure.py:build``.

    python examples/ai_observer.py [--seed 7] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from happysimulator.observability.mcp_server import build_server
from happysimulator.observability.protocol import SessionProtocol

MODEL = f"{Path(__file__).resolve().parent / 'metastable_failure.py'}:build"


class ScriptedModel:
    """Stands in for an LLM: calls tools, reads JSON, decides from the answers only."""

    def __init__(self, client: Client, verbose: bool) -> None:
        self.client = client
        self.verbose = verbose
        self.bytes_exchanged = 0
        self.calls = 0

    async def tool(self, name: str, **args: Any) -> dict[str, Any]:
        result = await self.client.call_tool(name, args)
        text = result.content[0].text
        self.calls += 1
        self.bytes_exchanged += len(json.dumps(args)) + len(text)
        shown = text if self.verbose else text[:150] + ("..." if len(text) > 150 else "")
        print(f"  > {name} {json.dumps(args)}\n  < {shown}")
        return result.structured_content

    async def scalar(self, name: str, entity: str, agg: str, start: float, end: float) -> float:
        answer = await self.tool("query", query={"kind": "metrics", "name": name,
                                                 "entity": entity, "start": start, "end": end,
                                                 "aggregates": [agg]})
        rows = answer["result"]["rows"]
        return (rows[0][agg] if rows else None) or 0.0

    async def investigate(self) -> list[str]:
        findings: list[str] = []
        catalog = (await self.tool("catalog"))["catalog"]
        series = {(s["source"], s["name"]): s for s in catalog["metrics"]}
        depth = series[("Server", "queue_depth")]
        findings.append(f"the server's queue_depth is a {depth['kind']} in {depth['unit']}: "
                        "its means are time-weighted")

        await self.tool("add_breakpoint", metric={"source": "Server", "name": "queue_depth",
                                                  "operator": "gt", "threshold": 20,
                                                  "for_s": 3.0})
        state = (await self.tool("run", wait_s=60))["state"]
        if state["status"] != "paused":
            return findings + ["the queue never stayed above 20: nothing to investigate"]
        now = state["current_time"]
        findings.append(f"paused at t={now:.1f}s by {state['paused_by']}")

        # 1. is it the offered load or the server?
        offered_before = await self.scalar("generated", "Users", "rate", 0.0, 60.0)
        offered_now = await self.scalar("generated", "Users", "rate", now - 5.0, now)
        svc_before = await self.scalar("service_time", "Server", "mean", 0.0, 60.0)
        svc_now = await self.scalar("service_time", "Server", "mean", now - 5.0, now)
        if offered_now > 1.3 * offered_before:
            findings.append(f"trigger: offered load rose from {offered_before:.1f}/s to "
                            f"{offered_now:.1f}/s while the mean service time stayed "
                            f"{svc_before:.3f}s -> {svc_now:.3f}s")
        elif svc_now > 1.3 * svc_before:
            findings.append(f"trigger: the server slowed ({svc_before:.3f}s -> {svc_now:.3f}s)")
        else:
            findings.append("trigger unclear: neither offered load nor service time moved")

        # 2. does the overload outlive the trigger? watch after the load is back to normal
        resumed_at = now
        await self.tool("clear_breakpoints")
        later = (await self.tool("run_until", time=now + 30.0, wait_s=60))["state"]["current_time"]
        offered_late = await self.scalar("generated", "Users", "rate", later - 10.0, later)
        arrivals_late = await self.scalar("arrivals", "Server", "rate", later - 10.0, later)
        depth_late = await self.scalar("queue_depth", "Server", "mean", later - 10.0, later)
        retries_late = await self.scalar("retries", "Client", "rate", later - 10.0, later)
        findings.append(f"at t={later:.0f}s the users offer {offered_late:.1f}/s again, yet the "
                        f"server receives {arrivals_late:.1f}/s and its queue holds "
                        f"{depth_late:.0f} on average")
        if arrivals_late > 1.3 * offered_late and retries_late > 0:
            findings.append(f"who sends the extra work: retries, {retries_late:.1f}/s "
                            f"({retries_late / arrivals_late:.0%} of the server's arrivals)")

        # 3. one slow request, hop by hop: those that arrived around the pause are done now
        spans = await self.tool("query", query={"kind": "spans", "entity": "Server",
                                                "start": now - 2.0, "end": now + 2.0,
                                                "limit": 40}, budget_bytes=8000)
        rows = spans["result"]["rows"] if spans["ok"] else []
        if rows:
            slowest = max(rows, key=lambda s: s["duration"])
            trace = await self.tool("trace", trace_id=slowest["trace_id"])
            verdict = ("longer than the client's 2 s timeout: its caller had retried meanwhile"
                       if slowest["duration"] > 2.0 else "within the client's 2 s timeout")
            findings.append(f"a request that arrived around the pause spent "
                            f"{slowest['duration']:.2f}s at the server (path "
                            f"{' -> '.join(trace['critical_path'])}): {verdict}")

        bad = await self.tool("query", query={"kind": "metrics", "name": "queue_dept"})
        findings.append(f"a misspelt series is refused: {bad['error']['message'][:60]} "
                        f"(valid names listed: {len(bad['error']['valid'])})")
        stepped = await self.tool("step", n=5)
        findings.append(f"next 5 events: {[e['event_type'] for e in stepped['events']]}")

        final = (await self.tool("resume", wait_s=60))["state"]
        end = final["current_time"]
        tail_depth = await self.scalar("queue_depth", "Server", "mean", end - 20.0, end)
        goodput = await self.scalar("successes", "Client", "rate", end - 20.0, end)
        wasted = await self.scalar("wasted", "Client", "rate", end - 20.0, end)
        findings.append(f"run finished: complete={final['status'] == 'complete'} at "
                        f"t={end:.0f}s; last 20 s: queue {tail_depth:.0f}, goodput "
                        f"{goodput:.1f}/s, wasted responses {wasted:.1f}/s")
        if tail_depth > 20 and resumed_at < end - 40:
            findings.append("conclusion: a metastable failure. The blow-up only triggered it; "
                            "timeouts turned into retries that keep the server overloaded "
                            "long after the load returned to normal (fix: retry budgets or "
                            "backoff, not capacity for the burst)")
        else:
            findings.append("conclusion: the overload drained once the load returned to normal")

        text = (await self.client.read_resource("happysim://summary")).contents[0].text
        summary = json.loads(text)
        self.bytes_exchanged += len(text)
        findings.append(f"summary resource: {len(text)} bytes, {len(summary['series'])} series, "
                        f"truncated={summary['truncated']}")
        return findings


async def _main(seed: int, verbose: bool) -> tuple[list[str], ScriptedModel]:
    session = SessionProtocol(MODEL, params={"seed": seed}, default_wait_s=30.0)
    async with Client(build_server(session)) as client:
        model = ScriptedModel(client, verbose)
        findings = await model.investigate()
    session.close()
    return findings, model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="An AI observer over MCP (scripted)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--verbose", action="store_true", help="print whole responses")
    args = parser.parse_args(argv)
    print("Conversation (MCP tool calls):")
    findings, model = anyio.run(_main, args.seed, args.verbose)
    print("\nWhat the observer concluded, and why:")
    for f in findings:
        print(f"  - {f}")
    print(f"\n{model.calls} tool calls, {model.bytes_exchanged:,} bytes of JSON exchanged.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
