"""Under ``ObservabilityConfig.streaming()`` every `Sink` without ``max_samples`` gets
one (8192), and the happysim 0.2.5 call ``sink.summary(window_s)`` then buckets only
the samples still kept: for a 2000 s run it returns 10 windows starting at 1000 s with
13,604 requests, where the same model under ``default()`` returns 20 windows from 0 s
with all 29,990. Since ``bucket()`` lists "only the windows that have samples", the
missing first half reads as "no requests before 1000 s". Nothing says so (``count``,
``mean_latency()`` and ``p99()`` do cover the whole run; ``summary()``'s docstring is
"Latency per time window"). The answer to an unchanged 0.2.5 call depends on the
observability config.

Repro (session 13, rev5): Source.poisson(15/s, 2000 s) -> Server (exp 0.05 s) -> Sink,
seed 1, ``ObservabilityConfig.streaming()``; ``b = sink.summary(100.0)``. Observed:
``len(b)`` 10, ``b.times[0]`` 1000.0, ``sum(b.counts)`` 13,604 vs ``sink.count``
29,990. Expected: the whole run's windows (the streaming store keeps the latency
series' rollups), or a clear error/warning naming ``max_samples`` -- not a silently
shorter answer. Area: happysimulator/components/common.py (Sink.summary, the trimmed
``data``), happysimulator/observability (streaming() setting max_samples on sinks).
"""

from __future__ import annotations

import warnings

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.observability import ObservabilityConfig


def test_sink_summary_under_streaming_covers_the_run_or_says_it_does_not() -> None:
    sink = Sink("Sink")
    srv = Server("S", concurrency=1, service_time=ExponentialLatency(0.05), downstream=sink)
    src = Source.poisson(rate=15.0, target=srv, name="U", stop_after=2000.0)
    sim = Simulation(sources=[src], entities=[srv, sink], seed=1, end_time=2000.0,
                     observability=ObservabilityConfig.streaming())
    sim.run()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            b = sink.summary(100.0)
        except ValueError as exc:
            assert "max_samples" in str(exc), exc
            return
    if any("max_samples" in str(w.message) for w in caught):
        return
    assert sum(b.counts) == sink.count, (len(b), b.times[:1], sum(b.counts), sink.count)
