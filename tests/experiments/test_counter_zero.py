"""A counter's ``sum`` over a replication (or a window of it) in which nothing was
counted is 0 -- checked against a count of the run's increments, per replication and
per window -- while an aggregate of the increments themselves (``mean``) stays None."""

from __future__ import annotations

from happysimulator.experiments import replicate
from happysimulator.observability import ObservabilityConfig
from tests.models import mm_server


def build(*, seed: int):
    return mm_server(seed=seed, rate=0.4, mean_service=0.1, stop_after=20.0, end_time=20.0,
                     config=ObservabilityConfig.default())


def test_counter_sums_are_zero_where_nothing_was_counted() -> None:
    reps = replicate(build, n=4, seed=4, executor="serial", metrics=["arrivals"],
                     aggregates=["sum", "mean"], window=2.0)
    empty = 0
    for run in reps.runs:
        sim = build(seed=run.seed)
        sim.run()
        q = sim.query.metrics("arrivals").from_entity("Server")
        rows = {(s, e, a): v for _, _, _, a, s, e, v in run.windows}
        for (s, e, a), v in rows.items():
            if a != "sum" or e <= s:
                continue
            n = q.between(s, e).aggregate("count").execute().scalar
            assert v == n, (s, e, v, n)
            empty += n == 0
            assert (rows[(s, e, "mean")] is None) == (n == 0)
        total = q.aggregate("count").execute().scalar
        sums = reps.values("arrivals", entity="Server", aggregate="sum")
        assert sums[run.replication] == total
    assert empty > 0  # (some windows had no arrival: the case under test)
