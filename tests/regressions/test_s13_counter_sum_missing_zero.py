"""A counter with no increments in a replication (no drops that run) has ``sum`` None
in the replication summary, not 0. Across replications this turns rare events into a
wrong answer: ``reps.estimate("dropped", aggregate="sum")`` refuses ("no value in
replication(s) [0, 2, 3, 4, 5, 6] (no samples there)"), and ``summary_table()`` averages
the replications that had drops only -- mean 1.5 drops per replication (n=2) where the
8 replications dropped 3 in all (0.375 per replication), a 4x overstatement. The same
table's ``rate`` row counts the quiet replications as 0 (mean 0.01875/s = 3 / 160 s):
the two rows of one series disagree.

Repro (session 13, rev5): Users (Poisson 2/s, 20 s) -> Server (exp 0.1 s,
queue_capacity=2); ``replicate(build, n=8, seed=1, executor="serial",
metrics=["dropped"])``. Observed: values [None, 1, None, None, None, None, None, 2].
Expected: a declared counter over a replication's whole run sums to 0 when nothing was
counted (the catalog lists it; the run covered the range), so the estimate is 0.375
over n=8. Area: happysimulator/experiments/summarize.py (summarize: ``row.get(agg)``
None for a counter's sum/count), results.py (summary_table drops None).
"""

from __future__ import annotations

import pytest

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.experiments import replicate
from happysimulator.observability import ObservabilityConfig


def _model(seed: int) -> tuple[Simulation, Server]:
    sink = Sink("Sink")
    srv = Server("Server", concurrency=1, service_time=ExponentialLatency(0.1), downstream=sink,
                 queue_capacity=2)
    src = Source.poisson(rate=2.0, target=srv, name="Users", stop_after=20.0)
    return Simulation(sources=[src], entities=[srv, sink], seed=seed, end_time=20.0,
                      observability=ObservabilityConfig.default()), srv


def build(*, seed: int) -> Simulation:
    return _model(seed)[0]


def test_replications_without_drops_count_as_zero_drops() -> None:
    reps = replicate(build, n=8, seed=1, executor="serial", metrics=["dropped"])
    truth = []
    for seed in reps.seeds:
        sim, srv = _model(seed)
        sim.run()
        truth.append(float(srv.dropped))
    assert 0.0 in truth and sum(truth) > 0  # (rare drops: some replications have none)
    est = reps.estimate("dropped", entity="Server", aggregate="sum")
    assert list(est.values) == truth
    row = next(r for r in reps.summary_table()
               if r["metric"] == "dropped" and r["aggregate"] == "sum")
    assert row["n"] == 8 and row["mean"] == pytest.approx(est.mean)
