"""``replicate`` accepts two bad inputs silently: ``metrics=["wiat_time"]`` (a typo:
no series matches) runs every replication and returns ``<Replications n=2 series=0>``
with no error or warning -- the runs' time is spent and nothing was kept; and
``level=1.5`` returns normally (the error surfaces only later, at the first
``estimate(...).ci()``, far from its cause).

Repro (session 13, rev5): Users (Poisson 3/s, 20 s) -> Server; ``replicate(build, n=2,
executor="serial", metrics=["wiat_time"])`` -> 0 series; ``replicate(build, n=2,
executor="serial", level=1.5)`` -> no error. Expected: a clear error -- a ``KeyError``
/``ValueError`` naming the unmatched pattern and the known series (after the first
replication, whose catalog lists them), and ``ValueError("confidence level must be in
(0, 1) ...")`` from ``replicate`` itself (as ``compare``/``batch_means`` do). Area:
happysimulator/experiments/run.py (replicate/sweep argument checks), summarize.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.experiments import replicate
from happysimulator.observability import ObservabilityConfig


def build(*, seed: int) -> Simulation:
    sink = Sink("Sink")
    srv = Server("Server", concurrency=1, service_time=ExponentialLatency(0.2), downstream=sink)
    src = Source.poisson(rate=3.0, target=srv, name="Users", stop_after=20.0)
    return Simulation(sources=[src], entities=[srv, sink], seed=seed, end_time=20.0,
                      observability=ObservabilityConfig.default())


_BAD: dict[str, tuple[dict[str, Any], str]] = {
    "metrics typo": ({"metrics": ["wiat_time"]}, "wiat_time"),
    "level 1.5": ({"level": 1.5}, "level"),
}


@pytest.mark.parametrize("case", sorted(_BAD))
def test_replicate_refuses_bad_input_up_front(case: str) -> None:
    kwargs, named = _BAD[case]
    with pytest.raises((KeyError, ValueError), match=named):
        replicate(build, n=2, executor="serial", **kwargs)
