"""A happysim 0.2.5 model may give its QueuedResource subclass a read-only ``in_flight``
property (its own count, kept in the handler): the resource then counts requests in
service apart, one at a time by default, and observes that count."""

from __future__ import annotations

from happysimulator import LatencyTracker, QueuedResource, Simulation, Source
from happysimulator.observability import ObservabilityConfig


class OwnCount(QueuedResource):
    def __init__(self, name: str, downstream) -> None:
        super().__init__(name)
        self._in_flight = 0
        self.most = 0
        self.downstream = downstream

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def handle_queued_event(self, event):
        self._in_flight += 1
        self.most = max(self.most, self._in_flight)
        try:
            yield 0.3
        finally:
            self._in_flight -= 1
        return [self.forward(event, self.downstream)]


def test_a_read_only_in_flight_property_is_left_to_the_model() -> None:
    sink = LatencyTracker("Sink")
    res = OwnCount("Res", sink)
    src = Source.constant(rate=5.0, target=res, stop_after=20.0)
    sim = Simulation(sources=[src], entities=[res, sink], seed=3,
                     observability=ObservabilityConfig.full())
    sim.run()
    n = sim.query.metrics("latency").from_entity("Sink").aggregate("count").execute().scalar
    assert n == res.completed == len(sink.data.values) > 0
    assert res.most == 1  # concurrency 1: the model's own count never exceeds it
    assert res.in_flight == 0 and res.in_service == 0
    peak = (sim.query.metrics("in_flight").from_entity("Res").aggregate("max")
            .execute().scalar)
    assert peak == 1.0
    # arrivals every 0.2 s, 0.3 s of service: a line forms and is served in order
    assert sim.query.metrics("queue_depth").from_entity("Res").aggregate("max").execute(
    ).scalar >= 1.0
