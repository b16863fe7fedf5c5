"""A request's identity and creation time under every configuration: a traced source's
request keeps its id in `Event._id` (no context dict) and gives the same id to model
code, spans and the sink; a held request (a paused node) keeps its creation time."""

from __future__ import annotations

import pytest

from happysimulator import Entity, LatencyTracker, Server, Simulation, Source
from happysimulator.faults import FaultSchedule, PauseNode
from happysimulator.observability import ObservabilityConfig


@pytest.mark.parametrize("config", ["disabled", "full"])
def test_held_request_latency_counts_the_pause(config: str) -> None:
    # a request held by a paused node is delivered at the resume: its latency still
    # starts when it was created (under disabled() it used to start at the resume)
    sink = LatencyTracker("Sink")
    server = Server("s", service_time=0.01, downstream=sink)
    source = Source.constant(rate=10.0, target=server, stop_after=10.0)
    schedule = FaultSchedule()
    schedule.add(PauseNode("s", start=4.0, end=6.0))
    sim = Simulation(sources=[source], entities=[server, sink], fault_schedule=schedule,
                     observability=getattr(ObservabilityConfig, config)())
    sim.run()
    worst = max(v for _, v in sink.data.values)
    assert 1.9 < worst <= 2.0 + 0.01 + 1e-9


class _Peek(Entity):
    """Reads the context of every other request, before forwarding it."""

    def __init__(self, name: str, downstream: Entity) -> None:
        super().__init__(name)
        self.downstream = downstream
        self.seen: dict[int, float] = {}
        self.n = 0

    def handle_event(self, event):
        self.n += 1
        if self.n % 2:
            ctx = event.context
            self.seen[ctx["id"]] = ctx["created_at"].to_seconds()
        return self.forward(event, self.downstream)


def test_traced_ids_are_the_context_ids_model_code_sees() -> None:
    sink = LatencyTracker("Sink")
    server2 = Server("S2", service_time=0.02, downstream=sink)
    peek = _Peek("Peek", server2)
    server = Server("S1", service_time=0.05, downstream=peek)
    source = Source.poisson(rate=8.0, target=server, stop_after=30.0)
    sim = Simulation(sources=[source], entities=[server, peek, server2, sink], seed=3,
                     observability=ObservabilityConfig.full())
    sim.run()
    spans = sim.query.trace_store.spans()
    roots = {s.trace_id: s for s in spans if s.entity == "Source"}
    # ids in creation order (drawn when each request was made), one trace per request
    ids = [s.trace_id for s in sorted(roots.values(), key=lambda s: s.start)]
    assert ids == sorted(ids) and len(ids) == source.generated
    assert peek.seen and set(peek.seen) <= set(roots)
    for tid, created in peek.seen.items():
        assert created == pytest.approx(roots[tid].start, abs=1e-9)
    by_trace: dict[int, list[str]] = {}
    for s in spans:
        by_trace.setdefault(s.trace_id, []).append(s.entity)
    done = [t for t, ents in by_trace.items() if "Sink" in ents]
    assert len(done) == sink.count
    for t in done:
        assert by_trace[t] == ["Source", "S1", "S2", "Sink"]
    # the sink's latencies count from the creation the spans give
    sink_spans = sorted((s for s in spans if s.entity == "Sink"), key=lambda s: s.end)
    lat = [s.attributes["latency"] for s in sink_spans]
    assert lat == pytest.approx([s.end - roots[s.trace_id].start for s in sink_spans])


class _SetContext(Entity):
    """Replaces each request's context with one without an id (model code may)."""

    def __init__(self, name: str, downstream: Entity) -> None:
        super().__init__(name)
        self.downstream = downstream
        self.ids: list[int] = []

    def handle_event(self, event):
        event.context = {"metadata": {"k": 1}}
        self.ids.append(event.context["id"])
        return self.forward(event, self.downstream)


def test_a_context_set_without_an_id_keeps_the_trace_id() -> None:
    sink = LatencyTracker("Sink")
    setter = _SetContext("Setter", sink)
    source = Source.poisson(rate=5.0, target=setter, stop_after=10.0)
    sim = Simulation(sources=[source], entities=[setter, sink], seed=4,
                     observability=ObservabilityConfig.full())
    sim.run()
    spans = sim.query.trace_store.spans()
    roots = [s.trace_id for s in sorted(spans, key=lambda s: s.start) if s.entity == "Source"]
    assert setter.ids == roots  # the id the source drew (its root span's trace id)
    sinks = sorted((s for s in spans if s.entity == "Sink"), key=lambda s: s.start)
    assert [s.trace_id for s in sinks] == roots


def test_the_protocol_reads_a_traced_requests_id_without_a_context() -> None:
    from happysimulator.core.event import Event, new_event
    from happysimulator.observability.protocol.answers import _request_id

    root = Event(1.0, "Request")
    assert _request_id(root) is None  # no id drawn: none read (none drawn either)
    root._id = 7  # (what a traced source gives its request)
    hop = new_event(2_000_000_000, "Request", None, origin=root)
    assert _request_id(root) == 7 and _request_id(hop) == 7
    assert root._ctx is None  # (read without making a context)
