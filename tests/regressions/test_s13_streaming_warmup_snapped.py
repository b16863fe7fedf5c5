"""``replicate(..., warmup=25)`` on a model recording with ``streaming()`` measures
neither the asked range nor one range: the scalars come from the streaming store's
query snapped *outward* to a rollup boundary (start 20: five seconds of the warm-up
are kept in the steady-state mean), the pooled sketch from the rollup buckets starting
at or after 25 (another range), and nothing in `Replications`/`Estimate` says so (the
query's ``start: 20.0, exact: false, error_bound: 0.005`` are dropped by the summary).
The docs (docs/experiments.md) do not mention streaming at all.

Repro (session 13, rev5): Users (Poisson 8/s, 300 s) -> Server (exp 0.1 s),
``ObservabilityConfig.streaming().replace(raw_samples=64)``; ``replicate(build, n=1,
seed=7, executor="serial", warmup=25.0, metrics=["wait_time"])``. Observed: wait_time
``count`` 2,311 vs 2,270 for the same replication recorded exactly over [25, end] (it
counts samples from 20 s; in a 3000 s run the mean moves 0.38171 -> 0.38159). Expected: the warm-up is discarded as asked (values equal the exact
store's over [25, end] for count), or the summary refuses / states the range it used
(e.g. an error naming the rollup resolution, or the effective start carried on the
estimate). Area: happysimulator/experiments/summarize.py (summarize: ``r.rows[0]``
ignores ``r.start``/``r.exact``; _streaming_sketch).
"""

from __future__ import annotations

import math

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.experiments import replicate
from happysimulator.observability import ObservabilityConfig


def build(*, seed: int, streaming: bool = True) -> Simulation:
    sink = Sink("Sink")
    srv = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1), downstream=sink)
    src = Source.poisson(rate=8.0, target=srv, name="Users", stop_after=300.0)
    cfg = (ObservabilityConfig.streaming().replace(raw_samples=64) if streaming
           else ObservabilityConfig.default())
    return Simulation(sources=[src], entities=[srv, sink], seed=seed, end_time=300.0,
                      observability=cfg)


def test_a_streaming_replication_discards_the_warmup_as_asked() -> None:
    try:
        reps = replicate(build, n=1, seed=7, executor="serial", warmup=25.0,
                         metrics=["wait_time"])
    except ValueError as exc:  # refusing (naming the resolution) is fine too
        assert "rollup" in str(exc) or "streaming" in str(exc), exc
        return
    exact = build(seed=reps.seeds[0], streaming=False)
    exact.run()
    want = (exact.query.metrics("wait_time").from_entity("Server")
            .between(25.0, math.nextafter(300.0, math.inf)).aggregate("count").execute().scalar)
    got = reps.values("wait_time", entity="Server", aggregate="count")[0]
    assert got == want, (got, want)
