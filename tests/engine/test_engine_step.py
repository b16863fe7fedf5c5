"""`Simulation.step()` (one event at a time) and `sim.engine` (what components use of
the loop): both must behave exactly like the bulk run loop and `sim.schedule`."""

from __future__ import annotations

from engine_testkit import RecordingInstr, make_sim
from hypothesis import given, settings
from hypothesis import strategies as st

from happysimulator import (
    Entity,
    Event,
    ExponentialLatency,
    LatencyTracker,
    Server,
    Simulation,
    Source,
)
from happysimulator.core.engine import recyclable_types
from happysimulator.core.event_heap import TimerHandle


def _mm1(seed: int, observability=False, **kw):
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    src = Source.poisson(rate=8.0, target=server, limit=200)
    instr = RecordingInstr(server)
    server._instr = instr
    sim = Simulation(sources=[src], entities=[server, sink], seed=seed,
                     observability=observability, **kw)
    return sim, sink, instr


def _trace(sim: Simulation) -> list[tuple[float, str]]:
    """(time, event type) of every model event a full run processes, via the hook seam."""
    seen: list[tuple[float, str]] = []
    sim._hook = lambda ev: seen.append((ev.time.to_seconds(), ev.event_type)) or False
    sim._run_loop()
    sim._hook = None
    return seen


def test_step_n_times_equals_run_max_events_n():
    ref, ref_sink, ref_in = _mm1(3)
    order = _trace(_mm1(3)[0])
    for n in (1, 2, 7, 50):
        sim, sink, instr = _mm1(3)
        stepped = [sim.step() for _ in range(n)]
        bulk, bulk_sink, bulk_in = _mm1(3)
        bulk.run(max_events=n)
        assert [(e.time.to_seconds(), e.event_type) for e in stepped] == order[:n]
        assert sim.events_processed == bulk.events_processed == n
        assert sim.now == bulk.now
        assert instr.calls == bulk_in.calls
        assert sink.data.samples() == bulk_sink.data.samples()
    # and stepping to the end gives the whole run
    ref.run()
    sim, sink, instr = _mm1(3)
    n = 0
    while sim.step() is not None:
        n += 1
    assert n == ref.events_processed and sim.last_stop_reason == "complete"
    assert sink.data.samples() == ref_sink.data.samples() and instr.calls == ref_in.calls
    assert sim.step() is None and sim.events_processed == n


def test_step_with_observability_goes_through_the_control():
    plain, plain_sink, _ = _mm1(5)
    plain.run(max_events=30)
    sim, sink, _ = _mm1(5, observability=None)
    ran = [sim.step() for _ in range(30)]
    assert None not in ran and sim.events_processed == 30
    assert sim.control.is_paused and sim.control.get_state().last_event is ran[-1]
    assert sink.data.samples() == plain_sink.data.samples()
    assert sim.now == plain.now


def test_step_stops_at_end_time_and_runs_due_timers_first():
    class Ticker(Entity):
        def handle_event(self, event):
            return Event(self.now + 1.0, "tick", self)

    t = Ticker("t")
    sim = make_sim(entities=[t], end_time=2.5)
    sim.schedule(Event(0.0, "tick", t))
    fired: list[float] = []
    sim.clock.call_at(1.0, lambda: fired.append(sim.clock.now()))
    assert sim.step().time.to_seconds() == 0.0 and fired == []
    # the timer at 1.0 runs before the tick at 1.0, and is not counted
    assert sim.step().time.to_seconds() == 1.0 and fired == [1.0]
    assert sim.step().time.to_seconds() == 2.0 and sim.events_processed == 3
    assert sim.step() is None
    assert sim.last_stop_reason == "end_time" and sim.now.to_seconds() == 2.5


def test_step_from_inside_a_run_is_refused():
    errors: list[Exception] = []

    class Nested(Entity):
        def handle_event(self, event):
            try:
                self._sim.step()
            except RuntimeError as exc:
                errors.append(exc)

    for observability in (False, None):
        n = Nested("n")
        sim = Simulation(entities=[n], observability=observability)
        sim.schedule(Event(1.0, "x", n))
        sim.schedule(Event(2.0, "x", n))
        sim.run()
        assert sim.events_processed == 2 and len(errors) == 2
        assert "already running" in str(errors[-1])
        errors.clear()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 50),
       ops=st.lists(st.tuples(st.sampled_from(["step", "max", "until"]),
                              st.integers(1, 40)), max_size=12))
def test_any_mix_of_steps_and_chunks_gives_the_single_run(seed, ops):
    ref, ref_sink, ref_in = _mm1(seed)
    ref.run()
    sim, sink, instr = _mm1(seed)
    for kind, k in ops:
        if kind == "step":
            before = sim.events_processed
            ev = sim.step()
            assert sim.events_processed == before + (ev is not None)
        elif kind == "max":
            sim.run(max_events=k)
        else:
            sim.run(until=sim.now.to_seconds() + k / 10)
    sim.run()
    assert sim.events_processed == ref.events_processed and sim.now == ref.now
    assert instr.calls == ref_in.calls and sink.data.samples() == ref_sink.data.samples()


# ---- sim.engine -------------------------------------------------------------------------
class Pinger(Entity):
    """Sends itself `n` pings `gap` apart and one same-time echo per ping, scheduling
    either through `sim.schedule` or through the trusted `sim.engine.schedule_at`."""

    def __init__(self, trusted: bool, n: int = 20) -> None:
        super().__init__("pinger")
        self.trusted, self.n, self.log = trusted, n, []

    def _send(self, ev: Event) -> None:
        if self.trusted:
            self._sim.engine.schedule_at(ev._time_ns, ev)
        else:
            self._sim.schedule(ev)

    def handle_event(self, event):
        self.log.append((self.now.to_seconds(), event.event_type))
        if event.event_type == "ping" and len(self.log) < 3 * self.n:
            self._send(Event(self.now, "echo", self))
            self._send(Event(self.now + 0.25, "ping", self))
        return None


def test_engine_schedule_at_behaves_like_schedule():
    logs = []
    for trusted in (False, True):
        p = Pinger(trusted)
        other = Pinger(False)
        other.name = "other"
        sim = make_sim(entities=[p, other], end_time=100.0)
        for t in (0.0, 0.25, 0.5):  # same-time model events of another entity interleave
            sim.schedule(Event(t, "noise", other))
        sim.schedule(Event(0.0, "ping", p))
        summary = sim.run()
        logs.append((p.log, other.log, summary.total_events_processed, sim.now))
    assert logs[0] == logs[1] and len(logs[0][0]) > 20


def test_engine_schedule_timer_is_a_daemon_clock_timer_before_same_time_events():
    order: list[str] = []

    class E(Entity):
        def handle_event(self, event):
            order.append(event.event_type)

    e = E("e")
    sim = make_sim(entities=[e])
    sim.schedule(Event(1.0, "model", e))
    sim.engine.schedule_timer(1_000_000_000, TimerHandle(lambda: order.append("timer"),
                                                         1_000_000_000))
    # a timer alone does not keep an open-ended run alive
    sim.engine.schedule_timer(5_000_000_000, TimerHandle(lambda: order.append("late"),
                                                         5_000_000_000))
    assert sim.run().stop_reason == "complete"
    assert order == ["timer", "model"]


def test_engine_pending_timers_lists_live_clock_timers_only():
    sim = make_sim(observability=False)  # (no flush timers of its own)
    a = sim.clock.call_at(1.0, lambda: None)
    b = sim.clock.call_at(2.0, lambda: None)
    sim.clock.call_at(3.0, lambda: None).cancel()
    sim.schedule(Event(1.0, "model", LatencyTracker("s")))
    sim.interrupt()  # an interrupt entry is not a timer
    assert set(sim.engine.pending_timers()) == {a, b}
    sim.drop_interrupts()


def test_engine_may_recycle_only_while_nobody_sees_processed_events():
    seen: list[bool] = []

    class Probe(Entity):
        def handle_event(self, event):
            seen.append((self._sim.engine.may_recycle, self._sim.engine.unseen))

    def run(**seams) -> tuple[bool, bool]:
        p = Probe("p")
        sim = make_sim(entities=[p])
        sim.schedule(Event(1.0, "x", p))
        for k, v in seams.items():
            setattr(sim, k, v)
        seen.clear()
        sim._run_loop()
        # (back to True once the loop stopped)
        assert sim.engine.may_recycle and sim.engine.unseen
        return seen[0]

    assert "service.done" in recyclable_types() and "source.tick" in recyclable_types()
    assert run() == (True, True)
    assert run(_event_log=[]) == (True, True)  # the log keeps no event objects
    # a watcher of another type may keep what it sees, but no recycled type: processes
    # (whose events have their requests' types) stop standing for their continuations
    assert run(_watch_types=frozenset({"x"}), _on_watched=lambda ev: False) == (True, False)
    assert run(_watch_types=frozenset({"service.done"}),
               _on_watched=lambda ev: False) == (False, False)
    assert run(_hook=lambda ev: False) == (False, False)


def test_a_daemon_event_last_in_the_heap_of_a_bounded_run():
    """(regression: the loop indexed an empty heap when a daemon event was the last entry
    of a run with an end_time)"""
    class E(Entity):
        def handle_event(self, event):
            self.ran = True

    e = E("e")
    sim = make_sim(entities=[e], end_time=5.0, observability=False)
    sim.schedule(Event(1.0, "d", e, daemon=True))
    assert sim.run().stop_reason == "complete" and e.ran


def _generator_model(seed: int):
    """A user-written model: a QueuedResource with a generator handler (two yields) and a
    plain entity generator (five), forwarding to a sink that records what it saw."""
    from happysimulator import QueuedResource

    seen: list[tuple[int, int]] = []

    class Sink(Entity):
        def handle_event(self, event):
            seen.append((self.now.nanoseconds, event.context["id"]))

    class Relay(Entity):
        def handle_event(self, event):
            for _ in range(4):
                yield 0.01
            yield 0.0
            return self.forward(event, sink)

    class Worker(QueuedResource):
        def handle_queued_event(self, event):
            yield self.rng.expovariate(10.0)
            yield 0.001
            return self.forward(event, relay)

    sink, relay = Sink("Sink"), Relay("Relay")
    worker = Worker("Worker", concurrency=2)
    src = Source.poisson(rate=15.0, target=worker, limit=300)
    sim = Simulation(sources=[src], entities=[worker, relay, sink], seed=seed,
                     observability=False)
    return sim, seen


def test_generator_processes_stepped_or_run_give_the_same_events_and_keep_what_was_seen():
    """A process stands for its own continuation only while nobody keeps processed
    events: stepping (which hands events out) and running in chunks give the single
    run's events, and an event handed out never changes afterwards."""
    ref, ref_seen = _generator_model(5)
    ref.run()
    sim, seen = _generator_model(5)
    kept = []

    def step(n: int) -> None:
        for _ in range(n):
            ev = sim.step()
            assert ev is not None
            kept.append((ev, ev._time_ns, ev.event_type))

    step(400)
    for _ in range(40):
        sim.run(max_events=20)  # a fast stretch (processes may reuse themselves here),
        step(3)  # then steps that hand some of those processes out: never reused after
    sim.run()
    assert seen == ref_seen and len(seen) == 300
    assert sim.events_processed == ref.events_processed
    assert all(ev._time_ns == t and ev.event_type == et for ev, t, et in kept)


def test_events_a_type_watcher_kept_never_change_afterwards():
    """A watcher of an event type (an event-type breakpoint) may keep the events it sees;
    generator processes, whose continuations carry their requests' type, must then not
    stand for their continuations later."""
    ref, ref_seen = _generator_model(6)
    ref.run()
    sim, seen = _generator_model(6)
    kept = []

    def watcher(ev) -> bool:
        kept.append((ev, ev._time_ns))
        return False

    for _ in range(30):
        sim.run(max_events=15)  # fast stretches, processes may reuse themselves ...
        sim._watch_types, sim._on_watched = frozenset({"Request"}), watcher
        sim.run(max_events=5)  # ... then a watched stretch keeps some of them
        sim._watch_types = sim._on_watched = None
    sim.run()
    assert seen == ref_seen
    assert kept and all(ev._time_ns == t for ev, t in kept)
