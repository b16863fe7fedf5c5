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
import signal
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import CancelledError, Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from happysimulator.experiments.blas import pin_environment
from happysimulator.experiments.summarize import (
    ReplicationError,
    ReplicationSummary,
    Task,
    run_task,
)
from happysimulator.progress import progress_bar

__all__ = ["Outcome", "run_tasks", "is_dask_client"]


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


def _worker_init() -> None:
    """Every local pool worker: one BLAS thread (set before NumPy is imported there), and
    Ctrl-C left to the parent, which stops the pool (a worker that took it would pause
    its simulation, and the replication runner would resume it)."""
    pin_environment()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _mp_context() -> Any:
    # forkserver: workers do not inherit the parent's threads (fork with threads can
    # deadlock); spawn where there is no forkserver
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


@dataclass
class Outcome:
    """What came back: the completed replications (sorted by point, replication), the
    failed ones (task, exception) and whether Ctrl-C stopped the run."""

    results: list[ReplicationSummary] = field(default_factory=list)
    failures: list[tuple[Task, BaseException]] = field(default_factory=list)
    interrupted: bool = False


def run_tasks(tasks: Sequence[Task], executor: Any, *, workers: int | None,
              progress: bool | None, desc: str, errors: str = "raise",
              done: Callable[[ReplicationSummary], None] | None = None) -> Outcome:
    """Run every task. ``errors="raise"``: the first failure cancels what has not started
    (what is running finishes and is kept); ``"collect"``: every task runs. Ctrl-C
    (KeyboardInterrupt) cancels what has not started and returns at once with what
    completed (``interrupted=True``). ``done(summary)`` is called as each one completes."""
    out = Outcome()

    def finished(r: ReplicationSummary) -> None:
        out.results.append(r)
        if done is not None:
            done(r)

    with progress_bar(len(tasks), desc, progress, unit="rep") as bar:
        if executor == "serial":
            _run_serial(tasks, out, bar, errors, finished)
        elif executor is None:
            n = _workers(workers, len(tasks))
            pool = ProcessPoolExecutor(max_workers=n, mp_context=_mp_context(),
                                       initializer=_worker_init)
            try:
                futures = {pool.submit(_run_blob, _dumps(t)): t for t in tasks}
                _collect(futures, out, bar, errors, finished, cancel=_cancel_futures)
            finally:
                if out.interrupted:
                    _stop_pool(pool)
                else:
                    pool.shutdown(wait=True)
        elif is_dask_client(executor):
            from distributed import as_completed as dask_completed

            futures = {executor.submit(run_task, t, pure=False): t for t in tasks}
            _collect(futures, out, bar, errors, finished,
                     cancel=lambda fs: executor.cancel(list(fs)), completed=dask_completed)
        elif isinstance(executor, Executor):
            futures = {executor.submit(_run_blob, _dumps(t)): t for t in tasks}
            _collect(futures, out, bar, errors, finished, cancel=_cancel_futures)
        else:
            raise TypeError(
                "executor must be None (local process pool), 'serial' (this process), a "
                "concurrent.futures.Executor or a dask.distributed Client; got "
                f"{type(executor).__name__}")
    out.results.sort(key=lambda r: (r.point, r.replication))
    out.failures.sort(key=lambda f: (f[0].point, f[0].replication))
    return out


def _run_serial(tasks: Sequence[Task], out: Outcome, bar: Any, errors: str,
                finished: Callable[[ReplicationSummary], None]) -> None:
    # A Ctrl-C here must stop the sweep: the run loop would turn it into a pause (which
    # the replication runner resumes), so while replications run in this process a
    # handler of ours raises KeyboardInterrupt (the loop leaves a handler it did not
    # install alone). The simulation interrupted is thrown away.
    old = None
    if threading.current_thread() is threading.main_thread():
        old = signal.signal(signal.SIGINT, _interrupt)
    try:
        for t in tasks:
            try:
                r = run_task(t)
            except ReplicationError as exc:
                out.failures.append((t, exc))
                bar.update(1)
                if errors == "raise":
                    return
                continue
            finished(r)
            bar.update(1)
    except KeyboardInterrupt:
        out.interrupted = True
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _workers(workers: int | None, ntasks: int) -> int:
    if workers is None:
        workers = os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int (or None: one per CPU), got {workers!r}")
    return max(1, min(workers, ntasks))


def _cancel_futures(futures: Iterable[Future]) -> None:
    for f in futures:
        f.cancel()


def _collect(futures: dict[Any, Task], out: Outcome, bar: Any, errors: str,
             finished: Callable[[ReplicationSummary], None], *,
             cancel: Callable[[Iterable[Any]], None],
             completed: Callable[..., Iterable[Any]] = as_completed) -> None:
    stopping = False
    try:
        for f in completed(list(futures)):
            if f.cancelled():
                continue
            try:
                r = f.result()
            except ReplicationError as exc:
                out.failures.append((futures[f], exc))
                bar.update(1)
                if errors == "raise" and not stopping:
                    stopping = True  # what runs finishes (and is kept); the rest is dropped
                    cancel([g for g in futures if not g.done()])
                continue
            except CancelledError:
                continue
            finished(r)
            bar.update(1)
    except KeyboardInterrupt:
        out.interrupted = True
        cancel(list(futures))
        # what completed while we were stopping is still ours
        for f in futures:
            if f.done() and not f.cancelled() and f.exception() is None:
                r = f.result()
                if all(r is not k for k in out.results):
                    finished(r)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Ctrl-C: stop the pool's workers now (a replication in progress is abandoned)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for p in procs:
        if p.is_alive():
            p.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        p.join(timeout=2.0)
