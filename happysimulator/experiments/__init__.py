"""Replications and parameter sweeps with confidence intervals.

    from happysimulator.experiments import replicate, sweep
    reps = replicate(build, n=20, seed=1)              # local processes by default
    est = reps.estimate("wait_time", entity="Server", aggregate="mean")
    est.mean, est.half_width, est.ci(0.95)             # t-based, across replications
    reps.quantile("latency", 0.99, entity="Sink")      # pooled by merging sketches
    sweep(build, {"rate": [6.0, 8.0]}, replications=10).to_dataframe()
    sweep(build, grid, errors="collect").failures      # (point, replication, error)
    replicate(build, precision={"metric": "wait_time", "entity": "Server",
                                "relative_half_width": 0.05}, max_n=200)
    reps.warmup("queue_depth", entity="Server")        # MSER-5, seconds
    batch_means(sim, "wait_time", entity="Server")     # one long run
    compare(a, b, "wait_time", entity="Server")        # paired under CRN, else Welch
    latin_hypercube({"rate": (5, 9)}, n=8, seed=1)     # points for sweep
    reps.save("out/"); load("out/")                    # Parquet + JSON, sketches kept

A model is a factory ``build(*, seed, **params) -> Simulation`` (or its
``"path/file.py:factory"`` name). See docs/experiments.md.
"""

from happysimulator.experiments.compare import Comparison, compare
from happysimulator.experiments.designs import latin_hypercube, sobol
from happysimulator.experiments.estimate import Estimate, PooledQuantile
from happysimulator.experiments.models import ModelSpec, load_factory
from happysimulator.experiments.persist import load
from happysimulator.experiments.results import Failure, Replications, Sweep
from happysimulator.experiments.run import grid_points, replicate, sweep
from happysimulator.experiments.seeds import replication_seeds, sweep_seeds
from happysimulator.experiments.steady_state import BatchMeans, batch_means
from happysimulator.experiments.summarize import (
    DEFAULT_AGGREGATES,
    ExperimentInterrupted,
    ReplicationError,
    ReplicationSetupError,
    ReplicationSummary,
)

__all__ = [
    "DEFAULT_AGGREGATES",
    "BatchMeans",
    "Comparison",
    "Estimate",
    "ExperimentInterrupted",
    "Failure",
    "ModelSpec",
    "PooledQuantile",
    "ReplicationError",
    "ReplicationSetupError",
    "ReplicationSummary",
    "Replications",
    "Sweep",
    "batch_means",
    "compare",
    "grid_points",
    "latin_hypercube",
    "load",
    "load_factory",
    "replicate",
    "replication_seeds",
    "sobol",
    "sweep",
    "sweep_seeds",
]
