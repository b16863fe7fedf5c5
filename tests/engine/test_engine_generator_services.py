"""A `QueuedResource` whose ``handle_queued_event`` is a generator: its hot path (the
finishing service starts the next request in its own frame and its service object serves
again) must run exactly what the general path runs."""

from __future__ import annotations

import pytest

from happysimulator import (
    ConstantLatency,
    Duration,
    Entity,
    Event,
    ExponentialLatency,
    QueuedResource,
    SimFuture,
    Source,
)
from happysimulator.observability import InstrumentedEntity, ObservabilityConfig
from tests.engine.engine_testkit import make_sim


def _model(kind: str, concurrency: int, general: bool, observability=None):
    log: list[tuple] = []

    class Worker(QueuedResource):
        def __init__(self, name, downstream):
            super().__init__(name, concurrency=concurrency)
            self.downstream = downstream
            self.service = ExponentialLatency(0.1)

        def handle_queued_event(self, event):
            r = self.rng.random()
            if kind == "mixed" and r < 0.2:
                yield 0.0  # another service may start at this very instant
                yield ConstantLatency(0.0).get_latency()
            elif kind == "mixed" and r < 0.4:
                # done at once (no yield): two events for now
                return [self.forward(event, self.downstream),
                        Event(self.now, "extra", self.downstream)]
            elif kind == "mixed" and r < 0.5:
                yield self.service.sample(self.rng)
                return self.forward(event, self.downstream, "other")  # another type
            elif kind == "mixed" and r < 0.6:
                # an event for now from its first step, then a delay
                yield self.service.sample(self.rng), [Event(self.now, "side", self.downstream)]
            elif kind == "mixed" and r < 0.65:
                yield 0  # an int delay (now), then a Duration
                yield Duration.from_seconds(self.service.sample(self.rng))
            elif kind == "mixed" and r < 0.75:
                # first a future, resolved later with a value the generator is sent
                f = SimFuture()
                rid = event.context["id"]
                later = self.now + self.service.sample(self.rng)
                self._sim.schedule(Event.once(later, "resolve", lambda e: f.resolve(rid)))
                got = yield f
                log.append(("got", self.now.nanoseconds, got == rid))
            yield self.service.sample(self.rng)
            if kind == "quiet":
                return None  # (its service ends the request: the last event of a pause)
            return self.forward(event, self.downstream)

    if general:
        class GeneralWorker(Worker):
            def _done(self, event, start_ns, arr_ns):  # (not the lean path)
                super()._done(event, start_ns, arr_ns)

        cls = GeneralWorker
    else:
        cls = Worker

    class Sink(InstrumentedEntity):
        def handle_event(self, event):
            ctx = event.context
            log.append((self.now.nanoseconds, event.event_type, ctx["id"],
                        ctx["created_at"].nanoseconds))
            self.observe("latency", (self.now - ctx["created_at"]).to_seconds())
            if kind == "mixed" and len(log) % 5 == 0:
                return Event(self.now, "again", worker)  # a second visit, same instant
            return None

    sink = Sink("Sink")
    worker = cls("Server", sink)
    source = Source.poisson(rate=8.0 * concurrency, target=worker, stop_after=60.0)
    sim = make_sim(sources=[source], entities=[worker, sink], seed=3,
                   **({} if observability is None else {"observability": observability}))
    return sim, worker, log


def _run(kind, concurrency, general, hooked=False, observability=None):
    sim, worker, log = _model(kind, concurrency, general, observability)
    if hooked:  # someone sees every processed event: no service object serves twice
        seen = []
        sim._hook = lambda ev: seen.append(ev.event_type) and False
    summary = sim.run()
    return log, (summary.total_events_processed, worker.completed, worker.busy_ns,
                 worker.arrivals, worker.in_flight, worker.depth)


@pytest.mark.parametrize("kind", ["plain", "mixed"])
@pytest.mark.parametrize("concurrency", [1, 3])
def test_hot_path_runs_what_the_general_path_runs(kind, concurrency):
    reference = _run(kind, concurrency, general=True)
    assert len(reference[0]) > 400
    assert _run(kind, concurrency, general=False) == reference
    assert _run(kind, concurrency, general=False, hooked=True) == reference


@pytest.mark.parametrize("kind", ["plain", "mixed"])
def test_hot_path_records_what_the_general_path_records(kind):
    def answers(general):
        sim, _, log = _model(kind, 2, general, ObservabilityConfig.full())
        sim.run()
        q = sim.query
        out = [log]
        for name in ("latency", "wait_time", "service_time", "queue_depth"):
            out.append(q.metrics(name).aggregate("count", "mean", "p99").execute().rows)
        out.append(q.spans().execute().rows)
        out.append(q.events().execute().rows)
        return out

    assert answers(general=False) == answers(general=True)


def test_last_event_of_a_pause_is_not_changed_by_the_next_run():
    sim, _, _ = _model("quiet", 1, general=False, observability=ObservabilityConfig.full())
    kept = []
    for until in range(1, 40):
        sim.run(until=until * 0.73)
        last = sim.control.get_state().last_event
        assert last is not None
        kept.append((last, (last.time, last.event_type, last.target)))
    sim.run()
    assert [(ev.time, ev.event_type, ev.target) for ev, _ in kept] == [s for _, s in kept]
    # (some of them were a finished service, whose object serves again)
    assert any(type(ev.target).__name__ == "_LeanService" for ev, _ in kept)


def test_an_entity_generator_still_finishes_through_the_process():
    out = []

    class Twice(Entity):
        def handle_event(self, event):
            yield 0.5
            out.append(self.now.to_seconds())
            yield 0.25
            out.append(self.now.to_seconds())
            return None

    e = Twice("t")
    sim = make_sim(entities=[e])
    sim.schedule(Event(1.0, "go", e))
    sim.run()
    assert out == [1.5, 1.75]


@pytest.mark.parametrize("general", [True, False])
def test_a_negative_delay_of_a_waiting_request_is_refused(general):
    """The first step of a request that waited (started by the finishing service, on the
    hot path) refuses a negative delay as the general path does."""

    class Worker(QueuedResource):
        def handle_queued_event(self, event):
            yield -1.0 if self.completed == 2 else 0.5

    class GeneralWorker(Worker):
        def _done(self, event, start_ns, arr_ns):
            super()._done(event, start_ns, arr_ns)

    worker = (GeneralWorker if general else Worker)("Server")
    source = Source.constant(rate=10.0, target=worker, stop_after=1.0)
    sim = make_sim(sources=[source], entities=[worker], seed=1)
    with pytest.raises(ValueError, match=r"Server: cannot yield a negative delay \(-1.0\)"):
        sim.run()
    assert worker.completed == 2  # (the third request: a spare serves it)
