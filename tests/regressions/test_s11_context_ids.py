"""Requests whose context carries an id the fact recorder cannot pack as int64.

Found by the session-11 review (rev3), by experiment; area: observability/
fact_recorder.py ``_ints`` (now ``struct.pack_into``) fed by a station's traced ids
(``context["id"]`` taken as is). happysim 0.2.5 gives every event a *string* context id
and its models pass ``context={...}`` around, so a request arriving with ``{"id": "r1"}``
is a compatibility case. With full observability:

- "r1" or 2**70: the run fails at its end (the flush). At the session start (434dc2c)
  with ValueError / OverflowError; now with ``struct.error`` ("required argument is not
  an integer", "argument out of range"), which is neither: code catching ValueError no
  longer catches it, and neither message names the context id (regression of this
  session: `test_a_bad_context_id_fails_with_a_standard_error`).
- 1.5: at the session start silently truncated to trace 1, merged with the next
  request's trace (a wrong answer); now ``struct.error``. Both wrong
  (`test_a_float_context_id_is_not_merged_into_another_trace`).
- "r1" at all: the trace store keeps non-integer trace ids, yet the run fails (both
  wrong: `test_a_string_context_id_runs_with_full_observability`)."""

from __future__ import annotations

import pytest

from happysimulator import Event, ExponentialLatency, Server, Simulation
from happysimulator.observability import ObservabilityConfig


def _sim(context_id: object) -> Simulation:
    s = Server("S", service_time=ExponentialLatency(0.1))
    sim = Simulation(entities=[s], seed=1, observability=ObservabilityConfig.full())
    sim.schedule(Event(time=1.0, event_type="Request", target=s, context={"id": context_id}))
    sim.schedule(Event(time=1.2, event_type="Request", target=s))  # (its id: 1)
    return sim


@pytest.mark.parametrize("context_id", ["r1", 2**70])
def test_a_bad_context_id_fails_with_a_standard_error(context_id):
    sim = _sim(context_id)
    try:
        sim.run()
    except (TypeError, ValueError, OverflowError):
        pass  # refused with an error of a standard type (or accepted: no error)


def test_a_float_context_id_is_not_merged_into_another_trace():
    sim = _sim(1.5)
    try:
        sim.run()
    except (TypeError, ValueError):
        return  # refused clearly: fine
    assert len(sim.query.trace_store.trace_ids()) == 2


def test_a_string_context_id_runs_with_full_observability():
    sim = _sim("r1")
    sim.run()
    assert sorted(map(str, sim.query.trace_store.trace_ids())) == ["1", "r1"]


@pytest.mark.parametrize("context_id", ["r1", 2**70, 1.5, -(2**63)])
def test_an_odd_id_keeps_the_trace_an_integer_id_would_have(context_id):
    """The same spans (entities, times, attributes, the chain of parents) as the
    request would have under an integer id, stored with the id as given; the other
    request's trace is untouched."""
    from happysimulator import Sink

    def run(cid):
        sink = Sink("K")
        s = Server("S", service_time=ExponentialLatency(0.1), downstream=sink)
        sim = Simulation(entities=[s, sink], seed=1,
                         observability=ObservabilityConfig.full())
        sim.schedule(Event(time=1.0, event_type="Request", target=s, context={"id": cid}))
        sim.schedule(Event(time=1.05, event_type="Request", target=s))
        sim.run()
        return sim.query.trace_store

    def shape(spans):
        ids = {sp.span_id: i for i, sp in enumerate(spans)}
        return [(sp.entity, sp.start, sp.end, sp.attributes, ids.get(sp.parent_id))
                for sp in spans]

    odd, plain = run(context_id), run(10**6)
    assert [sp.trace_id for sp in odd.trace(context_id)] == [context_id] * 2
    assert shape(odd.trace(context_id)) == shape(plain.trace(10**6))
    assert shape(odd.trace(1)) == shape(plain.trace(1))
    assert len(odd.trace_ids()) == 2


@pytest.mark.parametrize("live", [False, True])
def test_a_string_id_with_sampling_and_a_live_span_stream(live):
    s = Server("S", service_time=ExponentialLatency(0.1))
    sim = Simulation(entities=[s], seed=1,
                     observability=ObservabilityConfig(trace_sample_rate=0.5))
    seen = []
    if live:
        sim.observations.spans(source="S").subscribe(lambda o: seen.append(o.value))
    sim.schedule(Event(time=1.0, event_type="Request", target=s, context={"id": "r1"}))
    sim.run()
    assert [sp.trace_id for sp in sim.query.trace_store.trace("r1")] == ["r1"]
    assert [sp.trace_id for sp in seen] == (["r1"] if live else [])
