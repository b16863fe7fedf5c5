"""Issue 19, items 14 and 16 (protocol side): byte budgets that make progress and hold
after JSON escaping; hostile JSON is a bad request, never an internal error."""

from __future__ import annotations

import msgspec
import pytest

from happysimulator import ConstantLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import JsonSession, ObservabilityConfig
from happysimulator.observability.protocol.session import SessionProtocol


def _session() -> SessionProtocol:
    server = Server("Server", concurrency=1, service_time=ConstantLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    src = Source.constant(rate=20.0, target=server, stop_after=30.0)
    sim = Simulation(sources=[src], entities=[server, sink], seed=1,
                     observability=ObservabilityConfig.full())
    sim.run()
    return SessionProtocol(sim)


RAW = {"kind": "metrics", "name": "queue_depth", "entity": "Server"}


@pytest.mark.parametrize("budget", [512, 600, 799, 800, 2000])
def test_item14_following_truncated_with_any_budget_ends_with_every_row(budget):
    s = _session()
    first = s.handle({"op": "query", "query": RAW, "budget_bytes": 100_000})
    total = first["result"]["rows"]
    ans = s.handle({"op": "query", "query": RAW, "budget_bytes": budget})
    rows = list(ans["result"]["rows"])
    cut = ans.get("truncated")
    for _ in range(10_000):
        if cut is None:
            break
        got = s.handle({"op": "fetch", "handle": cut["handle"], "offset": cut["next_offset"],
                        "budget_bytes": budget})
        assert got.get("ok") is not False, got
        assert len(msgspec.json.encode(got)) <= budget
        assert got["items"], "a fetch that returns nothing would loop forever"
        rows.extend(got["items"])
        cut = got.get("truncated")
    assert cut is None and rows == total


def test_item14_a_csv_export_fits_its_budget_after_json_escaping():
    s = _session()
    for budget in (2000, 8000):
        ans = s.handle({"op": "export", "format": "csv", "budget_bytes": budget,
                        "query": {**RAW, "name": "*"}})
        assert ans.get("truncated") is not None
        size = len(msgspec.json.encode(ans))
        assert size <= budget, (size, budget)
        assert ans["size_bytes"] == len(msgspec.json.encode(ans["content"]))
    # and the parts, fetched, are the whole CSV
    whole = s.handle({"op": "export", "format": "csv", "budget_bytes": 4_000_000,
                      "query": {**RAW, "name": "*"}})["content"]
    ans = s.handle({"op": "export", "format": "csv", "budget_bytes": 3000,
                    "query": {**RAW, "name": "*"}})
    text, cut = ans["content"], ans["truncated"]
    while cut is not None:
        got = s.handle({"op": "fetch", "handle": cut["handle"], "offset": cut["next_offset"],
                        "budget_bytes": 3000})
        assert len(msgspec.json.encode(got)) <= 3000
        text += got["items"]
        cut = got.get("truncated")
    assert text == whole


def test_item16_deeply_nested_json_is_a_bad_request():
    s = _session()
    deep = '{"op":"state","x":' + "[" * 100_000 + "]" * 100_000 + "}"
    ans = s.handle(deep)
    assert ans["error"]["kind"] == "bad_request", ans
    ans = JsonSession(s.sim).handle(deep)
    assert ans["error"]["kind"] == "bad_request", ans
