"""One replication, run where it is sent: build, run, and reduce to what travels back.

Only summaries leave the worker: per-series scalar aggregates (computed by the same
query engine as ``sim.query``) and one mergeable `QuantileSketch` per sample or gauge
series (gauges time-weighted). Raw samples never travel, so the payload does not grow
with the run length (a few kB per series).
"""

from __future__ import annotations

import glob
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from happysim_rx.stores.compute import gauge_segments
from happysimulator.experiments.blas import one_blas_thread
from happysimulator.experiments.models import ModelSpec, load_factory
from operators.sketch import QuantileSketch

__all__ = ["DEFAULT_AGGREGATES", "ExperimentInterrupted", "ReplicationError", "Task",
           "ReplicationSummary", "run_task"]

#: What is computed per series kind unless `aggregates=` says otherwise.
DEFAULT_AGGREGATES: dict[str, tuple[str, ...]] = {
    "sample": ("count", "mean", "stddev", "min", "max", "p50", "p90", "p99"),
    "gauge": ("mean", "min", "max", "p50", "p99", "last"),
    "counter": ("sum", "rate"),
}
#: Units of the series the engine's own instrumentation records (Server, QueuedResource,
#: LatencyTracker), used when the catalog declares none; declared units win.
ENGINE_UNITS = {"wait_time": "s", "service_time": "s", "latency": "s",
                "queue_depth": "requests", "in_flight": "requests"}
SKETCH_ACCURACY = 0.005  # relative error of the shipped sketches (as the streaming stores)

# The run loop keeps the running simulation in a process-wide slot: replications sent to
# threads of one process (a Dask worker with several threads) take turns. Threads would
# not run Python in parallel anyway.
_RUN_LOCK = threading.Lock()


@dataclass(frozen=True)
class Task:
    """What a worker needs for one replication (small and picklable)."""

    model: ModelSpec
    params: dict[str, Any]
    seed: int
    point: int
    replication: int
    metrics: tuple[str, ...] | None = None
    aggregates: tuple[str, ...] | None = None
    warmup: float = 0.0
    until: float | None = None
    measure: Callable[[Any], Mapping[str, float]] | None = None
    window: float | None = None


@dataclass
class ReplicationSummary:
    """What comes back from one replication."""

    point: int
    replication: int
    seed: int
    params: dict[str, Any]
    #: [(entity, metric, series kind, aggregate, value)]
    scalars: list[tuple[str | None, str, str, str, float | None]]
    #: (entity, metric) -> sketch of the samples (gauges: time-weighted)
    sketches: dict[tuple[str, str], QuantileSketch] = field(default_factory=dict)
    #: with ``window=``: [(entity, metric, series kind, aggregate, window start, window
    #: end, value)]; windows sit on multiples of the width (the first may start at the
    #: warm-up, the last end at the end of the run: ``end - start`` says)
    windows: list[tuple[str, str, str, str, float, float, float | None]] = field(
        default_factory=list)
    window: float | None = None
    #: (entity, metric) -> unit of the values ("s", "requests", ...), where known
    units: dict[tuple[str | None, str], str] = field(default_factory=dict)
    events_processed: int = 0
    sim_time_s: float = 0.0
    wall_s: float = 0.0
    stop_reason: str | None = None
    #: the names of every metric series in the run's catalog (selected or not): a
    #: ``metrics=`` pattern matching none of them in any replication is a typo
    series: tuple[str, ...] = ()


class ReplicationError(RuntimeError):
    """A replication's model raised; the message names the replication and its seed.

    Raised by `replicate`/`sweep` (``errors="raise"``, the default), it carries
    ``partial``: the `Replications`/`Sweep` of the replications that completed, and
    ``failures``: every failed ``(point, replication, error)``.
    """

    partial: Any = None
    failures: Any = ()


class ReplicationSetupError(ReplicationError, ValueError):
    """A replication could not be summarized as asked (e.g. a warm-up a streaming store
    cannot discard exactly): a `ReplicationError` that is also a ``ValueError``, since
    every replication of the same settings would fail alike."""


class _SummaryRefused(ValueError):
    """Raised by `summarize`; `run_task` turns it into a `ReplicationSetupError`."""


class ExperimentInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped `replicate`/`sweep`; ``partial`` holds what completed (a
    `Replications` or a `Sweep`) and ``failures`` what failed before."""

    def __init__(self, message: str, partial: Any = None,
                 failures: list[Any] | None = None) -> None:
        super().__init__(message)
        self.partial = partial
        self.failures = list(failures or [])


def run_task(task: Task) -> ReplicationSummary:
    """Build the model with ``seed=task.seed``, run it to the end, summarize it."""
    with _RUN_LOCK, one_blas_thread():
        t0 = time.perf_counter()
        try:
            factory = load_factory(task.model)
            sim = factory(**task.params, seed=task.seed)
            _check_sim(sim, task)
            reason = _run(sim, task.until)
            summary = summarize(sim, task, reason)
        except ReplicationError:
            raise
        except _SummaryRefused as exc:
            raise ReplicationSetupError(
                f"replication {task.replication} (seed={task.seed}, params={task.params}) "
                f"could not be summarized: {exc}") from exc
        except Exception as exc:
            raise ReplicationError(
                f"replication {task.replication} (seed={task.seed}, params={task.params}) "
                f"failed: {type(exc).__name__}: {exc}") from exc
        summary.wall_s = time.perf_counter() - t0
        return summary


def _check_sim(sim: Any, task: Task) -> None:
    query = getattr(sim, "query", None)
    if query is None or not hasattr(sim, "control"):
        raise TypeError(
            f"the model factory must return an observable Simulation, got {type(sim).__name__}"
            " (a factory returning a tuple? return the Simulation itself)")
    if getattr(sim, "seed", None) != task.seed:
        # a factory that ignores its seed would make every replication the same run
        raise ValueError(
            f"the factory was given seed={task.seed} but built Simulation(seed={sim.seed!r}):"
            " pass the seed on, e.g. Simulation(..., seed=seed)")


def _run(sim: Any, until: float | None) -> str | None:
    """Run to the end; breakpoints the model arms pause the run, which then resumes."""
    summary = sim.run() if until is None else sim.control.run_until(until)
    while summary.stop_reason == "paused" and sim.control.is_paused:
        if "KeyboardInterrupt" in str(summary.paused_by or ""):
            raise KeyboardInterrupt  # Ctrl-C stops the experiment, it is not a breakpoint
        summary = sim.control.resume()
    return summary.stop_reason


def _selected(name: str, patterns: tuple[str, ...] | None) -> bool:
    if patterns is None:
        return True
    from fnmatch import fnmatchcase

    return any(fnmatchcase(name, p) for p in patterns)


def summarize(sim: Any, task: Task, reason: str | None) -> ReplicationSummary:
    """Scalars and sketches of every selected metric series of a finished run."""
    engine = sim.query
    now = float(engine.now() or 0.0)
    start = float(task.warmup)
    if start >= now and start > 0:
        raise ValueError(f"warmup={start:g} s is not before the end of the run ({now:g} s)")
    end = math.nextafter(now, math.inf)  # the range includes values in effect at `now`
    scalars: list[tuple[str | None, str, str, str, float | None]] = []
    sketches: dict[tuple[str, str], QuantileSketch] = {}
    windows: list[tuple[str, str, str, str, float, float, float | None]] = []
    units: dict[tuple[str | None, str], str] = {}
    store = engine.metric_store
    catalog = engine.catalog()["metrics"]
    for info in catalog:
        name, source = info["name"], info["source"]
        kind = info["series_kind"] or "sample"
        if not _selected(name, task.metrics):
            continue
        unit = info.get("unit") or ENGINE_UNITS.get(name)
        if unit:
            units[(source, name)] = unit
        aggs = task.aggregates or DEFAULT_AGGREGATES.get(kind, DEFAULT_AGGREGATES["sample"])
        r = (engine.metrics(glob.escape(name)).from_entity(glob.escape(source))
             .between(start, end).aggregate(*aggs).execute())
        _check_range(r, start, source, name)
        row = r.rows[0] if r.rows else {}
        for agg in aggs:
            v = _zero_sum(kind, agg, row)
            scalars.append((source, name, kind, agg, None if v is None else float(v)))
        if task.window is not None:
            w = (engine.metrics(glob.escape(name)).from_entity(glob.escape(source))
                 .between(start, end).window(task.window).aggregate(*aggs).execute())
            for wrow in w.rows:
                for agg in aggs:
                    v = _zero_sum(kind, agg, wrow)
                    windows.append((source, name, kind, agg, float(wrow["start"]),
                                    min(float(wrow["end"]), now),
                                    None if v is None else float(v)))
        if kind != "counter" and store is not None:
            sk = _sketch(store, name, source, kind, start, end)
            if sk is not None:
                sketches[(source, name)] = sk
    if task.measure is not None:
        extra = task.measure(sim)
        if not isinstance(extra, Mapping):
            raise TypeError(f"measure(sim) must return a dict of numbers, got {extra!r}")
        for key, v in extra.items():
            scalars.append((None, str(key), "measure", "value", None if v is None else float(v)))
    return ReplicationSummary(
        point=task.point, replication=task.replication, seed=task.seed, params=task.params,
        scalars=scalars, sketches=sketches, windows=windows, window=task.window, units=units,
        events_processed=sim.events_processed,
        sim_time_s=now, stop_reason=reason,
        series=tuple(sorted({info["name"] for info in catalog})))


def _zero_sum(kind: str, agg: str, row: dict[str, Any]) -> Any:
    """`row`'s `agg`; a counter's ``sum`` over a range the query answered (a row) with
    no increments in it is 0 -- nothing was counted -- where the engine says None (no
    samples): a replication without drops had 0 drops, not an unknown number."""
    v = row.get(agg)
    if v is None and kind == "counter" and agg == "sum" and row:
        return 0.0
    return v


def _check_range(r: Any, start: float, source: str, name: str) -> None:
    """The summary must be of [warm-up, end]: a streaming store whose raw samples no
    longer reach back to the warm-up answers from the rollup boundary before it, which
    would keep part of the warm-up in the steady-state numbers."""
    got = r.start
    if got is None or got >= start:
        return
    res = r.time_resolution
    grid = (f"rollups of {res:g} s (ObservabilityConfig.rollup_s): a warm-up on that grid "
            f"(e.g. warmup={math.ceil(start / res) * res:g}) is discarded exactly"
            if res else "rollups")
    raise _SummaryRefused(
        f"{source}.{name}: the streaming store answers from {got:g} s, not from "
        f"warmup={start:g} s; before its newest raw samples it keeps only {grid}; or "
        "record with ObservabilityConfig.default()/full()")


def check_patterns(patterns: tuple[str, ...] | None,
                   summaries: Sequence[ReplicationSummary]) -> None:
    """Refuse a ``metrics=`` pattern that matched no series of any replication (a typo
    would otherwise return a result with nothing in it), naming the series there are."""
    if not patterns or not summaries:
        return
    known = sorted({name for s in summaries for name in s.series})
    unmatched = [p for p in patterns if not any(_selected(n, (p,)) for n in known)]
    if unmatched:
        raise KeyError(f"metrics pattern(s) {unmatched} match no series of the runs; known: "
                       f"{', '.join(known) or 'none'}")


def _sketch(store: Any, name: str, source: str, kind: str, start: float,
            end: float) -> QuantileSketch | None:
    """The series' distribution over [start, end) as a sketch (None: no such data)."""
    series = [s for s in store.select(glob.escape(name), glob.escape(source))
              if s.source == source and s.name == name]
    if not series:
        return None
    s = series[0]
    sk = QuantileSketch(SKETCH_ACCURACY)
    if hasattr(s, "arrays"):  # exact store: every sample
        t, v = s.arrays()
    elif hasattr(s, "fine") and hasattr(s, "coarse"):  # streaming store: its rollups
        return _streaming_sketch(s, kind, start, end, store.relative_accuracy)
    else:
        return None
    if kind == "gauge":
        seg_v, seg_w, _, _ = gauge_segments(t, v, start, end)
        if seg_v.size:
            sk.add_many(seg_v, seg_w)
    else:
        i0, i1 = np.searchsorted(t, [start, end])
        sk.add_many(v[int(i0):int(i1)])
    return sk if sk.n else None


def _streaming_sketch(s: Any, kind: str, start: float, end: float,
                      accuracy: float) -> QuantileSketch | None:
    """The rollups' sketches merged (at the store's own accuracy): the whole run, or the
    rollup buckets that start at or after a warm-up (rollup resolution)."""
    s.flush()
    sk = QuantileSketch(accuracy)
    for tier in (s.coarse, s.fine):
        for bucket in tier.buckets.values():
            if bucket.e0 >= start:
                sk.merge(bucket.sketch)
    if kind == "gauge" and s.open_t is not None:
        seg0 = max(s.open_t, start)
        if end > seg0:  # the last value, held from its change to the end of the run
            sk.add_many([s.open_v], [end - seg0])
    return sk if sk.n else None


def default_aggregates(kind: str) -> Sequence[str]:
    return DEFAULT_AGGREGATES.get(kind, DEFAULT_AGGREGATES["sample"])
