"""Round-trip latency of a small query: in-process vs the session protocol vs MCP.

The same question ("mean and max of the server's queue depth over the last 10 s") is
asked of a paused M/M/1 simulation four ways, interleaved call by call (A B C D A B C D
...) so the shared machine's noise hits all alike:

* ``in-process``: ``sim.query....execute()`` (a Python Query, a QueryResult);
* ``protocol``: ``SessionProtocol.handle(dict)`` (decoding, validation, JSON-ready answer);
* ``mcp-direct``: ``mcp.Client(server)`` with the SDK's default in-process connection;
* ``mcp-memory``: ``mcp.Client(server, mode="legacy")``: JSON-RPC over the SDK's
  in-memory transport (the stdio/HTTP message path without the pipe).

    python benchmarks/bench_mcp_latency.py [--calls 2000] [--customers 20000] [--json]
    python benchmarks/bench_mcp_latency.py --concurrent 40 [--waves 5]   # readers while it runs

``--concurrent N``: the model runs in the background (a ``run`` with ``wait_s`` 0) while
N MCP clients (``mcp.Client(server)``, one each) ask the same kind of query at once,
``--waves`` times; the figure is the wall-clock latency of each call (median, p90, max),
and every answer must be ``ok``. `concurrent_queries` is what `bench_issue23.py` runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

if not os.environ.get("PYTHONPATH"):  # (else: the checkout PYTHONPATH names is measured)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source  # noqa: E402
from happysimulator.observability import Breakpoint, ObservabilityConfig  # noqa: E402
from happysimulator.observability.mcp_server import build_server  # noqa: E402
from happysimulator.observability.protocol import SessionProtocol  # noqa: E402


def build(customers: int = 20_000, seed: int = 42) -> Simulation:
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=8.0, target=server, limit=customers)
    return Simulation(sources=[source], entities=[server, sink], seed=seed,
                      observability=ObservabilityConfig.full())


def stats(samples: list[float]) -> dict[str, float]:
    xs = sorted(samples)
    return {"median_us": statistics.median(xs) * 1e6,
            "p99_us": xs[min(len(xs) - 1, int(0.99 * len(xs)))] * 1e6,
            "min_us": xs[0] * 1e6, "n": len(xs)}


async def measure(calls: int, customers: int) -> dict[str, dict[str, float]]:
    session = SessionProtocol(build, params={"customers": customers}, default_wait_s=None)
    sim = session.sim
    half = customers / 8.0 / 2  # pause half way through the arrivals
    sim.control.add_breakpoint(Breakpoint(time=half))
    answer = session.handle({"op": "run"})
    assert answer["state"]["status"] == "paused", answer
    now = answer["state"]["current_time"]
    spec = {"kind": "metrics", "name": "queue_depth", "entity": "Server",
            "start": now - 10.0, "end": now, "aggregates": ["mean", "max"]}
    request = {"op": "query", "query": spec}
    query = sim.query.metrics("queue_depth").from_entity("Server").between(now - 10.0, now) \
        .aggregate("mean", "max")
    expected = query.execute().rows[0]["mean"]
    server = build_server(session)
    times: dict[str, list[float]] = {k: [] for k in
                                     ("in-process", "protocol", "mcp-direct", "mcp-memory")}
    clock = time.perf_counter
    async with Client(server) as direct, Client(server, mode="legacy") as memory:
        for _ in range(20):  # warm-up: caches, first-call imports
            await direct.call_tool("query", {"query": spec})
            await memory.call_tool("query", {"query": spec})
        for _ in range(calls):
            t = clock()
            r = query.execute()
            times["in-process"].append(clock() - t)
            t = clock()
            a = session.handle(request)
            times["protocol"].append(clock() - t)
            t = clock()
            d = await direct.call_tool("query", {"query": spec})
            times["mcp-direct"].append(clock() - t)
            t = clock()
            m = await memory.call_tool("query", {"query": spec})
            times["mcp-memory"].append(clock() - t)
        for got in (r.rows[0]["mean"], a["result"]["rows"][0]["mean"],
                    d.structured_content["result"]["rows"][0]["mean"],
                    m.structured_content["result"]["rows"][0]["mean"]):
            assert got == expected, (got, expected)  # one answer, four paths
    session.close()
    return {k: stats(v) for k, v in times.items()}


async def _concurrent(readers: int, waves: int, customers: int) -> dict[str, float]:
    session = SessionProtocol(build, params={"customers": customers}, default_wait_s=None)
    server = build_server(session)
    spec = {"kind": "metrics", "name": "queue_depth", "entity": "Server", "last_s": 10.0,
            "aggregates": ["mean", "max", "p99"]}
    clock = time.perf_counter
    lat: list[float] = []
    clients = [Client(server) for _ in range(readers)]
    async with contextlib.AsyncExitStack() as stack:
        live = [await stack.enter_async_context(c) for c in clients]
        for c in live:  # warm-up while idle: first-call imports and caches
            await c.call_tool("query", {"query": spec})
        started = await live[0].call_tool("run", {"wait_s": 0})
        assert started.structured_content["state"]["status"] == "running", started
        await anyio.sleep(0.3)

        async def ask(c: Any) -> None:
            t = clock()
            r = await c.call_tool("query", {"query": spec})
            lat.append(clock() - t)
            assert r.structured_content["ok"], r.structured_content

        for _ in range(waves):
            st = await live[0].call_tool("state", {})
            assert st.structured_content["state"]["status"] == "running", \
                "the model finished before the readers: give it more --customers"
            async with anyio.create_task_group() as tg:
                for c in live:
                    tg.start_soon(ask, c)
            await anyio.sleep(0.05)
        await live[0].call_tool("pause", {})
    session.close()
    xs = sorted(lat)
    return {"median_ms": statistics.median(xs) * 1e3,
            "p90_ms": xs[int(0.9 * (len(xs) - 1))] * 1e3, "max_ms": xs[-1] * 1e3,
            "n": len(xs)}


def concurrent_queries(readers: int = 40, waves: int = 5,
                       customers: int = 2_000_000) -> dict[str, float]:
    """Wall-clock latency of `readers` MCP clients querying at once while the model runs
    (``waves`` rounds): median, p90 and max in ms."""
    return anyio.run(_concurrent, readers, waves, customers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--concurrent", type=int, default=0, metavar="N",
                        help="N MCP clients querying at once while the model runs")
    parser.add_argument("--waves", type=int, default=5)
    args = parser.parse_args(argv)
    if args.concurrent:
        out = concurrent_queries(args.concurrent, args.waves)
        print(json.dumps(out) if args.json else
              f"{args.concurrent} concurrent MCP queries while running, {out['n']} calls: "
              f"median {out['median_ms']:.1f} ms, p90 {out['p90_ms']:.1f} ms, "
              f"max {out['max_ms']:.1f} ms")
        return 0
    result = anyio.run(measure, args.calls, args.customers)
    if args.json:
        print(json.dumps(result))
        return 0
    base = result["in-process"]["median_us"]
    print(f"small query round trip, {args.calls} calls each, interleaved "
          f"(Python {sys.version.split()[0]})")
    print(f"{'path':<12}{'median µs':>11}{'p99 µs':>10}{'min µs':>9}{'x in-process':>14}")
    for name, s in result.items():
        print(f"{name:<12}{s['median_us']:>11.0f}{s['p99_us']:>10.0f}{s['min_us']:>9.0f}"
              f"{s['median_us'] / base:>14.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
