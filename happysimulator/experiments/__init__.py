"""Replications and parameter sweeps with confidence intervals.

    from happysimulator.experiments import replicate, sweep
    reps = replicate(build, n=20, seed=1)              # local processes by default
    est = reps.estimate("wait_time", entity="Server", aggregate="mean")
    est.mean, est.half_width, est.ci(0.95)             # t-based, across replications
    reps.quantile("latency", 0.99, entity="Sink")      # pooled by merging sketches
    sweep(build, {"rate": [6.0, 8.0]}, replications=10).to_dataframe()

A model is a factory ``build(*, seed, **params) -> Simulation`` (or its
``"path/file.py:factory"`` name). See docs/experiments.md.
"""

from happysimulator.experiments.estimate import Estimate, PooledQuantile
from happysimulator.experiments.models import ModelSpec, load_factory
from happysimulator.experiments.results import Failure, Replications, Sweep
from happysimulator.experiments.run import grid_points, replicate, sweep
from happysimulator.experiments.seeds import replication_seeds, sweep_seeds
from happysimulator.experiments.summarize import (
    DEFAULT_AGGREGATES,
    ExperimentInterrupted,
    ReplicationError,
    ReplicationSummary,
)

__all__ = [
    "DEFAULT_AGGREGATES",
    "Estimate",
    "ExperimentInterrupted",
    "Failure",
    "ModelSpec",
    "PooledQuantile",
    "ReplicationError",
    "ReplicationSummary",
    "Replications",
    "Sweep",
    "grid_points",
    "load_factory",
    "replicate",
    "replication_seeds",
    "sweep",
    "sweep_seeds",
]
