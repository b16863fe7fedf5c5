"""A failed grid point keeps the rest; Ctrl-C stops every executor and keeps what completed
(SIGINT sent to a real process); model paths resolved in the client; one BLAS thread."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from happysimulator.experiments import (
    Failure,
    ReplicationError,
    replicate,
    sweep,
)
from happysimulator.experiments.blas import blas_threads

REPO = Path(__file__).resolve().parents[2]
MODELS = Path(__file__).with_name("models.py")


# -- errors="collect" / "raise" ------------------------------------------------------------
def test_collect_keeps_the_good_points_and_lists_each_failure() -> None:
    sw = sweep(f"{MODELS}:fails_at", {"mu": [10.0, 12.0, 14.0]}, replications=3, seed=1,
               executor="serial", params={"bad_mu": 12.0}, metrics=["wait_time"],
               aggregates=["mean"], errors="collect")
    assert [(f.point, f.replication) for f in sw.failures] == [({"mu": 12.0}, r)
                                                                for r in range(3)]
    assert all(isinstance(f, Failure) and isinstance(f.error, ReplicationError)
               and "no model for mu=12.0" in str(f.error) for f in sw.failures)
    point, replication, error = sw.failures[0]  # unpacks as (point, replication, error)
    assert replication == 0 and "seed=" in str(error)
    assert sw.at(mu=10.0).n == 3 and sw.at(mu=14.0).n == 3 and sw.at(mu=12.0).n == 0
    # the good points are exactly what a sweep of them alone gives (same seeds)
    good = sweep(f"{MODELS}:fails_at", [{"mu": 10.0}], replications=3, seed=1,
                 executor="serial", metrics=["wait_time"], aggregates=["mean"])
    assert sw.at(mu=10.0).estimate("wait_time").values == good[0].estimate("wait_time").values
    df = sw.estimates_dataframe("wait_time", entity="Server")
    assert list(df["n"]) == [3, 0, 3] and list(df["failed"]) == [0, 3, 0]
    with pytest.raises(ValueError, match=r"no completed replications at \{'mu': 12.0\}"):
        sw.at(mu=12.0).estimate("wait_time")
    assert "failed=3" in repr(sw)


def test_raise_attaches_the_completed_results_as_partial() -> None:
    with pytest.raises(ReplicationError, match="no model for mu=12.0") as info:
        sweep(f"{MODELS}:fails_at", {"mu": [10.0, 12.0, 14.0]}, replications=2, seed=1,
              executor="serial", params={"bad_mu": 12.0}, metrics=["wait_time"],
              aggregates=["mean"])
    partial = info.value.partial
    assert partial.at(mu=10.0).n == 2  # completed before the failure: kept
    assert partial.at(mu=14.0).n == 0  # not started after it
    assert [(f.point, f.replication) for f in info.value.failures] == [({"mu": 12.0}, 0)]


def test_collect_in_a_process_pool_and_replicate_failures() -> None:
    reps = replicate(f"{MODELS}:fails_odd_seeds", n=6, seed=3, workers=2, errors="collect",
                     metrics=["wait_time"], aggregates=["mean"])
    odd = [s for s in reps.seeds if s % 2]
    assert reps.n + len(reps.failures) == 6 and len(reps.failures) == len(
        [r for r in range(6) if r not in {run.replication for run in reps.runs}])
    assert not odd  # the completed ones are the even seeds
    assert all("ArithmeticError: odd seed" in str(f.error) for f in reps.failures)
    with pytest.raises(ValueError, match="errors must be 'raise' or 'collect'"):
        replicate(f"{MODELS}:fails_odd_seeds", n=2, errors="ignore")


# -- Ctrl-C ----------------------------------------------------------------------------------
SWEEP = """
try:
    sw = sweep("tests/experiments/models.py:announced", {"customers": [1500, 1501]},
               replications=30, seed=1, executor=executor, workers=2,
               metrics=["wait_time"], aggregates=["mean"])
    print("finished", flush=True)
except ExperimentInterrupted as exc:
    print("interrupted", sum(r.n for r in exc.partial), flush=True)
"""

SCRIPT = """
from happysimulator.experiments import ExperimentInterrupted, sweep
if __name__ == "__main__":  # (pool workers import this file)
    executor = EXECUTOR
""" + textwrap.indent(SWEEP, " " * 4)

DASK_SCRIPT = """
from distributed import Client, LocalCluster
from happysimulator.experiments import ExperimentInterrupted, sweep
if __name__ == "__main__":
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as executor:
""" + textwrap.indent(SWEEP, " " * 8)


@pytest.mark.parametrize("executor", ["'serial'", "None", "dask"])
def test_sigint_stops_the_sweep_and_keeps_completed_results(executor, tmp_path) -> None:
    if executor == "dask":
        pytest.importorskip("distributed")
        code = DASK_SCRIPT
    else:
        code = SCRIPT.replace("EXECUTOR", executor)
    script = tmp_path / "run_sweep.py"
    script.write_text(code)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # (SIGINT back to its default in the child: a test run started in the background
    # inherits it ignored, and Python then never turns it into KeyboardInterrupt)
    proc = subprocess.Popen([sys.executable, str(script)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        # >= 1 replication completed and its result back in the sweep: serially, the third
        # build comes after two results were kept; with workers, a result travels back
        # while the next builds start, so wait for a few more (a loaded machine is slow)
        need = 3 if executor == "'serial'" else 6
        built = 0
        deadline = time.monotonic() + 60
        while built < need and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            built += line.startswith("built")
        assert built == need, "the sweep did not start"
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        stopped_in = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "finished" not in out, out
    assert out.startswith("interrupted"), (out, err[-2000:])
    assert int(out.split()[1]) >= 1  # completed replications reachable
    assert stopped_in < 8.0, stopped_in  # a few seconds, not the 60 replications


# -- where workers find the model ----------------------------------------------------------
def test_relative_model_path_is_resolved_in_the_client(tmp_path, monkeypatch) -> None:
    """A Dask worker's directory is not the client's: the path travels absolute."""
    distributed = pytest.importorskip("distributed")
    monkeypatch.chdir(REPO)
    spec = "tests/experiments/models.py:mmc"
    elsewhere = tmp_path / "worker_dir"
    elsewhere.mkdir()
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None,
                                  local_directory=str(elsewhere)) as cluster, \
            distributed.Client(cluster) as client:
        client.run(os.chdir, str(elsewhere))  # the worker resolves paths from elsewhere
        assert client.run(os.getcwd) != {}  # (reached the worker)
        reps = replicate(spec, n=1, seed=1, executor=client, params={"customers": 200},
                         metrics=["wait_time"], aggregates=["mean"])
    assert reps.n == 1 and reps.runs[0].params == {"customers": 200}


# -- BLAS threads --------------------------------------------------------------------------
def _threads(sim) -> dict[str, float]:
    n = blas_threads()
    return {"blas_threads": -1.0 if n is None else float(n)}


def test_every_executor_summarizes_with_one_blas_thread() -> None:
    if blas_threads() is None:
        pytest.skip("no OpenBLAS loaded (another BLAS build)")
    before = blas_threads()
    kw = dict(n=2, seed=1, params={"customers": 100}, metrics=["wait_time"],
              aggregates=["mean"], measure=_threads)
    serial = replicate(f"{MODELS}:mmc", executor="serial", **kw)
    pool = replicate(f"{MODELS}:mmc", workers=2, **kw)
    assert serial.estimate("blas_threads").values == (1.0, 1.0)
    assert pool.estimate("blas_threads").values == (1.0, 1.0)
    assert blas_threads() == before  # this process gets its own count back


def test_gauge_means_identical_serial_and_pool_bit_for_bit() -> None:
    kw = dict(n=2, seed=5, params={"customers": 3000}, metrics=["queue_depth", "in_flight"])
    a = replicate(f"{MODELS}:mmc", executor="serial", **kw).to_dataframe()
    b = replicate(f"{MODELS}:mmc", workers=2, **kw).to_dataframe()
    assert np.array_equal(a["value"].to_numpy(float), b["value"].to_numpy(float),
                          equal_nan=True)
