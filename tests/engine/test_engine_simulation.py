"""Run-loop semantics: end_time, open-ended termination, resumability, seams."""

import pytest
from engine_testkit import RecordingInstr, make_sim

from happysimulator import (
    Duration,
    Entity,
    Event,
    ExponentialLatency,
    InMemoryTraceRecorder,
    Instant,
    LatencyTracker,
    Probe,
    Server,
    SimFuture,
    Sink,
    Source,
)


class Ticker(Entity):
    """Schedules itself every ``period`` seconds forever and logs the times it ran."""

    def __init__(self, period=1.0):
        super().__init__("ticker")
        self.period = period
        self.times = []

    def handle_event(self, event):
        self.times.append(self.now.to_seconds())
        return Event(self.now + self.period, "tick", self)


def test_no_event_runs_past_end_time_and_event_at_end_runs():
    t = Ticker(1.0)
    sim = make_sim(entities=[t], end_time=5.0)
    sim.schedule(Event(0.0, "tick", t))
    summary = sim.run()
    assert t.times == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert summary.stop_reason == "end_time"
    assert sim.now == Instant.from_seconds(5.0)
    # resuming does not run the pending event at t=6
    assert sim.run().stop_reason == "end_time"
    assert t.times[-1] == 5.0


def test_duration_and_end_time_are_exclusive():
    with pytest.raises(ValueError):
        make_sim(end_time=1.0, duration=1.0)
    sim = make_sim(start_time=2.0, duration=3.0)
    assert sim.end_time == Instant.from_seconds(5.0)


def test_end_time_between_events_advances_clock_to_end():
    t = Ticker(10.0)
    sim = make_sim(entities=[t], end_time=25.0)
    sim.schedule(Event(0.0, "tick", t))
    sim.run()
    assert t.times == [0.0, 10.0, 20.0]
    assert sim.now.to_seconds() == 25.0


def test_open_ended_run_ends_after_stop_after_despite_probes_and_timers():
    server = Server("S", service_time=ExponentialLatency(0.05))
    sink = Sink("K")
    server.downstream = sink
    src = Source.poisson(rate=5.0, target=server, stop_after=20.0)
    probe, depth = Probe.on(server, "depth", interval=0.5)
    sim = make_sim(sources=[src], entities=[server, sink], probes=[probe], seed=3)
    sim.clock.call_at(0.0, lambda: None)
    summary = sim.run()
    assert summary.stop_reason == "complete"
    assert src.finished
    assert sink.count == src.generated == server.completed > 50
    assert max(sink.data.times()) <= 20.0 + 5  # last departures shortly after 20 s
    assert sink.data.times()[-1] == sim.now.to_seconds()  # stopped at the last model event
    # the probe sampled every 0.5 s while the model ran, and no longer
    assert len(depth) == int(sim.now.to_seconds() / 0.5) + 1
    assert depth.times()[:3] == [0.0, 0.5, 1.0]


def test_source_limit_counts_requests():
    sink = Sink()
    src = Source.constant(rate=2.0, target=sink, limit=7)
    sim = make_sim(sources=[src], entities=[sink])
    sim.run()
    assert sink.count == 7
    assert sink.data.times() == [0.5 * k for k in range(1, 8)]


def _mm1(seed, **kw):
    server = Server("S", service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("K")
    server.downstream = sink
    src = Source.poisson(rate=8.0, target=server, limit=400)
    instr = RecordingInstr(server)
    server._instr = instr
    sim = make_sim(observability=False, sources=[src], entities=[server, sink], seed=seed, **kw)
    return sim, sink, instr


def test_run_loop_resumable_in_chunks_gives_same_sequence():
    sim1, sink1, in1 = _mm1(11)
    assert sim1._run_loop() == "complete"
    sim2, sink2, in2 = _mm1(11)
    chunks = 0
    while (reason := sim2._run_loop(max_events=7)) == "max_events":
        chunks += 1
    assert reason == "complete" and chunks > 10
    assert in1.calls == in2.calls
    assert sink1.data.samples() == sink2.data.samples()
    assert sim1.events_processed == sim2.events_processed


def test_run_loop_until_chunks_and_step_counts():
    sim1, sink1, in1 = _mm1(5)
    sim1._run_loop()
    sim2, sink2, in2 = _mm1(5)
    t = 0
    reasons = set()
    while (reason := sim2._run_loop(until_ns=t)) == "until":
        reasons.add(reason)
        assert sim2.now.nanoseconds == t
        t += 1_000_000_000
    assert reason == "complete"
    assert in1.calls == in2.calls
    sim3, _, _ = _mm1(5)
    assert sim3._run_loop(max_events=10) == "max_events"
    assert sim3.events_processed == 10


def test_trace_recorder_sees_same_events_as_fast_path():
    sim1, sink1, _ = _mm1(2)
    sim1.run()
    rec = InMemoryTraceRecorder()
    sim2, sink2, _ = _mm1(2, trace_recorder=rec)
    sim2.run()
    events = rec.filter("simulation.dequeue")
    assert len(events) == sim2.events_processed == sim1.events_processed
    assert sink1.data.samples() == sink2.data.samples()
    assert {e["event_type"] for e in events} == {"source.tick", "Request", "service.done"}


def test_hook_called_per_event_and_can_pause_and_resume():
    sim, sink, _ = _mm1(4)
    seen = []

    def hook(ev):
        seen.append(ev)
        return len(seen) == 25

    sim._hook = hook
    assert sim._run_loop() == "paused"
    assert sim.events_processed == 25
    assert sim._run_loop() == "complete"
    assert len(seen) == sim.events_processed
    ref, ref_sink, _ = _mm1(4)
    ref.run()
    assert ref_sink.data.samples() == sink.data.samples()


def test_pause_at_ns_stops_before_later_events():
    t = Ticker(1.0)
    sim = make_sim(entities=[t], end_time=10.0)
    sim.schedule(Event(0.0, "tick", t))
    sim._pause_at_ns = 3_500_000_000
    assert sim._run_loop() == "paused"
    assert t.times == [0.0, 1.0, 2.0, 3.0]
    assert sim.now.to_seconds() == 3.5
    assert sim._pause_at_ns is None
    assert sim._run_loop() == "end_time"
    assert t.times[-1] == 10.0


def test_request_pause_from_handler_stops_after_current_event():
    class P(Entity):
        def __init__(self):
            super().__init__("p")
            self.n = 0

        def handle_event(self, event):
            self.n += 1
            if self.n == 3:
                self._sim.request_pause("third")
            return Event(self.now + 1.0, "again", self) if self.n < 6 else None

    p = P()
    sim = make_sim(entities=[p])
    sim.schedule(Event(0.0, "go", p))
    s = sim.run()
    assert (s.stop_reason, s.paused_by, p.n) == ("paused", "third", 3)
    assert sim.run().stop_reason == "complete" and p.n == 6


def test_generator_handler_delays_tuples_and_futures():
    fut = SimFuture()
    log = []

    class G(Entity):
        def handle_event(self, event):
            log.append(("start", self.now.to_seconds()))
            yield 1.0
            log.append(("after-1", self.now.to_seconds()))
            yield Duration.from_seconds(0.5)
            yield (0.25, [Event.once(self.now + 1.0, "resolve", lambda e: fut.resolve("v"))])
            log.append(("after-tuple", self.now.to_seconds()))
            value = yield fut
            log.append(("future", self.now.to_seconds(), value))
            return Event(self.now + 1.0, "done", sink)

    sink = Sink()
    g = G("g")
    sim = make_sim(entities=[g, sink])
    sim.schedule(Event(0.0, "go", g))
    sim.run()
    assert log == [
        ("start", 0.0),
        ("after-1", 1.0),
        ("after-tuple", 1.75),
        ("future", 2.5, "v"),
    ]
    assert sink.count == 1 and sim.now.to_seconds() == 3.5


def test_any_of_and_all_of():
    a, b = SimFuture(), SimFuture()
    results = {}

    class G(Entity):
        def handle_event(self, event):
            v = yield SimFuture.any_of(a, b)
            results["any"] = (v, self.now.to_seconds())
            v = yield SimFuture.all_of([a, b])
            results["all"] = (v, self.now.to_seconds())

    g = G("g")
    sim = make_sim(entities=[g])
    sim.schedule(
        [
            Event(0.0, "go", g),
            Event.once(2.0, "b", lambda e: b.resolve("B")),
            Event.once(3.0, "a", lambda e: a.resolve("A")),
        ]
    )
    sim.run()
    assert results["any"] == ((1, "B"), 2.0)
    assert results["all"] == (["A", "B"], 3.0)
    a.resolve("again")  # the first value wins (happysim 0.2.5 semantics)
    assert a.value == "A"


def test_completion_hooks_run_when_generator_finishes():
    done = []

    class G(Entity):
        def handle_event(self, event):
            yield 2.0

    g = G("g")
    sim = make_sim(entities=[g])
    sim.schedule(Event(1.0, "go", g, on_complete=lambda t: done.append(t.to_seconds())))
    sim.run()
    assert done == [3.0]


def test_context_lazy_per_simulation_ids_and_forward_keeps_it():
    ids = []

    class Fwd(Entity):
        def __init__(self, name, to):
            super().__init__(name)
            self.to = to

        def handle_event(self, event):
            return self.forward(event, self.to)

    class Rec(Entity):
        def handle_event(self, event):
            ids.append((event.context["id"], event.context["created_at"].to_seconds()))

    def run_once():
        ids.clear()
        r = Rec("r")
        f = Fwd("f", r)
        sim = make_sim(entities=[f, r])
        sim.schedule([Event(1.0, "a", f), Event(2.0, "b", f)])
        sim.run()
        return list(ids)

    first = run_once()
    second = run_once()
    assert first == second == [(1, 1.0), (2, 2.0)]  # ids restart per simulation
    e = Event(0.0, "x", None)
    assert e._ctx is None  # nothing allocated until read
    assert set(e.context) >= {"id", "created_at", "metadata"}


def test_sink_latency_uses_created_at_from_context():
    sink = Sink()
    sim = make_sim(entities=[sink])
    e = Event(5.0, "req", sink, context={"created_at": Instant.from_seconds(2.0)})
    sim.schedule(e)
    sim.run()
    assert sink.data.raw_values() == [3.0]


def test_scheduling_in_the_past_is_an_error():
    class Bad(Entity):
        def handle_event(self, event):
            return Event(0.5, "past", self)

    b = Bad("b")
    sim = make_sim(entities=[b])
    sim.schedule(Event(1.0, "go", b))
    with pytest.raises(ValueError, match="past"):
        sim.run()


def test_bad_handler_result_is_a_type_error():
    class Bad(Entity):
        def handle_event(self, event):
            return 42

    b = Bad("b")
    sim = make_sim(entities=[b])
    sim.schedule(Event(1.0, "go", b))
    with pytest.raises(TypeError, match="generator"):
        sim.run()


def test_clock_protocol():
    sim = make_sim()
    assert sim.clock.now() == 0.0
    h = sim.clock.call_at(2.0, lambda: None)
    assert hasattr(h, "cancel")
    assert sim.heap_size == 1 and not sim.has_pending_work()
