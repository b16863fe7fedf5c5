"""Two query mistakes an agent makes are answered inconsistently with the metrics path:

1. A span query filtered on an attribute key no span carries (a typo: ``bkend`` for the
   LoadBalancer's ``backend``) answers ``count: 0`` (range [0, now]), where a metrics
   query refuses it: "no sample of 'routed' has tag(s) ['bkend']; tags seen:
   ['backend']". A typo must not read as "no such requests".
2. An unknown event type is ``bad_request`` without ``valid``, where an unknown metric,
   entity or trace id is ``unknown_name`` with the valid ones listed (docs/protocol.md
   "Errors": ``unknown_name`` is "a ... series, entity ... that does not exist; valid
   lists the known ones").

Repro (session 12, rev4): Users -> LB (round robin) -> S0, S1 -> Sink, run to the end.
``{"kind": "spans", "entity": "LB", "tags": {"bkend": "S0"}, "aggregates": ["count"]}``
-> ok, count 0 (``{"backend": "S0"}`` -> the real count). ``{"kind": "events", "name":
"Nope"}`` -> bad_request "unknown event type 'Nope'; known event types: ...", valid
None. Expected: the span query refused naming the attribute keys seen; the event type
``unknown_name`` with ``valid``. Area: happysim_rx/engine.py (_spans tag filter,
_events), happysimulator/observability/protocol/ops_questions.py (error mapping).
"""

from __future__ import annotations

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol import SessionProtocol


def build(seed: int = 1) -> Simulation:
    sink = Sink("Sink")
    servers = [Server(f"S{i}", service_time=ExponentialLatency(0.05), downstream=sink)
               for i in range(2)]
    lb = LoadBalancer("LB", backends=servers, strategy=RoundRobin())
    users = Source.poisson(rate=10.0, target=lb, name="Users", stop_after=3.0)
    return Simulation(sources=[users], entities=[*servers, sink, lb], seed=seed,
                      end_time=3.0, observability=ObservabilityConfig.full())


def _ask(query: dict) -> dict:
    session = SessionProtocol(build, default_wait_s=60)
    try:
        session.handle({"op": "run"})
        return session.handle({"op": "query", "query": query})
    finally:
        session.close()


def test_the_metrics_path_refuses_a_mistyped_tag_key() -> None:
    answer = _ask({"kind": "metrics", "name": "routed", "entity": "LB",
                   "tags": {"bkend": "S0"}, "aggregates": ["sum"]})
    assert not answer["ok"] and "backend" in answer["error"]["message"]


def test_a_span_query_refuses_a_mistyped_attribute_key() -> None:
    right = _ask({"kind": "spans", "entity": "LB", "tags": {"backend": "S0"},
                  "aggregates": ["count"]})
    assert right["result"]["rows"][0]["count"] > 0
    answer = _ask({"kind": "spans", "entity": "LB", "tags": {"bkend": "S0"},
                   "aggregates": ["count"]})
    assert not answer["ok"], answer["result"]["rows"]
    assert "backend" in answer["error"]["message"]


def test_an_unknown_event_type_is_unknown_name_with_the_valid_ones() -> None:
    answer = _ask({"kind": "events", "name": "Nope"})
    assert answer["error"]["kind"] == "unknown_name"
    assert "Request" in (answer["error"].get("valid") or [])
