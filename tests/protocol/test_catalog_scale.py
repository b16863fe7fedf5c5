"""The catalog of a model with many entities: the same answer as measuring the whole
answer after every cut (the reference below), every budget respected, tags per series."""

from __future__ import annotations

import json

import msgspec
import pytest

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol import SessionProtocol
from happysimulator.observability.protocol import messages as m
from happysimulator.observability.protocol.answers import _size


def chain(n: int = 40, customers: int = 200) -> Simulation:
    sink = LatencyTracker("Sink")
    nxt, servers = sink, []
    for i in range(n - 2):
        s = Server(f"S{i:03d}", concurrency=1 + i % 3, service_time=ExponentialLatency(0.01))
        s.downstream = nxt
        nxt = s
        servers.append(s)
    source = Source.poisson(rate=8.0, target=nxt, limit=customers)
    return Simulation(sources=[source], entities=[*servers, sink], seed=1,
                      observability=ObservabilityConfig.full())


def _bytes(resp: m.CatalogResponse) -> int:
    return _size(msgspec.to_builtins(resp))


def reference_fit(resp: m.CatalogResponse, budget: int) -> m.CatalogResponse:
    """The cut as first written: the whole answer encoded again after every step."""
    cat = resp.catalog
    if _bytes(resp) <= budget:
        return resp
    if cat.events:
        cat.events = []
        resp.omitted.append("events")
    if _bytes(resp) > budget and cat.metrics:
        cat.metrics = []
        resp.omitted.append("metrics")
    for e in reversed(cat.entities):
        if _bytes(resp) <= budget:
            break
        if e.series:
            e.series = []
            resp.omitted.append(f"series of {e.name}")
    while _bytes(resp) > budget and cat.entities:
        resp.omitted.append(f"entity {cat.entities.pop().name}")
    return resp


@pytest.fixture(scope="module")
def session() -> SessionProtocol:
    s = SessionProtocol(chain, default_wait_s=None)
    assert s.handle({"op": "run"})["ok"]
    return s


def test_cut_equals_the_reference_at_every_budget(session: SessionProtocol) -> None:
    whole = session._catalog()
    full = _bytes(m.CatalogResponse(catalog=whole))
    budgets = sorted({512, 800, 1500, 3000, 6000, 9000, full // 3, full // 2, full - 700,
                      full - 1, full, full + 1} | set(range(512, full + 50, max(1, full // 97))))
    for budget in budgets:
        got = session._fit_catalog(m.CatalogResponse(catalog=session._catalog()), budget)
        ref = reference_fit(m.CatalogResponse(catalog=session._catalog()), budget)
        assert msgspec.to_builtins(got) == msgspec.to_builtins(ref), budget
        assert _bytes(got) <= budget or not got.catalog.entities


def test_answer_through_handle_fits_and_lists_every_series(session: SessionProtocol) -> None:
    whole = session.handle({"op": "catalog", "budget_bytes": 4_000_000})
    assert whole["ok"] and whole["omitted"] == []
    names = {(s["source"], s["name"]) for s in whole["catalog"]["metrics"]}
    assert ("S000", "queue_depth") in names and ("Sink", "latency") in names
    assert len(whole["catalog"]["entities"]) == 40
    cut = session.handle({"op": "catalog", "budget_bytes": 5000})
    assert len(json.dumps(cut, separators=(",", ":"))) <= 5000
    assert cut["omitted"][:2] == ["events", "metrics"]


def test_tags_are_each_series_own() -> None:
    from happysimulator.observability import InstrumentedEntity

    class Tagged(InstrumentedEntity):
        def handle_event(self, event):
            self.observe("size", 1.0, kind="a")
            self.observe("size_b", 2.0, shard="x")

    t = Tagged("T[1]")  # (a glob character in the name: looked up exactly)
    source = Source.poisson(rate=5.0, target=t, limit=20)
    sim = Simulation(sources=[source], entities=[t], seed=2,
                     observability=ObservabilityConfig.full())
    s = SessionProtocol(sim, default_wait_s=None)
    s.handle({"op": "run"})
    rows = {r["name"]: r["tags"] for r in s.handle({"op": "catalog"})["catalog"]["metrics"]
            if r["source"] == "T[1]"}
    assert rows == {"size": ["kind"], "size_b": ["shard"]}
