"""Server / QueuedResource / Sink semantics and the instrumentation seam."""

import pytest
from engine_testkit import RecordingInstr, make_sim

from happysimulator import (
    ConstantLatency,
    Counter,
    Event,
    FIFOQueue,
    LIFOQueue,
    QueuedResource,
    Server,
    Sink,
    Source,
    UniformLatency,
)
from happysimulator.components import Queue, QueueDriver


def _burst(target, n, t=0.0):
    return [Event(t, "req", target) for _ in range(n)]


def test_server_counters_drops_and_gauges():
    sink = Sink()
    s = Server(
        "S", concurrency=2, service_time=ConstantLatency(1.0), queue_capacity=3, downstream=sink
    )
    instr = RecordingInstr(s)
    s._instr = instr
    sim = make_sim(observability=False, entities=[s, sink])
    sim.schedule(_burst(s, 8))
    sim.run()
    assert (s.arrivals, s.completed, s.dropped) == (8, 5, 3)
    assert sink.count == 5
    # gauges seen by the seam: depth counts waiting only, in_flight those in service
    arrived = [c for c in instr.calls if c[0] == "arrived"]
    assert [(c[2], c[3]) for c in arrived] == [
        (0, 1),
        (0, 2),
        (1, 2),
        (2, 2),
        (3, 2),
        (3, 2),
        (3, 2),
        (3, 2),
    ]
    assert [c[0] for c in instr.calls].count("dropped") == 3
    assert instr.waits == [0.0, 0.0, 1.0, 1.0, 2.0]
    assert instr.services == [1.0] * 5
    assert sorted(sink.data.raw_values()) == [1.0, 1.0, 2.0, 2.0, 3.0]
    assert s.depth == 0 and s.in_flight == 0


def test_server_concurrency_is_real():
    sink = Sink()
    s = Server("S", concurrency=3, service_time=1.0, downstream=sink)
    sim = make_sim(entities=[s, sink])
    sim.schedule(_burst(s, 7))
    sim.run()
    assert sorted(sink.data.raw_values()) == [1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0]


class Work(QueuedResource):
    def __init__(self, name, down, **kw):
        super().__init__(name, **kw)
        self.down = down

    def handle_queued_event(self, event):
        yield 1.0
        return self.forward(event, self.down)


def test_queued_resource_default_concurrency_is_one():
    sink = Sink()
    w = Work("W", sink)
    assert w.concurrency == 1
    sim = make_sim(entities=[w, sink])
    sim.schedule(_burst(w, 4))
    sim.run()
    assert sink.data.raw_values() == [1.0, 2.0, 3.0, 4.0]


def test_queued_resource_concurrency_and_seam():
    sink = Sink()
    w = Work("W", sink, concurrency=2)
    instr = RecordingInstr(w)
    w._instr = instr
    sim = make_sim(observability=False, entities=[w, sink])
    sim.schedule(_burst(w, 5))
    sim.run()
    assert sink.data.raw_values() == [1.0, 1.0, 2.0, 2.0, 3.0]
    assert instr.waits == [0.0, 0.0, 1.0, 1.0, 2.0]
    assert instr.services == [1.0] * 5
    assert max(c[3] for c in instr.calls if len(c) > 3) == 2


def test_lifo_policy_serves_latest_first():
    order = []

    class L(QueuedResource):
        def handle_queued_event(self, event):
            order.append(event.context["metadata"]["i"])
            yield 1.0

    q = L("L", policy=LIFOQueue())
    sim = make_sim(entities=[q])
    evs = []
    for i in range(4):
        e = Event(0.0, "req", q)
        e.context["metadata"]["i"] = i
        evs.append(e)
    sim.schedule(evs)
    sim.run()
    assert order == [0, 3, 2, 1]
    assert isinstance(QueuedResource("x", policy=FIFOQueue).policy, FIFOQueue)
    with pytest.raises(ValueError, match="fifo"):
        QueuedResource("x", policy="random")


def test_server_subclass_with_custom_service():
    class Twice(Server):
        def handle_queued_event(self, event):
            yield 0.5
            yield 0.5
            return self.forward(event, self.downstream)

    sink = Sink()
    s = Twice("T", downstream=sink)
    sim = make_sim(entities=[s, sink])
    sim.schedule(_burst(s, 2))
    sim.run()
    assert sink.data.raw_values() == [1.0, 2.0]
    assert s.completed == 2


def test_invalid_concurrency():
    with pytest.raises(ValueError):
        Server("S", concurrency=0)


def test_server_default_service_generator_path_matches_fast_path():
    """The documented default ``handle_queued_event`` and the fast path agree."""
    results = []
    for subclass in (False, True):
        sink = Sink()
        if subclass:

            class S2(Server):
                def handle_queued_event(self, event):
                    return Server.handle_queued_event(self, event)

            s = S2("S", service_time=UniformLatency(0.1, 0.3), downstream=sink)
        else:
            s = Server("S", service_time=UniformLatency(0.1, 0.3), downstream=sink)
        src = Source.constant(rate=4.0, target=s, limit=50)
        sim = make_sim(sources=[src], entities=[s, sink], seed=9)
        sim.run()
        results.append(sink.data.samples())
    assert results[0] == results[1]


def test_counter_and_sink_stats():
    c = Counter()
    sim = make_sim(entities=[c])
    sim.schedule([Event(0.0, "a", c), Event(1.0, "b", c), Event(2.0, "a", c)])
    sim.run()
    assert c.count() == 3 and c.count("a") == 2 and c.count("zzz") == 0


def test_queue_and_driver():
    sink = Sink()
    srv = Server("S", service_time=1.0, downstream=sink)
    q = Queue("Q", capacity=10)
    QueueDriver("D", q, srv, poll_interval=0.25)
    sim = make_sim(entities=[q, srv, sink])
    sim.schedule(_burst(q, 3))
    sim.run()
    assert sink.count == 3
    assert q.depth == 0


def test_completion_hooks_on_server_requests_fire_at_departure():
    fired = []
    sink = Sink()
    s = Server("S", service_time=2.0, downstream=sink)
    sim = make_sim(entities=[s, sink])
    sim.schedule(Event(1.0, "req", s, on_complete=lambda t: fired.append(t.to_seconds())))
    sim.run()
    assert fired == [3.0]
