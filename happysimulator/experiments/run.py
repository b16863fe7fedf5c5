"""`replicate` and `sweep`: independent runs of a model factory, summarized.

    from happysimulator.experiments import replicate, sweep
    reps = replicate("examples/m_m_1_queue.py:build", n=20, seed=1)
    reps.estimate("wait_time", entity="Server", aggregate="mean").ci(0.95)
    sweep(build, {"rate": [6.0, 8.0, 9.0]}, replications=10).to_dataframe()
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from happysimulator.experiments.executors import run_tasks
from happysimulator.experiments.models import ModelSpec, check_params, load_factory
from happysimulator.experiments.results import Replications, Sweep
from happysimulator.experiments.seeds import replication_seeds, sweep_seeds
from happysimulator.experiments.summarize import Task

__all__ = ["replicate", "sweep", "grid_points"]

Measure = Callable[[Any], Mapping[str, float]]


def _positive(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return n


def _patterns(metrics: Iterable[str] | str | None) -> tuple[str, ...] | None:
    if metrics is None:
        return None
    if isinstance(metrics, str):
        return (metrics,)
    out = tuple(metrics)
    if not out or not all(isinstance(m, str) and m for m in out):
        raise ValueError(f"metrics must be names (globs allowed), got {metrics!r}")
    return out


def _aggregates(aggregates: Iterable[str] | str | None) -> tuple[str, ...] | None:
    if aggregates is None:
        return None
    from happysim_rx import Query

    specs = (aggregates,) if isinstance(aggregates, str) else tuple(aggregates)
    q = Query().aggregate(*specs)  # validates, normalizes names ("median" -> "p50")
    return tuple(q.spec.aggregates)


def _tasks(model: ModelSpec, points: list[dict[str, Any]], seeds: list[list[int]], *,
           metrics: Any, aggregates: Any, warmup: float, until: float | None,
           measure: Measure | None, window: float | None = None) -> list[Task]:
    factory = load_factory(model)
    label = model if isinstance(model, str) else getattr(model, "__name__", repr(model))
    for p in points:
        if "seed" in p:
            raise ValueError("'seed' is set per replication; give seed= to replicate/sweep")
        check_params(factory, p, f"model factory {label!r}")
    if not (isinstance(warmup, int | float) and warmup >= 0):
        raise ValueError(f"warmup must be >= 0 simulated seconds, got {warmup!r}")
    if measure is not None and not callable(measure):
        raise TypeError(f"measure must be a callable sim -> dict, got {measure!r}")
    if window is not None:
        from happysim_rx import Query

        window = Query().window(window).spec.window  # validated: positive, finite
    pats, aggs = _patterns(metrics), _aggregates(aggregates)
    return [Task(model=model, params=p, seed=s, point=i, replication=r, metrics=pats,
                 aggregates=aggs, warmup=float(warmup), until=until, measure=measure,
                 window=window)
            for i, (p, ps) in enumerate(zip(points, seeds, strict=True))
            for r, s in enumerate(ps)]


def replicate(model: ModelSpec, n: int = 20, seed: int | np.random.SeedSequence = 1,
              executor: Any = None, *, params: Mapping[str, Any] | None = None,
              workers: int | None = None, metrics: Iterable[str] | str | None = None,
              aggregates: Iterable[str] | str | None = None, warmup: float = 0.0,
              until: float | None = None, measure: Measure | None = None,
              window: float | None = None, progress: bool | None = None,
              level: float = 0.95) -> Replications:
    """Run `n` independent replications of `model` and summarize each.

    Args:
        model: ``"path/file.py:factory"``, ``"package.module:factory"`` or a callable
            ``factory(seed=..., **params) -> Simulation``.
        n: number of replications.
        seed: root of the seed streams (`numpy.random.SeedSequence` spawning).
        executor: None (local process pool), ``"serial"`` (this process), a
            `concurrent.futures.Executor`, or a ``dask.distributed.Client``.
        params: keyword parameters for the factory.
        workers: size of the local pool (default: one per CPU).
        metrics: series names (globs) to summarize (default: all).
        aggregates: per-replication aggregates (default: by series kind, see
            ``DEFAULT_AGGREGATES``).
        warmup: simulated seconds discarded at the start of each run (steady state).
        until: stop each run at this simulated time (default: run to the end).
        measure: ``measure(sim) -> {name: number}``: extra per-replication scalars.
        window: also summarize every series per window of this many simulated seconds
            (``Replications.over_time`` then gives a confidence band per window).
        progress: a progress bar of replications done (None: on a terminal only).
        level: default confidence level of the estimates.
    """
    n = _positive(n, "n")
    point = dict(params or {})
    tasks = _tasks(model, [point], [replication_seeds(seed, n)], metrics=metrics,
                   aggregates=aggregates, warmup=warmup, until=until, measure=measure,
                   window=window)
    runs = run_tasks(tasks, executor, workers=workers, progress=progress, desc="replications")
    return Replications(runs, point, level=level)


def grid_points(grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]]
                ) -> list[dict[str, Any]]:
    """The points of a grid: the cartesian product of a ``{name: [values]}`` dict (in
    its order), or an explicit list of ``{name: value}`` points."""
    if isinstance(grid, Mapping):
        names = list(grid)
        if not names:
            raise ValueError("the grid is empty: give {name: [values, ...]}")
        for k, vals in grid.items():
            if not isinstance(k, str) or not k.isidentifier():
                raise ValueError(f"grid keys are parameter names, got {k!r}")
            if isinstance(vals, str | bytes) or not isinstance(vals, Iterable):
                raise TypeError(f"grid[{k!r}] must be a list of values, got {vals!r}")
        values = [list(grid[k]) for k in names]
        empty = [k for k, v in zip(names, values, strict=True) if not v]
        if empty:
            raise ValueError(f"grid values for {empty} are empty")
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]
    points = [dict(p) for p in grid]
    if not points:
        raise ValueError("the grid has no points")
    keys = set(points[0])
    if any(set(p) != keys for p in points):
        raise ValueError("every point of an explicit grid must set the same parameters")
    return points


def sweep(model: ModelSpec, grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
          replications: int = 10, seed: int | np.random.SeedSequence = 1,
          executor: Any = None, *, params: Mapping[str, Any] | None = None,
          common_random_numbers: bool = False, workers: int | None = None,
          metrics: Iterable[str] | str | None = None,
          aggregates: Iterable[str] | str | None = None, warmup: float = 0.0,
          until: float | None = None, measure: Measure | None = None,
          window: float | None = None, progress: bool | None = None,
          level: float = 0.95) -> Sweep:
    """`replications` runs at every point of `grid` (see `replicate` for the rest).

    Each point gets its own independent seed streams; ``common_random_numbers=True``
    reuses the same seeds at every point instead (less noise in differences).
    ``params`` are fixed parameters given at every point.
    """
    replications = _positive(replications, "replications")
    fixed = dict(params or {})
    points = grid_points(grid)
    clash = sorted(set(fixed) & set(points[0]))
    if clash:
        raise ValueError(f"{clash} are both swept and fixed in params=")
    seeds = sweep_seeds(seed, len(points), replications,
                        common_random_numbers=common_random_numbers)
    tasks = _tasks(model, [{**fixed, **p} for p in points], seeds, metrics=metrics,
                   aggregates=aggregates, warmup=warmup, until=until, measure=measure,
                   window=window)
    runs = run_tasks(tasks, executor, workers=workers, progress=progress, desc="sweep")
    # the result's points show the swept parameters; fixed ones are in each run's params
    return Sweep(points, runs, level=level)
