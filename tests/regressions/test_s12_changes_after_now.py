"""``changes`` with a window after ``now`` (a paused run) scores every counter as fallen
to zero: the rate of a counter over a range that has not happened is taken as 0.0, so
each counter gets ``after: 0.0`` and the maximal score ln(101) = 4.6 and the ranking is
topped by counters that did not change at all — while the gauges and samples of the
same window say ``no_data: "after"``, and a query over that range answers ``rate: None``
("nothing yet", docs/design.md "Ranges past now"). An ``after`` window that reaches
past now is echoed as asked (``[3.0, 8.0]``) though only ``[3, now]`` was measured
(the rule: a range past now answers ``[start, now]`` "and says so").

Repro (session 12, rev4): Users (Poisson 40/s) -> Server, paused at t=4 s;
``changes {before: [0, 1], after: [6, 8]}``: Users.generated before 35.0, after 0.0,
score 4.615 (top of the ranking); the query ``generated`` between [6, 8) answers
rate None, count 0. Expected: the counter not scored, ``no_data: "after"``, as the
gauges. ``after: [3, 8]`` answers ``after: [3.0, 8.0]`` (expected the end at now,
4.000000000000001). Area: happysimulator/observability/changes.py.
"""

from __future__ import annotations

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol import SessionProtocol


def build(seed: int = 1) -> Simulation:
    sink = Sink("Sink")
    server = Server("S", service_time=ExponentialLatency(0.01), downstream=sink)
    users = Source.poisson(rate=40.0, target=server, name="Users", stop_after=10.0)
    return Simulation(sources=[users], entities=[server, sink], seed=seed, end_time=10.0,
                      observability=ObservabilityConfig.full())


def _changes(after: list[float]) -> dict:
    session = SessionProtocol(build, default_wait_s=60)
    try:
        session.handle({"op": "run_until", "time": 4.0})
        answer = session.handle({"op": "changes", "before": [0, 1], "after": after,
                                 "limit": 100, "budget_bytes": 1_000_000})
        assert answer["ok"], answer
        rate = session._sim.query.metrics("generated").from_entity("Users") \
            .between(*after).aggregate("rate").execute().scalar
        return answer | {"query_rate": rate}
    finally:
        session.close()


def test_a_counter_in_a_window_after_now_is_not_scored_as_zero() -> None:
    answer = _changes([6.0, 8.0])
    assert answer["query_rate"] is None  # the query: nothing yet
    (gen,) = [r for r in answer["series"] if (r["entity"], r["name"]) == ("Users", "generated")]
    assert gen.get("no_data") == "after" and gen.get("after") is None, gen


def test_a_window_reaching_past_now_says_it_stops_at_now() -> None:
    answer = _changes([3.0, 8.0])
    assert answer["after"][1] < 8.0, answer["after"]
