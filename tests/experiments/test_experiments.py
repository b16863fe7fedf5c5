"""Replications and sweeps: seeds, estimates against theory and brute force, executors
(this process, a local process pool, a Dask LocalCluster) giving identical answers."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happysimulator.experiments import (
    Estimate,
    ReplicationError,
    replicate,
    replication_seeds,
    sweep,
    sweep_seeds,
)
from happysimulator.experiments.models import ModelSpecError
from happysimulator.experiments.summarize import Task, run_task

MODELS = Path(__file__).with_name("models.py")
MMC = f"{MODELS}:mmc"


def erlang_c(c: int, lam: float, mu: float) -> float:
    """Probability that an arrival waits in M/M/c (Erlang C)."""
    a = lam / mu
    rho = a / c
    top = a**c / math.factorial(c) / (1 - rho)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def p_wait(sim) -> dict[str, float]:
    """Fraction of customers that waited (a per-replication measure)."""
    waits = [r["value"] for r in sim.query.metrics("wait_time").execute().rows]
    return {"p_wait": float(np.mean(np.array(waits) > 0))}


# -- seeds ----------------------------------------------------------------------------------
def test_seeds_are_distinct_reproducible_and_stable_when_the_grid_grows() -> None:
    seeds = replication_seeds(1, 50)
    assert len(set(seeds)) == 50 and seeds == replication_seeds(1, 50)
    assert replication_seeds(2, 50) != seeds
    assert replication_seeds(1, 10) == seeds[:10]  # more replications extend, not reshuffle
    grid = sweep_seeds(1, 3, 5)
    assert sweep_seeds(1, 4, 5)[:3] == grid  # adding a point keeps the others' streams
    assert len({s for row in grid for s in row}) == 15
    crn = sweep_seeds(1, 3, 5, common_random_numbers=True)
    assert crn[0] == crn[1] == crn[2]
    with pytest.raises(TypeError, match="non-negative int"):
        replication_seeds(-1, 3)


# -- accuracy against theory ------------------------------------------------------------------
def test_mm1_mean_wait_ci_over_20_replications_covers_theory() -> None:
    lam, mu = 8.0, 10.0
    reps = replicate(MMC, n=20, seed=1, executor="serial", warmup=25.0,
                     params={"rate": lam, "mu": mu, "customers": 4000})
    est = reps.estimate("wait_time", entity="Server", aggregate="mean")
    theory = (lam / mu) / (mu - lam)  # Wq = rho / (mu - lambda) = 0.4 s
    lo, hi = est.ci(0.95)
    assert est.n == 20 and len(est.values) == 20
    assert lo <= theory <= hi, (est, theory)
    assert est.half_width < 0.15 * theory  # and the interval is informative
    assert est.ci(0.99)[0] < lo and est.ci(0.99)[1] > hi


def test_mmc_erlang_c_across_a_sweep_of_c() -> None:
    lam, mu = 8.0, 5.0
    sw = sweep(MMC, {"c": [2, 3, 4]}, replications=12, seed=3, executor="serial",
               params={"rate": lam, "mu": mu, "customers": 3000}, warmup=20.0,
               metrics=["wait_time"], aggregates=["mean"], measure=p_wait)
    assert [p["c"] for p in sw.points] == [2, 3, 4]
    # six 99.9 % intervals: a miss would mean a bias, not bad luck (Bonferroni)
    for c, reps in zip((2, 3, 4), sw, strict=True):
        pw = erlang_c(c, lam, mu)
        wq = pw / (c * mu - lam)
        est = reps.estimate("wait_time", entity="Server")
        assert est.ci(0.999)[0] <= wq <= est.ci(0.999)[1], (c, est, wq)
        prob = reps.estimate("p_wait")
        assert prob.aggregate == "value" and prob.entity is None
        assert prob.ci(0.999)[0] <= pw <= prob.ci(0.999)[1], (c, prob, pw)
    df = sw.estimates_dataframe("wait_time", entity="Server")
    assert list(df["c"]) == [2, 3, 4] and (df["mean"].diff().dropna() < 0).all()


# -- estimates against brute force ----------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=30),
       st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_ci_ends_are_where_a_one_sample_t_test_just_rejects(values, level) -> None:
    from scipy import stats

    est = Estimate("x", None, "mean", tuple(values))
    assert est.mean == pytest.approx(np.mean(values), abs=1e-9)
    if np.std(values) < 1e-6:
        return
    lo, hi = est.ci(level)
    for end in (lo, hi):
        p = stats.ttest_1samp(values, end).pvalue
        assert p == pytest.approx(1 - level, rel=1e-6)


def test_pooled_quantile_merges_sketches_and_matches_the_pooled_samples() -> None:
    reps = replicate(MMC, n=6, seed=5, executor="serial", params={"customers": 1500})
    pooled = reps.quantile("latency", 0.99, entity="Sink")
    # brute force: rebuild every replication with its seed and pool the raw samples
    from tests.experiments.models import mmc

    raw = []
    for seed in reps.seeds:
        sim = mmc(seed=seed, customers=1500)
        sim.run()
        raw += [r["value"] for r in sim.query.metrics("latency").execute().rows]
    raw = np.sort(raw)
    lo, hi = np.quantile(raw, 0.99, method="lower"), np.quantile(raw, 0.99, method="higher")
    a = pooled.relative_accuracy
    assert lo * (1 - a) <= pooled.value <= hi * (1 + a)
    assert pooled.count == len(raw) and pooled.n == 6
    assert float(pooled) == pooled.value and pooled.weighting == "sample"
    # not the average of the per-replication p99s (those come with their own CI)
    per = pooled.per_replication
    assert per.n == 6 and per.mean != pytest.approx(pooled.value, rel=1e-9)
    assert reps.quantile("latency", "p99", entity="Sink").value == pooled.value
    gauge = reps.quantile("queue_depth", 0.5, entity="Server")
    assert gauge.weighting == "time"


def test_streaming_stores_pool_their_rollup_sketches() -> None:
    kw = dict(n=3, seed=8, executor="serial", params={"customers": 3000})
    exact = replicate(MMC, **kw)
    rolled = replicate(MMC, **{**kw, "params": {"customers": 3000, "streaming": True}})
    assert exact.seeds == rolled.seeds
    for metric, entity in (("latency", "Sink"), ("queue_depth", "Server")):
        a = exact.quantile(metric, 0.9, entity=entity)
        b = rolled.quantile(metric, 0.9, entity=entity)
        # the same samples in sketches of the same accuracy: the same buckets
        assert b.count == pytest.approx(a.count, rel=1e-9), metric
        assert b.value == pytest.approx(a.value, rel=1e-9), metric


# -- executors, payload, results ---------------------------------------------------------------
def test_process_pool_and_dask_cluster_give_the_serial_answers() -> None:
    distributed = pytest.importorskip("distributed")
    grid = {"c": [1, 2], "rate": [6.0, 8.0]}
    kw = dict(replications=3, seed=11, params={"customers": 300})
    serial = sweep(MMC, grid, executor="serial", **kw).to_dataframe()
    pool = sweep(MMC, grid, workers=2, **kw).to_dataframe()
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        dask = sweep(MMC, grid, executor=client, **kw).to_dataframe()
    assert len(serial) > 0 and set(serial["c"]) == {1, 2} and set(serial["rate"]) == {6.0, 8.0}
    assert serial.equals(pool) and serial.equals(dask)
    assert serial["replication"].max() == 2 and serial.groupby(["c", "rate"])["seed"].nunique() \
        .eq(3).all()


def test_only_summaries_travel_back() -> None:
    def payload(customers: int) -> int:
        task = Task(model=MMC, params={"customers": customers}, seed=1, point=0, replication=0)
        return len(pickle.dumps(run_task(task)))

    small, large = payload(300), payload(6000)
    assert large < 1.5 * small, (small, large)  # not proportional to the samples
    assert large < 64_000


def test_tidy_dataframe_and_per_replication_values() -> None:
    reps = replicate(MMC, n=3, seed=2, executor="serial", params={"customers": 200, "c": 2})
    df = reps.to_dataframe()
    assert list(df.columns) == ["customers", "c", "replication", "seed", "entity", "metric",
                                "kind", "aggregate", "value"]
    one = df[(df["metric"] == "wait_time") & (df["aggregate"] == "p99")]
    assert list(one["replication"]) == [0, 1, 2] and set(one["entity"]) == {"Server"}
    assert list(one["value"]) == reps.values("wait_time", entity="Server", aggregate="p99")
    runs = reps.runs_dataframe()
    assert list(runs["stop_reason"]) == ["complete"] * 3 and (runs["events_processed"] > 0).all()
    html = reps._repr_html_()
    assert "<table>" in html and "wait_time" in html


def test_progress_bar_counts_replications(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    replicate(MMC, n=4, seed=1, executor="serial", params={"customers": 50}, progress=True)
    err = capsys.readouterr().err
    assert "replications" in err and "4/4" in err


# -- errors name the valid choices -----------------------------------------------------------------
def test_bad_models_parameters_and_questions_are_clear_errors() -> None:
    with pytest.raises(TypeError, match="must take a 'seed' keyword"):
        replicate(f"{MODELS}:no_seed", n=2, executor="serial")
    with pytest.raises(ReplicationError, match=r"replication 0 \(seed=.*pass the seed on"):
        replicate(f"{MODELS}:ignores_seed", n=2, executor="serial")
    with pytest.raises(TypeError, match=r"no parameter\(s\) \['lambda_'\]; it takes: c, "):
        replicate(MMC, n=2, executor="serial", params={"lambda_": 3})
    # (the command line's loader: one way to name a model)
    with pytest.raises(ModelSpecError, match="has no 'nope'; its functions: .*ignores_seed, mmc"):
        replicate(f"{MODELS}:nope", n=2)
    with pytest.raises(ModelSpecError, match="no model file"):
        replicate("no/such/file.py:build", n=2)
    with pytest.raises(ModelSpecError, match="'path/to/file.py:factory'"):
        replicate("build", n=2)
    with pytest.raises(ValueError, match="positive int"):
        replicate(MMC, n=0)
    with pytest.raises(TypeError, match=r"grid\['c'\] must be a list"):
        sweep(MMC, {"c": 2})
    with pytest.raises(ValueError, match="both swept and fixed"):
        sweep(MMC, {"c": [1]}, params={"c": 2})
    with pytest.raises(ValueError, match="unknown aggregate|valid"):
        replicate(MMC, n=2, aggregates=["avg_wait"])
    with pytest.raises(TypeError, match="executor must be"):
        replicate(MMC, n=2, executor=object(), params={"customers": 10})
    reps = replicate(MMC, n=2, seed=1, executor="serial", params={"customers": 50})
    with pytest.raises(KeyError, match="did you mean 'wait_time'"):
        reps.estimate("wait_tim")
    with pytest.raises(KeyError, match="computed: count, max, mean"):
        reps.estimate("wait_time", aggregate="p75")
    with pytest.raises(ValueError, match="counter"):
        reps.quantile("completed", 0.5, entity="Server")
    one = replicate(MMC, n=1, seed=1, executor="serial", params={"customers": 50})
    with pytest.raises(ValueError, match="at least 2 replications"):
        _ = one.estimate("wait_time").half_width


def test_a_factory_defined_in_a_script_runs_on_the_process_pool(tmp_path: Path) -> None:
    """As in a notebook: the factory lives in __main__ (sent by value with cloudpickle)."""
    pytest.importorskip("cloudpickle")
    import subprocess
    import sys

    script = tmp_path / "notebook_like.py"
    script.write_text(
        "from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source\n"
        "from happysimulator.experiments import replicate\n"
        "def build(*, seed, rate=5.0):\n"
        "    server = Server('Server', concurrency=1, service_time=ExponentialLatency(0.1))\n"
        "    server.downstream = Sink('Sink')\n"
        "    src = Source.poisson(rate=rate, target=server, limit=200)\n"
        "    return Simulation(sources=[src], entities=[server], seed=seed)\n"
        "if __name__ == '__main__':\n"
        "    reps = replicate(build, n=3, seed=1, workers=2, progress=False)\n"
        "    print(reps.n, sorted(set(reps.seeds)) == sorted(reps.seeds))\n")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["3", "True"]


def test_windowed_replications_give_a_band_per_window() -> None:
    reps = replicate(MMC, n=4, seed=9, executor="serial", window=50.0,
                     params={"customers": 1200}, metrics=["queue_depth"])
    band = reps.over_time("queue_depth", entity="Server")
    assert band.query["window"] == 50.0 and band.series_kind == "gauge"
    assert band.weighting == "time" and [r["start"] for r in band.rows][:3] == [0.0, 50.0, 100.0]
    # brute force: every replication rebuilt with its seed, queried per window
    from tests.experiments.models import mmc

    per = []
    for seed in reps.seeds:
        sim = mmc(seed=seed, customers=1200)
        sim.run()
        end = math.nextafter(sim.clock.now(), math.inf)
        w = sim.query.metrics("queue_depth").from_entity("Server").between(0, end) \
            .window(50.0).aggregate("mean").execute()
        # whole windows only: a run's last, cut short by its end, is not mixed in
        per.append({r["start"]: r["mean"] for r in w.rows
                    if r["mean"] is not None and r["end"] - r["start"] >= 50.0 - 1e-9})
    for row in band.rows:
        vals = [p[row["start"]] for p in per if row["start"] in p]
        assert row["n"] == len(vals)
        assert row["mean"] == pytest.approx(np.mean(vals), rel=1e-12)
        if row["n"] >= 2:
            assert row["ci_high"] - row["mean"] == pytest.approx(row["half_width"])
    assert band.series[0] == (0.0, band.rows[0]["mean"])
    with pytest.raises(KeyError, match="computed: last, max, mean, min, p50, p99"):
        reps.over_time("queue_depth", aggregate="p90")
    plain = replicate(MMC, n=2, seed=9, executor="serial", params={"customers": 50})
    with pytest.raises(ValueError, match="window=seconds"):
        plain.over_time("queue_depth")
