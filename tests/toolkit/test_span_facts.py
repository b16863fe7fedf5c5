"""Client and LoadBalancer spans recorded as int facts (`components.span_facts`) answer
exactly what the same spans recorded as `Span` records answer: the same spans, ids,
parents, attributes and order (the store's stream positions), with user spans and
one-by-one component spans (timeouts) interleaved, and with the store read mid-run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import happysimulator.components.fast_recording as fr
import happysimulator.components.span_facts as sf
from happysimulator import ExponentialLatency, Server, Simulation, Source
from happysimulator.components.client import Client, FixedRetry
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.instrumented import InstrumentedEntity


class Stamp(InstrumentedEntity):
    """A user entity recording a span of its own (handed over as it comes)."""

    def __init__(self, name: str, downstream: Any) -> None:
        super().__init__(name)
        self.downstream = downstream

    def handle_event(self, event: Any) -> Any:
        self.record_span(event, self.now.to_seconds())
        return [self.forward(event, self.downstream)]


def _answers(seed: int, reads: list[float]) -> dict[str, Any]:
    servers = [Server(f"S{i}", concurrency=1, service_time=ExponentialLatency(0.08))
               for i in range(2)]
    lb = LoadBalancer("LB", backends=servers, strategy=RoundRobin())
    client = Client("Client", lb, timeout=0.2,  # (rho 0.9: some attempts time out)
                    retry_policy=FixedRetry(max_attempts=3, delay=0.02))
    stamp = Stamp("Stamp", client)
    users = Source.poisson(rate=22.0, target=stamp, name="Users", stop_after=6.0)
    sim = Simulation(sources=[users], entities=[*servers, lb, client, stamp], seed=seed,
                     end_time=8.0, observability=ObservabilityConfig.full())
    ts = sim.query.trace_store
    mid = []
    for t in reads:  # (the store read mid-run: pending batches taken in, new ones begun)
        sim.run(until=t)
        mid.append([s for tid in ts.trace_ids()[:5] for s in ts.trace(tid)])
    sim.run()
    return {"spans": ts.spans(), "ids": ts.trace_ids(), "mid": mid,
            "between": ts.between(1.0, 3.0), "edges": ts.edges(),
            "trees": [ts.trace(t) for t in ts.trace_ids()[:50]]}


@pytest.mark.parametrize("seed,reads", [(1, []), (2, [1.5, 1.5, 4.0])])
def test_span_facts_answer_as_span_records(monkeypatch, seed, reads):
    begun = []
    real_begin = sf.SpanFacts.begin
    monkeypatch.setattr(sf.SpanFacts, "begin",
                        lambda self: begun.append(1) or real_begin(self))
    got = _answers(seed, reads)
    # the facts were used, in several batches (timeouts and user spans between them)
    assert len(begun) > 3
    assert any(s.entity == "Client" and s.attributes["outcome"] == "timeout"
               for s in got["spans"])
    # the reference: every component span emitted as a `Span` record, one by one
    monkeypatch.setattr(fr, "_row_list", lambda bus, topic: None)
    begun.clear()
    want = _answers(seed, reads)
    assert not begun
    assert got == want
    assert {s.entity for s in got["spans"]} >= {"Client", "LB", "Stamp", "S0", "Users"}


def test_a_batch_with_an_id_outside_int64_is_taken_in_as_rows():
    facts = sf.SpanFacts.__new__(sf.SpanFacts)
    kinds = [("Client", {"attempt": 1, "outcome": "ok"}), ("LB", {"backend": "S0"})]
    base = 1 << 62
    ints = [7, base, sf.NO_PARENT, 1_000_000_000, 1_500_000_000, 0,
            2**70, base + 1, base, 2_000_000_000, 2_250_000_000, 1]
    rows = sf._materialize((ints, kinds), np.empty(0, dtype=np.int64))
    assert rows == [(7, base, None, "Client", 1.0, 1.5, {"attempt": 1, "outcome": "ok"}),
                    (2**70, base + 1, base, "LB", 2.0, 2.25, {"backend": "S0"})]
    del facts
    arrays = sf._materialize((ints[:6] + [8] + ints[7:], kinds), np.empty(0, np.int64))
    assert arrays.trace_ids.tolist() == [7, 8]
    assert arrays.span_ids.tolist() == [base, base + 1]
    assert arrays.parents.tolist() == [sf.NO_PARENT, base]
    assert [arrays.names[e] for e in arrays.entities.tolist()] == ["Client", "LB"]
    assert arrays.starts.tolist() == [1.0, 2.0] and arrays.ends.tolist() == [1.5, 2.25]
    cols = {key: (rows_.tolist(), list(values)) for rows_, key, values in arrays.attributes}
    assert cols == {"attempt": ([0], [1]), "outcome": ([0], ["ok"]),
                    "backend": ([1], ["S0"])}
