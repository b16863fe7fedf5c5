"""A live span subscriber gets every span as the trace store answers it: the same id,
parent, entity, times and attributes, field for field, whichever topics it follows,
with sampling, and with the run paused and the store read at any point.

(The store gives a span recorded without id its id, and a component's outermost span --
a client attempt -- its parent, the request's hop it began in: see
`happysim_rx.stores._span_ids`. Published as recorded, such spans reached subscribers
as roots without id that ``spans()`` later answered as children.)"""

from __future__ import annotations

import dataclasses
from fnmatch import fnmatchcase
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from happysimulator import ExponentialLatency, Server, Simulation, Source
from happysimulator.components.client import Client, FixedRetry
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.instrumented import InstrumentedEntity


class Stamp(InstrumentedEntity):
    """A user entity that records a span of its own without a token (the store gives
    it its id and links it to the request's previous span)."""

    def __init__(self, name: str, downstream: Any) -> None:
        super().__init__(name)
        self.downstream = downstream

    def handle_event(self, event: Any) -> Any:
        self.record_span(event, self.now.to_seconds())
        return [self.forward(event, self.downstream)]


def _model(seed: int, rate: float = 1.0, stamp: bool = False) -> Simulation:
    servers = [Server(f"S{i}", concurrency=1, service_time=ExponentialLatency(0.08))
               for i in range(2)]
    lb = LoadBalancer("LB", backends=servers, strategy=RoundRobin())
    client = Client("Client", lb, timeout=0.2,
                    retry_policy=FixedRetry(max_attempts=3, delay=0.02))
    entities: list[Any] = [*servers, lb, client]
    target: Any = client
    if stamp:
        target = Stamp("Stamp", client)
        entities.append(target)
    cfg = dataclasses.replace(ObservabilityConfig.full(), trace_sample_rate=rate)
    users = Source.poisson(rate=25.0, target=target, name="Users", stop_after=3.0)
    return Simulation(sources=[users], entities=entities, seed=seed, end_time=5.0,
                      observability=cfg)


def _fields(s: Any) -> tuple:
    return (s.trace_id, s.span_id, s.parent_id, s.entity, s.start, s.end,
            tuple(sorted((s.attributes or {}).items())))


def _live_vs_stored(sim: Simulation, source: str = "*",
                    pauses: tuple[float, ...] = ()) -> tuple[list, list]:
    live: list[tuple] = []
    sim.observations.spans(source=source).subscribe(lambda o: live.append(_fields(o.value)))
    for t in pauses:
        if not sim.control.is_complete:
            sim.control.run_until(t)
            sim.query.trace_store.spans()  # a read while paused takes the store in
    sim.run()
    stored = [_fields(s) for s in sim.query.trace_store.spans()
              if fnmatchcase(s.entity, source)]
    return sorted(live), sorted(stored)


def test_every_span_live_as_stored():
    live, stored = _live_vs_stored(_model(3))
    assert live and live == stored
    assert any(f[3] == "Client" and f[2] is not None for f in live)  # joined roots


def test_only_the_client_followed():
    """Following the client's spans alone: its roots still get the source's hop as
    parent (the standard hops go to the store as they happen)."""
    live, stored = _live_vs_stored(_model(4), source="Client")
    assert live and live == stored
    assert all(f[2] is not None for f in live)


def test_a_user_span_without_id_gets_its_stored_id():
    live, stored = _live_vs_stored(_model(5, stamp=True))
    assert live == stored
    assert any(f[3] == "Stamp" and f[1] is not None for f in live)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), rate=st.sampled_from([1.0, 0.5]),
       stamp=st.booleans(), source=st.sampled_from(["*", "Client", "LB", "S*"]),
       pauses=st.lists(st.floats(0.0, 5.0), max_size=3).map(lambda p: tuple(sorted(p))))
def test_live_spans_are_the_stored_ones(seed: int, rate: float, stamp: bool, source: str,
                                        pauses: tuple[float, ...]):
    live, stored = _live_vs_stored(_model(seed, rate, stamp), source, pauses)
    assert live == stored
