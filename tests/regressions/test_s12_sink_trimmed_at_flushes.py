"""A sink that `ObservabilityConfig.streaming()` bounds is trimmed on the runtime's flush
schedule, not checked on every request (session 12: the check cost ~500 instructions
per request). Its legacy list stays bounded, it keeps exactly the newest samples, and
its whole-run answers are those of an unbounded run; a bound the user sets keeps
trimming per request, and ``max_samples = None`` turns either off."""

import pytest

from happysimulator import ExponentialLatency, LatencyTracker, Server, Simulation, Source
from happysimulator.observability import ObservabilityConfig

CAP = 256


def _run(config, *, max_samples=None, unbound=False, stop_after=400.0):
    server = Server("Server", concurrency=1, service_time=ExponentialLatency(0.008))
    sink = LatencyTracker("Sink", max_samples=max_samples)
    server.downstream = sink
    source = Source.poisson(rate=100.0, target=server, stop_after=stop_after)
    sim = Simulation(sources=[source], entities=[server, sink], seed=5, observability=config)
    if unbound:
        sink.max_samples = None
    longest = 0
    flushes = []  # (requests so far, samples kept after the flush's trim)
    trim = sink.trim_if_over

    def trim_if_over():
        trim()
        flushes.append((sink.count, len(sink.data._times)))

    sink.trim_if_over = trim_if_over
    while sim.control.run_until(sim.clock.now() + 20.0).stop_reason != "complete":
        longest = max(longest, len(sink.data._times))
    sim.flushes = flushes
    return sim, sink, max(longest, len(sink.data._times))


def test_streaming_sink_is_trimmed_on_the_flush_schedule():
    cfg = ObservabilityConfig.streaming().replace(raw_samples=CAP)
    sim, sink, longest = _run(cfg)
    _, exact, _ = _run(ObservabilityConfig.full())
    assert sink.max_samples == CAP and sink._trim_each is None
    assert sink.count == exact.count > 30_000
    # bounded: the cap after each scheduled flush, plus the requests of one flush
    # interval (~64k facts, a few thousand requests) in between
    counts = [0] + [n for n, _ in sim.flushes]
    assert len(counts) > 3 and all(kept == min(n, CAP) for n, kept in sim.flushes)
    assert sink._trimmed_n > 0 and longest <= CAP + max(
        b - a for a, b in zip(counts, counts[1:] + [sink.count], strict=True))
    kept = sink.data.raw_values()
    assert kept == exact.data.raw_values()[-len(kept):]  # exactly the newest ones
    assert sink.mean_latency() == pytest.approx(exact.mean_latency(), rel=1e-12)
    ls, le = sink.latency_stats(), exact.latency_stats()
    assert (ls["count"], ls["min"], ls["max"]) == (le["count"], le["min"], le["max"])
    assert abs(sink.p99() - exact.p99()) <= 0.01 * exact.p99()


def test_a_users_bound_trims_per_request_and_none_turns_trimming_off():
    cfg = ObservabilityConfig.streaming().replace(raw_samples=CAP)
    _, sink, longest = _run(cfg, max_samples=100, stop_after=100.0)
    assert sink.max_samples == 100 and longest <= 200  # the user's own bound, per request
    _, sink, _ = _run(cfg, unbound=True, stop_after=100.0)
    assert sink._trimmed_n == 0 and len(sink.data._times) == sink.count
    with pytest.raises(ValueError, match="max_samples must be >= 1 or None"):
        sink.max_samples = 0
