"""The engine's internal events share one class (`Wakeup`, for the run loop's sake) but
answer ``isinstance`` as the kinds they stand for: a source's tick is a ``SourceTick``, a
server's completion a ``ServiceDone``, a resource's generator resume a
``ProcessContinuation`` (found and cancelled by scanning the heap, as happysim 0.2.5
models do) -- and nothing else."""

from __future__ import annotations

from happysimulator import Event, QueuedResource, Server, Simulation, Sink, Source
from happysimulator.components.server import ServiceDone
from happysimulator.core.event import ProcessContinuation, Wakeup
from happysimulator.core.process import Process
from happysimulator.load import SourceEvent, SourceTick


def _heap_events(sim: Simulation) -> list[Event]:
    return [entry[3] for entry in sim._heap if isinstance(entry[3], Event)]


def _kinds(ev: Event) -> tuple[bool, bool, bool, bool]:
    return (isinstance(ev, SourceTick), isinstance(ev, ServiceDone),
            isinstance(ev, ProcessContinuation), isinstance(ev, Process))


def test_ticks_and_completions_answer_their_own_kind() -> None:
    sink = Sink("sink")
    server = Server("server", service_time=0.5, downstream=sink)
    source = Source.constant(rate=1.0, target=server, stop_after=5.0)
    sim = Simulation(sources=[source], entities=[server, sink], end_time=20.0)
    sim.run(until=2.2)
    evs = _heap_events(sim)
    ticks = [e for e in evs if e.target is source]
    dones = [e for e in evs if e.target is server.done_port]
    assert len(ticks) == 1 and len(dones) == 1
    assert _kinds(ticks[0]) == (True, False, False, False)
    assert isinstance(ticks[0], SourceEvent) and isinstance(ticks[0], Event)
    assert ticks[0].event_type == "source.tick"
    assert _kinds(dones[0]) == (False, True, False, False)
    assert dones[0].event_type == "service.done"
    # a plain request is none of them, and an internal event is no plain Event's class
    req = Event(1.0, "Request", sink)
    assert _kinds(req) == (False, False, False, False)
    assert type(ticks[0]) is Wakeup and type(req) is Event


def test_a_resources_generator_resume_is_a_continuation_and_cancels() -> None:
    done: list[float] = []

    class Worker(QueuedResource):
        def handle_queued_event(self, event):
            yield 1.0
            done.append(self.now.to_seconds())

    worker = Worker("worker", concurrency=1)
    source = Source.constant(rate=1.0, target=worker, stop_after=3.0)
    sim = Simulation(sources=[source], entities=[worker], end_time=10.0)
    sim.run(until=2.5)  # services of the requests of t=1 (done at 2) and t=2 (at 3)
    assert done == [2.0]
    conts = [e for e in _heap_events(sim) if isinstance(e, ProcessContinuation)]
    assert len(conts) == 1 and not isinstance(conts[0], SourceTick)
    assert type(conts[0]) is Wakeup  # (the lean path: the service's own Wakeup)
    assert conts[0].event_type == "Request" and conts[0].time.to_seconds() == 3.0
    conts[0].cancel()  # abandons the rest of that service
    sim.run()
    assert done == [2.0]
    assert worker.completed == 1 and worker.in_flight == 1
