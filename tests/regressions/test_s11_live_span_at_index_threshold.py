"""A live span subscriber gets a span as recorded (no id, no parent), not as stored, when
its hand-over makes a bounded trace store take in its pending spans.

Found by the session-11 review (rev3), by experiment; area: the live spans of this
session (happysim_rx/_emitters.py ``_emit_stored_span``: the span goes to the stores,
``settle()`` takes pending spans in and returns them, the subscribers get the stored
one) and happysim_rx/stores/_span_ingest.py (a bounded store's appender indexes itself
every 4096 pending spans). When the subscribed span is the 4096th pending one, the
appender has already taken it in, ``settle()`` returns nothing new, and `_as_stored`
falls back to the span as recorded: ``span_id=None, parent_id=None``, where the store
(and the same run with an unbounded store) has it with its id and its parent. G2 records
4095 spans of a request, then G1 (subscribed) one."""

from __future__ import annotations

from happysimulator import Event, Simulation
from happysimulator.core.observed import ObservedEntity
from happysimulator.observability import ObservabilityConfig


class _Many(ObservedEntity):
    def __init__(self, name: str, n: int, nxt: ObservedEntity | None = None) -> None:
        super().__init__(name)
        self.n, self.nxt = n, nxt

    def handle_event(self, event):
        now = self._sim.now.to_seconds()
        for _ in range(self.n):
            self.record_span(event, now, now)
        if self.nxt is not None:
            return Event(time=self._sim.now, event_type="Req", target=self.nxt,
                         context=event.context)
        return None


def test_a_live_span_is_published_as_stored_at_the_index_threshold():
    g1 = _Many("G1", 1)
    g2 = _Many("G2", 4095, g1)
    sim = Simulation(entities=[g2, g1], seed=1,
                     observability=ObservabilityConfig.full().replace(trace_capacity=10))
    sim.schedule(Event(time=1.0, event_type="Req", target=g2))
    live = []
    sim.observations.spans(source="G1").subscribe(
        lambda o: live.append((o.value.trace_id, o.value.span_id, o.value.parent_id)))
    sim.run()
    stored = [(s.trace_id, s.span_id, s.parent_id)
              for s in sim.query.trace_store.spans() if s.entity == "G1"]
    assert len(stored) == 1 and stored[0][1] is not None
    assert live == stored
