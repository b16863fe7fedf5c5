"""A tag filter on a series that has no sample yet (a balancer that routed nothing, a run
paused before its first request) answered ``count: 0`` even for a tag key the series
neither declares nor ever carried, where a series with samples refused it ("no sample has
tags [...]"). Found by the fuzzer's balancer models (session 11, 27 of 13,367 cases):
the answer to a mistyped tag key must not depend on whether data came yet.

The rule (docs/design.md, "Tags"): the valid tag keys of a selection are the keys its
components declare for those series (the catalog lists them before the run) plus the keys
any recorded sample carries. A valid key filters (an empty answer when nothing matches:
count 0, exact); any other key is refused, naming the valid ones, with or without data —
for aggregates, raw rows and ``group_by`` alike."""

from __future__ import annotations

import pytest

from happysim_rx.query import Query, QueryError
from happysimulator import ConstantLatency, Event, Server, Simulation, Sink, Source
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.core.observed import counter, sample
from happysimulator.observability import InstrumentedEntity, ObservabilityConfig
from happysimulator.observability.protocol.session import SessionProtocol


def _sim(routed: bool, config: ObservabilityConfig | None = None) -> Simulation:
    sink = Sink("Sink")
    server = Server("S1", service_time=ConstantLatency(0.1), downstream=sink)
    lb = LoadBalancer("LB", backends=[server], strategy=RoundRobin())
    source = Source.constant(rate=2.0, target=lb if routed else server, name="Src", limit=5)
    sim = Simulation(sources=[source], entities=[server, sink, lb],
                     observability=config or ObservabilityConfig.full())
    sim.run()
    return sim


def _ask(sim: Simulation, *aggs: str, **tags: str):
    q = Query().metrics("routed").from_entity("LB").where(**tags)
    return sim.query.execute(q.aggregate(*aggs) if aggs else q)


@pytest.mark.parametrize("routed", [True, False], ids=["with-data", "no-data"])
@pytest.mark.parametrize("aggs", [("count",), ()], ids=["aggregate", "raw"])
def test_an_unknown_tag_key_is_refused_with_or_without_data(routed, aggs) -> None:
    with pytest.raises(QueryError, match=r"nosuch.*backend"):  # names the valid key
        _ask(_sim(routed), *aggs, nosuch="x")


@pytest.mark.parametrize("routed", [True, False], ids=["with-data", "no-data"])
def test_an_unknown_group_by_key_is_refused_with_or_without_data(routed) -> None:
    q = Query().metrics("routed").from_entity("LB").group_by("nosuch").aggregate("count")
    with pytest.raises(QueryError, match=r"nosuch.*backend"):
        _sim(routed).query.execute(q)


def test_a_declared_key_answers_empty_before_any_sample() -> None:
    sim = _sim(routed=False)
    res = sim.query.execute(Query().metrics("routed").from_entity("LB").where(backend="S1")
                            .between(0.0, 5.0).aggregate("count", "sum", "rate"))
    assert res.exact
    ((start, end, count, total, rate),) = [
        (r["start"], r["end"], r["count"], r["sum"], r["rate"]) for r in res.rows]
    # over [0, 5) cut at now (the run ended before 5 s): nothing routed, a rate of 0
    assert (start, count, total, rate) == (0.0, 0, None, 0.0) and sim.now.to_seconds() <= end < 5.0
    assert _ask(sim).rows == [] and _ask(sim, backend="S1").rows == []
    grouped = sim.query.execute(Query().metrics("routed").from_entity("LB")
                                .group_by("backend").aggregate("count"))
    assert grouped.rows == []


def test_a_declared_key_filters_once_there_is_data() -> None:
    sim = _sim(routed=True)
    assert _ask(sim, "count", backend="S1").rows[0]["count"] == 5
    assert _ask(sim, "count", backend="S9").rows[0]["count"] == 0


class _Tally(InstrumentedEntity):
    """Declares ``done`` tagged ``outcome`` but never tags it; observes ``size`` with an
    undeclared ``lane`` tag (a user's own tag: valid once carried)."""

    observed_series = (counter("done", "requests", tags=("outcome",)), sample("size", ""))

    def handle_event(self, event: Event) -> list[Event]:
        self.increment("done")
        self.observe("size", 1.0, lane="a")
        return []


def _tally_sim(limit: int) -> Simulation:
    tally = _Tally("Tally")
    source = Source.constant(rate=1.0, target=tally, name="Src", limit=limit)
    return Simulation(sources=[source], entities=[tally],
                      observability=ObservabilityConfig.full())


def test_a_declared_key_no_sample_carries_answers_empty_over_data() -> None:
    sim = _tally_sim(3)
    sim.run()
    q = Query().metrics("done").from_entity("Tally")
    assert sim.query.execute(q.aggregate("count")).rows[0]["count"] == 3
    res = sim.query.execute(q.where(outcome="ok").aggregate("count"))
    assert res.exact and res.rows[0]["count"] == 0
    assert sim.query.execute(q.group_by("outcome").aggregate("count")).rows == []
    with pytest.raises(QueryError, match=r"nosuch.*outcome"):
        sim.query.execute(q.where(nosuch="x").aggregate("count"))


def test_an_undeclared_key_a_user_carries_is_valid_once_carried() -> None:
    sim = _tally_sim(3)
    q = Query().metrics("size").from_entity("Tally").where(lane="a").aggregate("count")
    with pytest.raises(QueryError, match="lane"):  # nothing carries it yet: a typo?
        sim.query.execute(q)
    sim.run()
    assert sim.query.execute(q).rows[0]["count"] == 3


def test_the_protocol_refuses_the_same_and_its_catalog_lists_declared_keys() -> None:
    for routed in (True, False):
        session = SessionProtocol(_sim(routed))
        ans = session.handle({"op": "query", "query": {
            "kind": "metrics", "name": "routed", "entity": "LB", "tags": {"nosuch": "x"},
            "aggregates": ["count"]}})
        assert ans["ok"] is False and "nosuch" in ans["error"]["message"], ans
        cat = session.handle({"op": "catalog"})["catalog"]["metrics"]
        (routed_info,) = [s for s in cat if (s["source"], s["name"]) == ("LB", "routed")]
        assert routed_info["tags"] == ["backend"]
        (py_info,) = [s for s in session.sim.query.catalog()["metrics"]
                      if (s["source"], s["name"]) == ("LB", "routed")]
        assert py_info["tags"] == ["backend"]


def test_streaming_refuses_tag_filters_with_or_without_data() -> None:
    for routed in (True, False):
        sim = _sim(routed, ObservabilityConfig.streaming())
        for key in ("backend", "nosuch"):
            with pytest.raises(QueryError, match="keeps no per-sample tags"):
                _ask(sim, "count", **{key: "x"})

