"""Reading ``.context`` of the events `control.step` / `peek_next` return shifts the
trace ids of every later request.

Found by the session-11 review (rev3), by experiment; area: core/event.py's lazy
context (a context, and its id from the simulation's context counter, is made on first
access) seen through core/run_loop.py's stepping. The same at the session start
(434dc2c): not introduced by this session. Stepping and looking at what was stepped is
what `step` is for, but ``event.context`` on a source tick (which has no context) draws
an id from the counter, so the next request gets the following one: Users -> Server,
paused at 0.5 s and stepped 20 times reading each stepped event's context, stores 32
spans whose trace ids differ from the uninterrupted run's (request 6 is stored as trace
8, ...). A breakpoint ``condition`` reading ``state.last_event.context`` does the same
without any stepping. A paused and resumed run must answer as the uninterrupted one; so
must the ids a model may use."""

from __future__ import annotations

import pytest

from happysimulator import ExponentialLatency, Server, Simulation, Source
from happysimulator.observability import ObservabilityConfig


def _sim() -> Simulation:
    s = Server("S", service_time=ExponentialLatency(0.05))
    src = Source.poisson(rate=10, target=s, stop_after=2, name="Users")
    return Simulation(sources=[src], entities=[s], seed=1,
                      observability=ObservabilityConfig.full())


def _trace_ids(sim: Simulation) -> list[tuple]:
    return sorted((sp.entity, sp.start, sp.trace_id) for sp in sim.query.trace_store.spans())


@pytest.mark.parametrize("peek", [False, True])
def test_reading_stepped_events_leaves_the_trace_ids_alone(peek):
    straight = _sim()
    straight.run()
    stepped = _sim()
    stepped.run(until=0.5)
    for _ in range(20):
        if peek:
            for e in stepped.control.peek_next(2):
                assert e.context is not None
        for e in stepped.control.step(1):
            assert e.context is not None
    stepped.run()
    assert _trace_ids(stepped) == _trace_ids(straight)


def test_a_breakpoint_condition_reading_the_context_leaves_the_trace_ids_alone():
    from happysimulator.observability import Breakpoint

    straight = _sim()
    straight.run()
    watched = _sim()
    watched.control.add_breakpoint(Breakpoint(
        condition=lambda st: st.last_event is not None
        and st.last_event.context.get("id") == -1))  # (never true: it only looks)
    assert watched.run().stop_reason == "complete"
    assert _trace_ids(watched) == _trace_ids(straight)
