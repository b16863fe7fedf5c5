"""Many readers while the model runs in the background: each is answered at an event
boundary (all waiting readers in one batch), every answer equals what a single-threaded
session answers for the same question, and the run itself is unchanged by them."""

from __future__ import annotations

import contextlib
import random
import threading
import time

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol import SessionProtocol

READERS = 40
PAST = 60.0  # s: readers ask about [0, PAST) once the run is past it


def build(customers: int = 100_000, seed: int = 7) -> Simulation:
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    source = Source.poisson(rate=8.0, target=server, limit=customers)
    return Simulation(sources=[source], entities=[server, sink], seed=seed,
                      observability=ObservabilityConfig.full())


def questions() -> list[dict]:
    qs = []
    for a in range(0, int(PAST), 10):
        qs.append({"op": "query", "query": {
            "kind": "metrics", "name": "queue_depth", "entity": "Server", "start": a,
            "end": a + 10, "aggregates": ["mean", "max", "p99"]}})
        qs.append({"op": "query", "query": {
            "kind": "metrics", "name": "latency", "entity": "Sink", "start": a,
            "end": a + 10, "aggregates": ["count", "p50", "p99"]}})
        qs.append({"op": "query", "query": {
            "kind": "spans", "entity": "Server", "start": a, "end": a + 2}})
    qs.append({"op": "trace", "trace_id": 50})
    return qs


def test_concurrent_readers_answer_what_one_reader_answers() -> None:
    ref = SessionProtocol(build, default_wait_s=None)
    assert ref.handle({"op": "run"})["state"]["status"] == "complete"
    qs = questions()
    expected = [ref.handle(q) for q in qs]
    assert all(a["ok"] for a in expected), expected

    live = SessionProtocol(build, default_wait_s=None)
    assert live.handle({"op": "run", "wait_s": 0})["state"]["status"] == "running"
    deadline = time.monotonic() + 60
    while live.handle({"op": "state"})["state"]["current_time"] < PAST:
        assert time.monotonic() < deadline, "the run did not reach the readers' range"
        time.sleep(0.01)
    got: dict[int, list] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(READERS)

    def reader(k: int) -> None:
        try:
            order = list(range(len(qs)))
            random.Random(k).shuffle(order)
            start.wait()
            got[k] = [(i, live.handle(qs[i])) for i in order[:8]]
        except BaseException as exc:  # (reported by the main thread)
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(READERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    # still running after every reader was answered (else the model is too short to
    # test anything about reading while it runs)
    assert live.handle({"op": "pause"})["state"]["status"] == "paused"
    assert not errors, errors
    assert len(got) == READERS
    for answers in got.values():
        for i, answer in answers:
            assert answer == expected[i], (qs[i], answer, expected[i])
    final = live.handle({"op": "resume"})  # on to the end: the readers changed nothing
    assert final["state"]["status"] == "complete"
    assert final["state"]["events_processed"] == ref.handle({"op": "state"})["state"][
        "events_processed"]
    whole = {"op": "query", "query": {"kind": "metrics", "name": "latency", "entity": "Sink",
                                      "aggregates": ["count", "mean", "p99"]}}
    assert live.handle(whole) == ref.handle(whole)


def test_concurrent_mcp_clients_answer_what_one_reader_answers() -> None:
    """The real consumer: MCP SDK clients (in-process connection) querying at once while
    the model runs; their structured answers equal a single-threaded session's."""
    import anyio
    import pytest

    mcp = pytest.importorskip("mcp")
    from happysimulator.observability.mcp_server import build_server, no_nulls

    ref = SessionProtocol(build, default_wait_s=None)
    ref.handle({"op": "run"})
    qs = questions()
    expected = [no_nulls(ref.handle(q)) for q in qs]
    live = SessionProtocol(build, default_wait_s=None)
    server = build_server(live)
    got: list[tuple[int, dict]] = []

    async def main() -> None:
        async with contextlib.AsyncExitStack() as stack:
            clients = [await stack.enter_async_context(mcp.Client(server)) for _ in range(12)]
            c0 = clients[0]
            r = await c0.call_tool("run", {"wait_s": 0})
            assert r.structured_content["state"]["status"] == "running"
            while True:
                st = await c0.call_tool("state", {})
                if st.structured_content["state"]["current_time"] >= PAST:
                    break
                await anyio.sleep(0.01)

            async def ask(c, k: int) -> None:
                for i in random.Random(k).sample(range(len(qs)), 6):
                    q = dict(qs[i])
                    r = await c.call_tool(q.pop("op"), q)
                    got.append((i, r.structured_content))

            async with anyio.create_task_group() as tg:
                for k, c in enumerate(clients):
                    tg.start_soon(ask, c, k)
            p = await c0.call_tool("pause", {})
            assert p.structured_content["state"]["status"] == "paused"

    anyio.run(main)
    assert len(got) == 72
    for i, answer in got:
        assert answer == expected[i], (qs[i], answer, expected[i])
    live.close()


def test_handle_soon_answers_every_request_once() -> None:
    """Idle: at once, in this thread. Running: a read is answered on the run thread; a
    bad request and a non-read are answered at once, as `handle` answers them."""
    live = SessionProtocol(build, default_wait_s=None)
    q = questions()[0]
    got: list[tuple[int, dict]] = []
    live.handle_soon(q, lambda a: got.append((threading.get_ident(), a)))
    assert got == [(threading.get_ident(), live.handle(q))]
    assert live.handle({"op": "run", "wait_s": 0})["state"]["status"] == "running"
    done = threading.Event()
    answers: list[tuple[int, dict]] = []

    def keep(a: dict) -> None:
        answers.append((threading.get_ident(), a))
        if len(answers) == 3:
            done.set()

    live.handle_soon({"op": "nonsense"}, keep)  # (answered at once, here)
    live.handle_soon(q, keep)
    live.handle_soon({"op": "query", "query": {"kind": "metrics", "name": "nope"}}, keep)
    assert done.wait(30)
    me = threading.get_ident()
    (t_bad, bad), (t_read, read), (t_unknown, unknown) = answers
    assert t_bad == me and not bad["ok"] and "nonsense" in bad["error"]["message"]
    assert t_read != me and read["ok"] and read["op"] == "query"
    assert t_unknown != me and unknown["error"]["kind"] == "unknown_name"
    live.close()
