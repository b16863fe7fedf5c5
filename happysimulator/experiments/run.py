"""`replicate` and `sweep`: independent runs of a model factory, summarized.

    from happysimulator.experiments import replicate, sweep
    reps = replicate("examples/m_m_1_queue.py:build", n=20, seed=1)
    reps.estimate("wait_time", entity="Server", aggregate="mean").ci(0.95)
    sweep(build, {"rate": [6.0, 8.0, 9.0]}, replications=10).to_dataframe()
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from happysimulator.experiments.cache import ResultCache
from happysimulator.experiments.estimate import _level
from happysimulator.experiments.executors import Outcome, run_tasks
from happysimulator.experiments.models import (
    ModelSpec,
    absolute_spec,
    check_params,
    load_factory,
)
from happysimulator.experiments.results import Failure, Replications, Sweep
from happysimulator.experiments.seeds import replication_seeds, sweep_seeds
from happysimulator.experiments.summarize import (
    ExperimentInterrupted,
    ReplicationError,
    ReplicationSummary,
    Task,
    check_patterns,
)

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


def _tasks(spec: dict[str, Any], points: list[dict[str, Any]],
           seeds: list[list[int]]) -> list[Task]:
    model, metrics, aggregates = spec["model"], spec["metrics"], spec["aggregates"]
    warmup, until, measure, window = (spec["warmup"], spec["until"], spec["measure"],
                                      spec["window"])
    model = absolute_spec(model)  # resolved once, here: workers have other directories
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
              level: float = 0.95, errors: str = "raise",
              precision: Mapping[str, Any] | None = None, max_n: int | None = None,
              cache: str | os.PathLike[str] | None = None) -> Replications:
    """Run `n` independent replications of `model` and summarize each.

    Args:
        model: ``"path/file.py:factory"``, ``"package.module:factory"`` or a callable
            ``factory(seed=..., **params) -> Simulation``.
        n: number of replications (with ``precision``: the first batch).
        seed: root of the seed streams (`numpy.random.SeedSequence` spawning).
        executor: None (local process pool), ``"serial"`` (this process), a
            `concurrent.futures.Executor`, or a ``dask.distributed.Client``.
        params: keyword parameters for the factory.
        workers: size of the local pool (default: one per CPU).
        metrics: series names (globs) to summarize (default: all); a pattern that
            matches no series of any run is a ``KeyError`` naming the known ones.
        aggregates: per-replication aggregates (default: by series kind, see
            ``DEFAULT_AGGREGATES``).
        warmup: simulated seconds discarded at the start of each run (steady state).
        until: stop each run at this simulated time (default: run to the end).
        measure: ``measure(sim) -> {name: number}``: extra per-replication scalars.
        window: also summarize every series per window of this many simulated seconds
            (``Replications.over_time`` then gives a confidence band per window).
        progress: a progress bar of replications done (None: on a terminal only).
        level: default confidence level of the estimates, in (0, 1).
        errors: ``"raise"`` (a failed replication stops the run and raises
            `ReplicationError`, whose ``partial`` holds what completed) or ``"collect"``
            (the others go on; ``reps.failures`` lists the failed ones).
        precision: ``{"metric", "entity", "aggregate" (default "mean"),
            "relative_half_width"}``: add replications until the ``level`` interval of
            that estimate is that narrow relative to its mean, or ``max_n`` is reached
            (``reps.precision`` says which).
        max_n: the most replications ``precision`` may run (default ``10 * n``).
        cache: a directory: replications already computed there for the same model,
            parameters, seed and settings are loaded instead of run; new ones are added.
    """
    n = _positive(n, "n")
    point = dict(params or {})
    errors = _errors(errors)
    level = _level(level)
    target = _precision(precision, max_n, n)
    spec = _spec(model, metrics=metrics, aggregates=aggregates, warmup=warmup, until=until,
                 measure=measure, window=window)
    store = ResultCache(cache) if cache is not None else None
    done: list[ReplicationSummary] = []
    failures: list[tuple[Task, BaseException]] = []
    total = n
    while True:
        tasks = [t for t in _tasks(spec, [point], [replication_seeds(seed, total)])
                 if t.replication >= len(done) + len(failures)]
        outcome = _execute(tasks, executor, store, workers=workers, progress=progress,
                           desc="replications", errors=errors)
        done += outcome.results
        failures += outcome.failures
        reps = Replications(done, point, level=level,
                            failures=_failure_rows(failures, [point]))
        _raise_if(outcome, failures, errors, reps)
        check_patterns(_patterns(metrics), done)
        if target is None:
            return reps
        total, status = _next_total(reps, target, total)
        reps.precision = status
        if total is None:
            return reps


def _errors(errors: Any) -> str:
    if errors not in ("raise", "collect"):
        raise ValueError(f"errors must be 'raise' or 'collect', got {errors!r}")
    return str(errors)


def _precision(precision: Mapping[str, Any] | None, max_n: int | None,
               n: int) -> dict[str, Any] | None:
    if precision is None:
        if max_n is not None:
            raise ValueError("max_n bounds precision=...: give both, or use n=")
        return None
    if not isinstance(precision, Mapping):
        raise TypeError("precision must be a dict: {'metric': ..., 'entity': ..., "
                        "'aggregate': ... (optional), 'relative_half_width': ...}")
    allowed = {"metric", "entity", "aggregate", "relative_half_width"}
    unknown = sorted(set(precision) - allowed)
    if unknown:
        raise ValueError(f"unknown precision key(s) {unknown}; valid: {sorted(allowed)}")
    for key in ("metric", "relative_half_width"):
        if key not in precision:
            raise ValueError(f"precision needs {key!r}; keys: {sorted(allowed)}")
    rhw = precision["relative_half_width"]
    if isinstance(rhw, bool) or not isinstance(rhw, int | float) or not 0 < rhw < 1:
        raise ValueError(f"relative_half_width must be in (0, 1), e.g. 0.05; got {rhw!r}")
    if n < 2:
        raise ValueError("precision needs a first batch of n >= 2 replications")
    limit = 10 * n if max_n is None else _positive(max_n, "max_n")
    if limit < n:
        raise ValueError(f"max_n={limit} is below the first batch n={n}")
    return {"metric": precision["metric"], "entity": precision.get("entity"),
            "aggregate": precision.get("aggregate"), "relative_half_width": float(rhw),
            "max_n": limit}


def _next_total(reps: Replications, target: dict[str, Any],
                total: int) -> tuple[int | None, dict[str, Any]]:
    """How many replications in all to run next (None: stop), and where precision is."""
    est = reps.estimate(target["metric"], entity=target["entity"],
                        aggregate=target["aggregate"])
    rel = est.half_width / abs(est.mean) if est.mean else math.inf
    status = {**target, "n": est.n, "achieved": rel, "met": rel <= target["relative_half_width"]}
    if status["met"] or total >= target["max_n"]:
        return None, status
    # half-width ~ 1/sqrt(n): the n that would reach the target, 10 % more for the t
    # quantile and the noise in s; at least one more, at most max_n
    need = math.ceil(est.n * (rel / target["relative_half_width"]) ** 2 * 1.1)
    return min(target["max_n"], max(total + 1, need)), status


def _spec(model: ModelSpec, **settings: Any) -> dict[str, Any]:
    return {"model": model, **settings}


def _execute(tasks: list[Task], executor: Any, store: ResultCache | None, *,
             workers: int | None, progress: bool | None, desc: str,
             errors: str) -> Outcome:
    """Run the tasks the cache does not have; cached ones come back as if run."""
    cached: list[ReplicationSummary] = []
    if store is not None:
        todo = []
        for t in tasks:
            hit = store.get(t)
            if hit is None:
                todo.append(t)
            else:
                cached.append(hit)
        tasks = todo
    outcome = run_tasks(tasks, executor, workers=workers, progress=progress, desc=desc,
                        errors=errors, done=store.put if store is not None else None) \
        if tasks else Outcome()
    outcome.results = sorted(cached + outcome.results, key=lambda r: (r.point, r.replication))
    return outcome


def _failure_rows(failures: list[tuple[Task, BaseException]],
                  points: list[dict[str, Any]]) -> list[Failure]:
    return [Failure(dict(points[t.point]), t.replication, exc) for t, exc in failures]


def _raise_if(outcome: Outcome, failures: list[tuple[Task, BaseException]], errors: str,
              partial: Any) -> None:
    rows = partial.failures
    if outcome.interrupted:
        raise ExperimentInterrupted(
            f"interrupted (Ctrl-C) after {_completed(partial)} completed replication(s); "
            "they are in this exception's .partial", partial, rows)
    if failures and errors == "raise":
        _, first = failures[0]
        err = first if isinstance(first, ReplicationError) else ReplicationError(str(first))
        err.partial = partial
        err.failures = rows
        raise err


def _completed(result: Any) -> int:
    return result.n if isinstance(result, Replications) else sum(r.n for r in result)


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
          level: float = 0.95, errors: str = "raise",
          cache: str | os.PathLike[str] | None = None) -> Sweep:
    """`replications` runs at every point of `grid` (see `replicate` for the rest).

    Each point gets its own independent seed streams; ``common_random_numbers=True``
    reuses the same seeds at every point instead: every source and entity draws from a
    stream of its own (seed + name), so the points see the same arrivals and the same
    service draws, and differences between points lose most of their noise.
    ``params`` are fixed parameters given at every point. ``errors="collect"`` goes on
    past failed replications (``sw.failures``); ``"raise"`` stops at the first one and
    raises `ReplicationError` with ``.partial``, the sweep of what completed.
    """
    replications = _positive(replications, "replications")
    errors = _errors(errors)
    level = _level(level)
    fixed = dict(params or {})
    points = grid_points(grid)
    clash = sorted(set(fixed) & set(points[0]))
    if clash:
        raise ValueError(f"{clash} are both swept and fixed in params=")
    seeds = sweep_seeds(seed, len(points), replications,
                        common_random_numbers=common_random_numbers)
    spec = _spec(model, metrics=metrics, aggregates=aggregates, warmup=warmup, until=until,
                 measure=measure, window=window)
    tasks = _tasks(spec, [{**fixed, **p} for p in points], seeds)
    store = ResultCache(cache) if cache is not None else None
    outcome = _execute(tasks, executor, store, workers=workers, progress=progress,
                       desc="sweep", errors=errors)
    # the result's points show the swept parameters; fixed ones are in each run's params
    result = Sweep(points, outcome.results, level=level,
                   failures=_failure_rows(outcome.failures, points),
                   common_random_numbers=common_random_numbers)
    _raise_if(outcome, outcome.failures, errors, result)
    check_patterns(_patterns(metrics), outcome.results)
    return result
