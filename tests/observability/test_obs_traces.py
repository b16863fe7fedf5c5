"""Traces: one span per entity visited, linked parent -> child, reconstructable by id."""

from __future__ import annotations

import numpy as np
import pytest
from obs_testkit import metric_arrays, mm1

from happysimulator.observability import ObservabilityConfig


@pytest.fixture(scope="module")
def traced():
    sim, source, server, sink = mm1(seed=11, lam=8.0, mu=10.0, stop_after=300.0)
    sim.run()
    return sim, source, server, sink


def test_every_request_has_a_linked_source_server_sink_chain(traced):
    sim, source, server, sink = traced
    ts = sim.query.trace_store
    ids = ts.trace_ids()
    assert len(ids) == source.generated == sink.count
    assert len(ts) == 3 * sink.count
    span_ids = set()
    for tid in ids:
        spans = ts.trace(tid)
        assert [s.entity for s in spans] == ["Source", "Server", "Sink"], tid
        src, srv, snk = spans
        assert all(s.trace_id == tid for s in spans)
        assert src.parent_id is None
        assert srv.parent_id == src.span_id and snk.parent_id == srv.span_id
        span_ids.update(s.span_id for s in spans)
        # source root and sink leaf are zero-length; the request reaches the server when
        # it is generated and the sink when its service completes
        assert src.start == src.end == srv.start
        assert snk.start == snk.end == srv.end
        assert snk.attributes["latency"] == pytest.approx(snk.start - src.start, abs=2e-9)
        # tree and critical path
        (root,) = ts.tree(tid)
        assert root["entity"] == "Source"
        (child,) = root["children"]
        assert child["entity"] == "Server" and child["span_id"] == srv.span_id
        (leaf,) = child["children"]
        assert leaf["entity"] == "Sink" and leaf["children"] == []
        assert [s.span_id for s in ts.critical_path(tid)] == [s.span_id for s in spans]
    assert len(span_ids) == len(ts)  # span ids are unique


def test_server_spans_are_arrival_to_completion_and_equal_wait_plus_service(traced):
    sim, source, server, sink = traced
    ts = sim.query.trace_store
    srv = sorted((s for s in ts._spans if s.entity == "Server"), key=lambda s: s.trace_id)
    # arrivals (counter change points) in order are the server span starts
    at, _ = metric_arrays(sim, "Server", "arrivals")
    np.testing.assert_array_equal(sorted(s.start for s in srv), at)
    ct, _ = metric_arrays(sim, "Server", "completed")
    np.testing.assert_array_equal(sorted(s.end for s in srv), ct)
    # FIFO, one server: the k-th request (by id) gets the k-th wait and k-th service sample
    _, waits = metric_arrays(sim, "Server", "wait_time")
    _, services = metric_arrays(sim, "Server", "service_time")
    durations = np.array([s.duration for s in srv])
    np.testing.assert_allclose(durations, waits + services, rtol=0, atol=3e-9)
    # sink latency samples are the sink spans' latency attributes, in order
    _, lat = metric_arrays(sim, "Sink", "latency")
    sink_spans = [s for s in ts._spans if s.entity == "Sink"]
    np.testing.assert_array_equal([s.attributes["latency"] for s in sink_spans], lat)
    np.testing.assert_array_equal(sorted(lat), sorted(sink.data.raw_values()))


def test_span_queries_by_entity_and_range(traced):
    sim, *_ = traced
    ts = sim.query.trace_store
    a, b = 100.0, 150.0
    rows = sim.query.spans().from_entity("Server").between(a, b).execute().rows
    brute = [s for s in ts._spans if s.entity == "Server" and a <= s.start < b]
    assert sorted(r["span_id"] for r in rows) == sorted(s.span_id for s in brute)
    assert all(r["duration"] == pytest.approx(r["end"] - r["start"]) for r in rows)
    res = sim.query.spans().from_entity("Server").between(a, b).aggregate("mean", "count").execute()
    assert res.value("count") == len(brute)
    assert res.value("mean") == pytest.approx(np.mean([s.duration for s in brute]), rel=1e-12)


def test_dropped_requests_get_a_dropped_span_and_no_sink_span():
    sim, source, server, sink = mm1(
        seed=3, lam=20.0, mu=10.0, stop_after=60.0, queue_capacity=2, concurrency=2
    )
    sim.run()
    assert server.dropped > 0
    ts = sim.query.trace_store
    dropped = completed = 0
    for tid in ts.trace_ids():
        spans = ts.trace(tid)
        ents = [s.entity for s in spans]
        if ents == ["Source", "Server"]:
            (srv := spans[1])
            assert srv.attributes == {"status": "dropped"} and srv.duration == 0
            assert srv.parent_id == spans[0].span_id
            dropped += 1
        else:
            assert ents == ["Source", "Server", "Sink"]
            assert spans[2].parent_id == spans[1].span_id
            completed += 1
    assert dropped == server.dropped
    assert completed == server.completed == sink.count
    assert sim.query.metrics("dropped").aggregate("sum").execute().scalar == server.dropped


def test_trace_sampling_keeps_whole_traces_only():
    cfg = ObservabilityConfig.full().replace(trace_sample_rate=0.3)
    sim, source, server, sink = mm1(seed=5, lam=8.0, mu=10.0, stop_after=300.0, config=cfg)
    sim.run()
    ts = sim.query.trace_store
    ids = ts.trace_ids()
    for tid in ids:
        assert [s.entity for s in ts.trace(tid)] == ["Source", "Server", "Sink"]
    frac = len(ids) / source.generated
    # binomial: n ~ 2400, sd ~ 0.0094
    assert abs(frac - 0.3) < 0.05
    # metrics are not sampled
    assert sim.query.metrics("latency").aggregate("count").execute().scalar == sink.count


def test_a_request_context_seen_by_user_code_is_complete_and_is_its_trace():
    """Traced sources give each request a compact context (id and creation time); user
    code always sees the full ``{"id", "created_at", "metadata"}`` and the trace that
    carries that id is the request's."""
    from happysimulator import Entity, Instant, LatencyTracker, Simulation, Source

    seen = []

    class Peek(Entity):
        def handle_event(self, event):
            ctx = event.context
            seen.append((dict(ctx), event.time))
            ctx["metadata"]["peeked"] = True
            return self.forward(event, sink)

    sink = LatencyTracker("Sink")
    peek = Peek("Peek")
    source = Source.poisson(rate=5.0, target=peek, stop_after=20.0)
    sim = Simulation(sources=[source], entities=[peek, sink], seed=3,
                     observability=ObservabilityConfig.full())
    sim.run()
    assert len(seen) == source.generated > 50
    ts = sim.query.trace_store
    for ctx, at in seen:
        assert set(ctx) >= {"id", "created_at", "metadata"}
        assert isinstance(ctx["created_at"], Instant) and ctx["created_at"] == at
        spans = ts.trace(ctx["id"])
        assert [s.entity for s in spans] == ["Source", "Sink"]
        assert spans[0].start == at.to_seconds()
        assert spans[1].attributes["latency"] == 0.0  # Peek forwards at once
    ids = [ctx["id"] for ctx, _ in seen]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)  # creation order
