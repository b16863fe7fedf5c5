"""An AI observer on the Model Context Protocol: find a metastable failure and test a
fix with a what-if branch, in five tool calls.

The metastable-failure model (``examples/metastable_failure.py:build``) is served by the
happysim-rx MCP server, and an MCP client session drives it the way an assistant would:
tools in, JSON out, nothing else. A scripted policy stands in for the model (no network,
no LLM) and decides only from the answers:

1. ``run`` the model to its end;
2. ``changes``: which series changed most between the first third of the run and the
   last, and when did the change begin? (a station's queue, and the client's retries,
   from the same onset);
3. hypothesis: "the retries keep the station overloaded after the burst": ``fork`` a
   branch at the onset with retries off (one attempt per call);
4. ``resume`` the branch to the end;
5. ``compare`` the station's queue in the last third on both branches, in one answer.

Every call is printed with the bytes it took. The same server runs out of process with
``happysim-rx mcp examples/metastable_failure.py:build``.

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
# the series that say a station is congested (the queueing view of a change)
CONGESTION = ("queue_depth", "wait_time", "utilization")


class ScriptedModel:
    """Stands in for an LLM: calls tools, reads JSON, decides from the answers only."""

    def __init__(self, client: Client, verbose: bool) -> None:
        self.client = client
        self.verbose = verbose
        self.calls: list[tuple[str, int]] = []

    async def tool(self, op: str, **args: Any) -> dict[str, Any]:
        result = await self.client.call_tool(op, args)
        answer = result.structured_content or {}
        size = len(json.dumps(args)) + len(json.dumps(answer, separators=(",", ":")))
        self.calls.append((op, size))
        shown = json.dumps(answer) if self.verbose else result.content[0].text
        print(f"  {len(self.calls)}. {op} {json.dumps(args)}  [{size:,} bytes]\n"
              f"     < {shown[:300]}")
        if not answer.get("ok"):
            raise RuntimeError(f"{op} failed: {answer.get('error')}")
        return answer

    async def investigate(self) -> list[str]:
        findings: list[str] = []
        end = (await self.tool("run", wait_s=60))["state"]["current_time"]
        third = end / 3

        ranked = (await self.tool("changes", before=[0, third], after=[2 * third, end],
                                  limit=8))["series"]
        top = ranked[0]
        findings.append(f"most changed: {top['entity']}.{top['name']} "
                        f"{top['before']:.3g} -> {top['after']:.3g} {top['unit']} "
                        f"(score {top['score']:.2f}, onset t={top.get('onset', 0):.0f}s)")
        station = next((r for r in ranked if r["name"] in CONGESTION and "onset" in r), top)
        onset = station.get("onset", third)
        others = [f"{r['entity']}.{r['name']}" for r in ranked[1:5]]
        findings.append(f"congested station: {station['entity']} from t={onset:.0f}s; "
                        f"also changed: {', '.join(others)}")

        retrying = next((r for r in ranked if r["name"] == "retries"), None)
        if retrying is None:
            return findings + ["conclusion: no retries changed; not a retry storm"]
        client = retrying["entity"]
        findings.append(f"{client} retries went {retrying['before']:.3g} -> "
                        f"{retrying['after']:.3g}/s from t={retrying.get('onset', onset):.0f}s")

        fork = await self.tool("fork", at=onset, name="no-retries",
                               set={f"{client}.retry_policy.max_attempts": 1})
        findings.append(f"hypothesis under test: {fork['applied'][0]} at "
                        f"t={fork['branch']['forked_at']:.1f}s (replayed "
                        f"{fork['replayed']['events']:,} events in "
                        f"{fork['replayed']['wall_s']:.2f}s)")
        await self.tool("resume", branch="no-retries", wait_s=60, ignore_breakpoints=True)

        cmp = await self.tool("compare", query={
            "kind": "metrics", "name": "queue_depth", "entity": station["entity"],
            "start": 2 * third, "end": end, "aggregates": ["mean", "max"]})
        diff = {d["aggregate"]: d for d in cmp["differences"]}
        main, fixed = diff["mean"]["values"]["main"], diff["mean"]["values"]["no-retries"]
        findings.append(f"{station['entity']} queue in the last third (time-weighted mean, "
                        f"exact={cmp['ranges']['main']['exact']}): {main:.1f} as run, "
                        f"{fixed:.1f} with retries off from the onset")
        if fixed < main / 10:
            findings.append("conclusion: a metastable failure. The burst only triggered it; "
                            "the retries kept the server overloaded long after the load "
                            "returned to normal. Without them it recovers: the hypothesis "
                            "holds (fix: retry budgets or backoff, not capacity for the "
                            "burst)")
        else:
            findings.append("conclusion: retries do not explain it; look at the other "
                            "changed series")
        return findings


async def _main(seed: int, verbose: bool) -> tuple[list[str], ScriptedModel]:
    session = SessionProtocol(MODEL, params={"seed": seed}, default_wait_s=60.0)
    async with Client(build_server(session)) as client:
        model = ScriptedModel(client, verbose)
        findings = await model.investigate()
    session.close()
    return findings, model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="An AI observer over MCP (scripted)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--verbose", action="store_true", help="print whole answers")
    args = parser.parse_args(argv)
    print("Conversation (MCP tool calls):")
    findings, model = anyio.run(_main, args.seed, args.verbose)
    print("\nWhat the observer concluded, and why:")
    for f in findings:
        print(f"  - {f}")
    total = sum(size for _, size in model.calls)
    print(f"\n{len(model.calls)} tool calls, {total:,} bytes of JSON exchanged "
          f"({', '.join(f'{n} {s:,}' for n, s in model.calls)}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
