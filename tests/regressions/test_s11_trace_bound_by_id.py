"""Session 11, T1 again (found by the fuzzer's Client and LoadBalancer models): a bounded
trace store ranked traces by the order their first span was handed over. A station's
spans are handed over at each flush and a component's (Client, LoadBalancer) when the
span ends, and every pause or read flushes, so which traces were kept depended on when
the run was paused or read: paused at each request, a 16-trace store kept traces 16..30
and 14 where the uninterrupted run kept 15..30 (the fuzzer's case kept 49 spans for 80).

The store now keeps the traces with the largest ids (the requests created last), each
with all its spans: a function of the set of spans handed over. Paused at every request,
read at random instants or run straight through, a bounded run's trace store is the
same, span ids, parents and `complete_from` included."""

from __future__ import annotations

import random

import pytest

from happysimulator.observability import Breakpoint
from tests.oracle.harness import Case, _config, run_case
from tests.oracle.models import ModelSpec, build

_BALANCER = ModelSpec(seed=2, rate=8.0, limit=30, start_time=3e7, concurrency=2,
                      service_mean=0.125, queue_capacity=2, worker=True,
                      worker_service=0.25, probe=True, client_timeout=1.0, balancer=True)
_CLIENT = ModelSpec(seed=5, rate=6.0, limit=40, concurrency=1, service_mean=0.3,
                    queue_capacity=3, client_attempts=3, client_timeout=0.4,
                    client_backoff=True, balancer=True)


def _store(sim) -> tuple:
    ts = sim.query.trace_store
    spans = sorted((s.trace_id, s.span_id, s.parent_id if s.parent_id is not None else -1,
                    s.entity, s.start, s.end) for s in ts.spans())
    return spans, ts.complete_from(sim.now.to_seconds()), sorted(ts.trace_ids())


def _uninterrupted(spec: ModelSpec) -> tuple:
    sim = build(spec, _config("tiny"))
    sim.run()
    return _store(sim)


def _paused_at_every_request(spec: ModelSpec) -> tuple:
    sim = build(spec, _config("tiny"))
    sim.control.add_breakpoint(Breakpoint(event_type="Request"))
    pauses = 0
    while sim.run().stop_reason == "paused":
        pauses += 1
    assert pauses > spec.limit  # (every request paused the run at least once)
    return _store(sim)


def _read_at_random_instants(spec: ModelSpec, seed: int) -> tuple:
    rng = random.Random(seed)
    sim = build(spec, _config("tiny"))
    for t in sorted(rng.uniform(0, spec.limit / spec.rate + 2) for _ in range(12)):
        sim.control.run_until(spec.start_time + t)
        len(sim.query.trace_store)  # a read takes the pending spans in
    sim.run()
    return _store(sim)


@pytest.mark.parametrize("spec", [_BALANCER, _CLIENT], ids=["balancer", "client"])
def test_a_bounded_trace_store_does_not_depend_on_pauses_or_reads(spec):
    want = _uninterrupted(spec)
    spans, _, ids = want
    assert len(ids) == 16 and ids == list(range(ids[0], ids[0] + 16))
    assert {s[3] for s in spans} >= {"LB", "Server", "Sink"}
    assert _paused_at_every_request(spec) == want
    for seed in (1, 2):
        assert _read_at_random_instants(spec, seed) == want


def test_the_fuzzers_case_holds():
    case = Case(_BALANCER, "tiny", schedule=(("bp_type", "Request"),),
                queries=({"kind": "spans", "entity": "*", "aggregates": ["count"]},))
    assert run_case(case) == []
