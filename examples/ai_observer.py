"""An observer that works only through JSON, the way an AI model would.

A scripted policy stands in for the model (no network): it reads the catalog, arms a
breakpoint, runs, and then decides what to ask next from the answers it gets: is the
queue growing? is it the arrival rate or the service time? which request was slowest,
and where did it spend its time? Every request and response is a JSON text.

    python examples/ai_observer.py [--seed 3] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import sys

from happysimulator import ExponentialLatency, LatencyTracker, Profile, Server, Simulation, Source
from happysimulator.observability import JsonSession, ObservabilityConfig


def build(seed: int) -> Simulation:
    server = Server("Server", concurrency=2, service_time=ExponentialLatency(0.2))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    # 6/s for a minute, then a ramp to 11/s: the two servers manage 10/s
    load = Profile([(0.0, 6.0), (60.0, 6.0), (120.0, 11.0)], interpolation="linear")
    source = Source.with_profile(load, target=server, stop_after=180.0)
    return Simulation(sources=[source], entities=[server, sink], seed=seed,
                      observability=ObservabilityConfig.full())


class ScriptedModel:
    """Stands in for an LLM: JSON in, JSON out, decisions from the answers only."""

    def __init__(self, session: JsonSession, verbose: bool) -> None:
        self.session = session
        self.verbose = verbose
        self.bytes_exchanged = 0

    def ask(self, request: dict) -> dict:
        text = json.dumps(request)
        answer_text = self.session.handle_json(text)
        self.bytes_exchanged += len(text) + len(answer_text)
        answer = json.loads(answer_text)
        shown = answer_text if self.verbose else answer_text[:160] + (
            "..." if len(answer_text) > 160 else "")
        print(f"  > {text}\n  < {shown}")
        return answer

    def scalar(self, query: dict) -> float | None:
        rows = self.ask({"op": "query", "query": query})["result"]["rows"]
        agg = query["aggregates"][0]
        return rows[0][agg] if rows else None

    def investigate(self) -> list[str]:
        findings = []
        catalog = self.ask({"op": "catalog"})["catalog"]
        names = {m["name"] for m in catalog["metrics"]}
        assert {"queue_depth", "latency", "arrivals"} <= names, names
        self.ask({"op": "add_breakpoint", "metric": ["Server", "queue_depth", "gt", 10],
                  "for": 3.0})
        state = self.ask({"op": "run"})["state"]
        if not state["is_paused"]:
            return ["the queue never stayed above 10: nothing to investigate"]
        now = state["current_time"]
        findings.append(f"paused at t={now:.1f}s: {state['paused_by']}")

        def rate(lo: float, hi: float) -> float:
            return self.scalar({"kind": "metrics", "name": "arrivals", "entity": "Server",
                                "start": lo, "end": hi, "aggregates": ["rate"]}) or 0.0

        def mean_service(lo: float, hi: float) -> float:
            return self.scalar({"kind": "metrics", "name": "service_time", "start": lo,
                                "end": hi, "aggregates": ["mean"]}) or 0.0

        early, recent = rate(0.0, 30.0), rate(now - 20.0, now)
        svc_early, svc_recent = mean_service(0.0, 30.0), mean_service(now - 20.0, now)
        if recent > 1.3 * early:
            findings.append(f"cause: arrivals rose from {early:.1f}/s to {recent:.1f}/s while "
                            f"service time stayed {svc_early:.3f}s -> {svc_recent:.3f}s")
        elif svc_recent > 1.3 * svc_early:
            findings.append(f"cause: service time rose from {svc_early:.3f}s to {svc_recent:.3f}s")
        else:
            findings.append("cause unclear: neither arrivals nor service time moved by 30%")

        p99 = self.scalar({"kind": "metrics", "name": "latency", "start": now - 10.0,
                           "end": now, "aggregates": ["p99"]})
        findings.append(f"p99 latency over the last 10 s: {p99:.2f}s")

        spans = self.ask({"op": "query", "query": {
            "kind": "spans", "entity": "Server", "start": now - 10.0, "end": now}})
        rows = spans["result"]["rows"]
        if rows:
            slowest = max(rows, key=lambda s: s["duration"])
            trace = self.ask({"op": "trace", "trace_id": slowest["trace_id"]})
            path = " -> ".join(trace["critical_path"])
            findings.append(f"slowest recent request {slowest['trace_id']}: "
                            f"{slowest['duration']:.2f}s at the server; path {path}")

        stepped = self.ask({"op": "step", "n": 5})
        findings.append(f"next 5 events: {[e['event_type'] for e in stepped['events']]}")
        bp_id = self.ask({"op": "breakpoints"})["breakpoints"][0]["id"]
        self.ask({"op": "remove_breakpoint", "id": bp_id})
        bad = self.ask({"op": "query", "query": {"kind": "metrics", "name": "queue_dept",
                                                 "aggregates": ["mean"]}})
        findings.append(f"a misspelt series is refused: {bad['error']['message'][:90]}")
        final = self.ask({"op": "run"})["state"]
        findings.append(f"run finished: complete={final['is_complete']} at "
                        f"t={final['current_time']:.1f}s")
        summary = self.ask({"op": "summary", "budget_bytes": 4000})["summary"]
        findings.append(f"summary: {summary['size_bytes']} bytes, "
                        f"{len(summary['series'])} series, truncated={summary['truncated']}")
        return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A JSON-only observer")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--verbose", action="store_true", help="print whole responses")
    args = parser.parse_args(argv)
    sim = build(args.seed)
    model = ScriptedModel(JsonSession(sim), args.verbose)
    print("Conversation (JSON only):")
    findings = model.investigate()
    print("\nWhat the observer concluded:")
    for f in findings:
        print(f"  - {f}")
    print(f"\n{model.bytes_exchanged:,} bytes of JSON exchanged.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
