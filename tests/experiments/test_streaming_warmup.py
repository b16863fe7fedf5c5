"""Under ``streaming()`` a replication's summary is of [warm-up, end] or refused: a
warm-up off the rollup grid (the raw samples no longer reach it) is a
`ReplicationSetupError` (a ValueError too) naming the grid; one on the grid is discarded
exactly (count equal to the exact store's over the same range)."""

from __future__ import annotations

import math

import pytest

from happysimulator.experiments import ReplicationError, ReplicationSetupError, replicate
from happysimulator.observability import ObservabilityConfig
from tests.models import mm_server


def build(*, seed: int, streaming: bool = True):
    cfg = (ObservabilityConfig.streaming().replace(raw_samples=32, rollup_s=5.0)
           if streaming else ObservabilityConfig.default())
    return mm_server(seed=seed, rate=8.0, mean_service=0.1, stop_after=120.0,
                     end_time=120.0, config=cfg)


def test_off_grid_warmup_is_refused_on_grid_is_exact() -> None:
    with pytest.raises(ReplicationSetupError, match=r"rollups of 5 s.*warmup=15") as info:
        replicate(build, n=2, seed=2, executor="serial", warmup=12.5, metrics=["wait_time"])
    assert isinstance(info.value, ValueError) and isinstance(info.value, ReplicationError)
    assert info.value.partial is not None  # (the usual ReplicationError fields)
    reps = replicate(build, n=2, seed=2, executor="serial", warmup=15.0,
                     metrics=["wait_time", "queue_depth"])
    for seed, got in zip(reps.seeds, reps.values("wait_time", entity="Server",
                                                  aggregate="count"), strict=True):
        exact = build(seed=seed, streaming=False)
        exact.run()
        want = (exact.query.metrics("wait_time").from_entity("Server")
                .between(15.0, math.nextafter(120.0, math.inf)).aggregate("count")
                .execute().scalar)
        assert got == want
