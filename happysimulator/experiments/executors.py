"""Where replications run: this process, a local process pool, any
`concurrent.futures.Executor`, or a Dask distributed cluster.

Why Dask (and not Ray): it is pure Python and pip-installable next to the project, a
`LocalCluster` starts in a second inside a test, and the same `Client` API reaches a
multi-machine cluster (SSH, Kubernetes, HPC job queues via dask-jobqueue) without a
separate daemon or a large native runtime. Ray would add a ~100 MB native runtime and a
cluster process for the same task-farming pattern.

Whatever runs them, results come back sorted by (point, replication): the seeds are fixed
before dispatch, so the answers do not depend on the executor or the worker count.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from typing import Any

from happysimulator.experiments.summarize import ReplicationSummary, Task, run_task
from happysimulator.progress import progress_bar

__all__ = ["run_tasks", "is_dask_client"]


def is_dask_client(executor: Any) -> bool:
    return type(executor).__module__.startswith("distributed") and hasattr(executor, "submit")


def _dumps(task: Task) -> bytes:
    """Tasks travel as bytes: callables defined in a notebook or script (``__main__``)
    go by value with cloudpickle when it is installed, otherwise by reference."""
    try:
        import cloudpickle
    except ImportError:
        cloudpickle = None
    if cloudpickle is None:
        for fn in (task.model, task.measure):
            if callable(fn) and getattr(fn, "__module__", None) == "__main__":
                # by reference, a worker process could not find it (its __main__ differs)
                raise TypeError(
                    f"{getattr(fn, '__name__', fn)!r} is defined in __main__ (a script or "
                    "notebook): worker processes cannot import it. Install cloudpickle "
                    "(pip install 'happysim-rx[dask]'), move it to a module, give the "
                    "model as 'path/file.py:factory', or use executor='serial'")
    try:
        return (cloudpickle or pickle).dumps(task)
    except Exception as exc:
        raise TypeError(
            f"the model or measure cannot be sent to worker processes ({exc}); give the model "
            "as 'path/file.py:factory', define it at the top level of a module, install "
            "cloudpickle, or use executor='serial'") from exc


def _run_blob(blob: bytes) -> ReplicationSummary:
    return run_task(pickle.loads(blob))


def _mp_context() -> Any:
    # forkserver: workers do not inherit the parent's threads (fork with threads can
    # deadlock); spawn where there is no forkserver
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def run_tasks(tasks: Sequence[Task], executor: Any, *, workers: int | None,
              progress: bool | None, desc: str) -> list[ReplicationSummary]:
    """Run every task; results sorted by (point, replication). The first failure cancels
    what has not started and is raised."""
    results: list[ReplicationSummary] = []
    with progress_bar(len(tasks), desc, progress, unit="rep") as bar:
        if executor == "serial":
            for t in tasks:
                results.append(run_task(t))
                bar.update(1)
        elif executor is None:
            n = _workers(workers, len(tasks))
            with ProcessPoolExecutor(max_workers=n, mp_context=_mp_context()) as pool:
                results = _collect([pool.submit(_run_blob, _dumps(t)) for t in tasks], bar)
        elif is_dask_client(executor):
            results = _run_dask(executor, tasks, bar)
        elif isinstance(executor, Executor):
            results = _collect([executor.submit(_run_blob, _dumps(t)) for t in tasks], bar)
        else:
            raise TypeError(
                "executor must be None (local process pool), 'serial' (this process), a "
                "concurrent.futures.Executor or a dask.distributed Client; got "
                f"{type(executor).__name__}")
    results.sort(key=lambda r: (r.point, r.replication))
    return results


def _workers(workers: int | None, ntasks: int) -> int:
    if workers is None:
        workers = os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int (or None: one per CPU), got {workers!r}")
    return max(1, min(workers, ntasks))


def _collect(futures: list[Future], bar: Any) -> list[ReplicationSummary]:
    out = []
    try:
        for f in as_completed(futures):
            out.append(f.result())
            bar.update(1)
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    return out


def _run_dask(client: Any, tasks: Sequence[Task], bar: Any) -> list[ReplicationSummary]:
    from distributed import as_completed as dask_completed

    futures = [client.submit(run_task, t, pure=False) for t in tasks]
    out = []
    try:
        for f in dask_completed(futures):
            out.append(f.result())
            bar.update(1)
    except BaseException:
        client.cancel(futures)
        raise
    return out
