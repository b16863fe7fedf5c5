"""The ``trace`` operation answers a trace that the bounded trace store evicted, or that
trace sampling left out, exactly as an id that never existed: ``unknown_name``, "no
trace with id 3 (50 traces recorded; sample ids listed)". The store knows better: trace
ids below its floor were evicted (docs/design.md "Bounded trace stores": "a trace below
the smallest kept id (the floor) ... is dropped"), and with ``trace_sample_rate`` the
choice is "drawn deterministically from the request id". An agent following a request
id it saw in a metric or an event is told the request does not exist.

Repro (session 12, rev4): Users (Poisson 40/s) -> Server -> Sink for 10 s,
``ObservabilityConfig.full().replace(trace_capacity=50)``: ``trace {trace_id: 3}`` ->
unknown_name "no trace with id 3 (50 traces recorded; sample ids listed)". With
``trace_sample_rate=0.3`` instead: the same message for an id that was not sampled.
Expected: the message says the trace was evicted by ``trace_capacity`` (resp. not
sampled at ``trace_sample_rate``), so that "never existed" is not implied. Area:
happysimulator/observability/protocol/ops_questions.py (_op_trace),
happysim_rx/stores/_trace_bound.py (the floor), trace_sampling.py.
"""

from __future__ import annotations

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol import SessionProtocol


def _session(**config: object) -> SessionProtocol:
    def build(seed: int = 1) -> Simulation:
        sink = Sink("Sink")
        server = Server("S", service_time=ExponentialLatency(0.01), downstream=sink)
        users = Source.poisson(rate=40.0, target=server, name="Users", stop_after=10.0)
        return Simulation(sources=[users], entities=[server, sink], seed=seed,
                          end_time=10.0,
                          observability=ObservabilityConfig.full().replace(**config))

    session = SessionProtocol(build, default_wait_s=60)
    session.handle({"op": "run"})
    return session


def test_an_evicted_trace_is_said_to_be_evicted() -> None:
    session = _session(trace_capacity=50)
    try:
        answer = session.handle({"op": "trace", "trace_id": 3})
        assert not answer["ok"]
        assert "evicted" in answer["error"]["message"] or \
            "trace_capacity" in answer["error"]["message"], answer["error"]["message"]
    finally:
        session.close()


def test_an_unsampled_trace_is_said_to_be_unsampled() -> None:
    session = _session(trace_sample_rate=0.3)
    try:
        kept = {s.trace_id for s in session._sim.query.trace_store.spans()}
        missing = next(i for i in range(1, 400) if i not in kept)
        answer = session.handle({"op": "trace", "trace_id": missing})
        assert not answer["ok"]
        assert "sampl" in answer["error"]["message"].replace("sample ids", ""), \
            answer["error"]["message"]
    finally:
        session.close()
