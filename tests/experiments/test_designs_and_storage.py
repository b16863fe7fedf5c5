"""Latin hypercube and Sobol' designs as sweep points; saved results that load back
bit for bit (and that DuckDB reads); a cache that skips finished replications."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from happysimulator.experiments import (
    Replications,
    Sweep,
    latin_hypercube,
    load,
    replicate,
    sobol,
    sweep,
)

MODELS = Path(__file__).with_name("models.py")
MMC = f"{MODELS}:mmc"


# -- designs ----------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 7, 32])
def test_latin_hypercube_puts_one_point_in_each_slice_of_every_range(n) -> None:
    space = {"rate": (5.0, 9.0), "mu": (10.0, 12.0), "c": [1, 2, 3]}
    pts = latin_hypercube(space, n=n, seed=4)
    assert len(pts) == n and pts == latin_hypercube(space, n=n, seed=4)
    for name, (lo, hi) in (("rate", (5.0, 9.0)), ("mu", (10.0, 12.0))):
        slices = sorted(int((p[name] - lo) / (hi - lo) * n) for p in pts)
        assert slices == list(range(n))  # the defining property
    assert {p["c"] for p in pts} <= {1, 2, 3}
    assert latin_hypercube(space, n=n, seed=5) != pts or n == 1


def test_sobol_is_balanced_and_reproducible() -> None:
    pts = sobol({"rate": (0.0, 1.0), "mu": (0.0, 1.0)}, n=16, seed=2)
    assert pts == sobol({"rate": (0.0, 1.0), "mu": (0.0, 1.0)}, n=16, seed=2)
    u = np.array([[p["rate"], p["mu"]] for p in pts])
    # a (0, m, 2)-net in base 2: every 1/4 x 1/4 cell holds exactly one of 16 points
    cells = {(int(a * 4), int(b * 4)) for a, b in u}
    assert len(cells) == 16


def test_designs_reject_bad_spaces() -> None:
    with pytest.raises(ValueError, match="low must be < high"):
        latin_hypercube({"rate": (9.0, 5.0)}, n=4, seed=1)
    with pytest.raises(TypeError, match=r"\(low, high\) or a list of choices"):
        sobol({"rate": 5.0}, n=4, seed=1)
    with pytest.raises(ValueError, match="n must be a positive int"):
        latin_hypercube({"rate": (1.0, 2.0)}, n=0, seed=1)


def test_a_latin_hypercube_sweep_runs_every_point() -> None:
    pts = latin_hypercube({"rate": (5.0, 9.0)}, n=4, seed=1)
    sw = sweep(MMC, pts, replications=2, seed=1, executor="serial",
               params={"customers": 200}, metrics=["wait_time"], aggregates=["mean"])
    df = sw.estimates_dataframe("wait_time", entity="Server")
    assert list(df["rate"]) == [p["rate"] for p in pts] and (df["n"] == 2).all()


# -- save / load ------------------------------------------------------------------------------
def test_saved_replications_load_back_with_identical_answers(tmp_path) -> None:
    reps = replicate(MMC, n=4, seed=2, executor="serial", window=20.0,
                     params={"customers": 500}, metrics=["wait_time", "queue_depth"])
    reps.save(tmp_path / "reps")
    back = load(tmp_path / "reps")
    assert isinstance(back, Replications) and back.seeds == reps.seeds
    assert back.params == reps.params and back.n == 4
    for metric in ("wait_time", "queue_depth"):
        assert back.estimate(metric, entity="Server").values == \
            reps.estimate(metric, entity="Server").values
        for q in (0.5, 0.99):  # pooled from the saved sketches, exactly
            assert back.quantile(metric, q, entity="Server").value == \
                reps.quantile(metric, q, entity="Server").value
    assert back.to_dataframe().equals(reps.to_dataframe())
    assert back.over_time("queue_depth", entity="Server").rows == \
        reps.over_time("queue_depth", entity="Server").rows
    # a real consumer reads the table
    duckdb = pytest.importorskip("duckdb")
    n = duckdb.sql(f"select count(*) from '{tmp_path / 'reps' / 'scalars.parquet'}' "
                   "where metric = 'wait_time' and aggregate = 'mean'").fetchall()[0][0]
    assert n == 4
    meta = json.loads((tmp_path / "reps" / "experiment.json").read_text())
    assert meta["format"] == "happysim-rx.experiment/1"


def test_a_saved_sweep_keeps_its_points_and_failures(tmp_path) -> None:
    sw = sweep(f"{MODELS}:fails_at", {"mu": [10.0, 12.0]}, replications=2, seed=1,
               executor="serial", params={"bad_mu": 12.0}, metrics=["wait_time"],
               aggregates=["mean"], errors="collect", common_random_numbers=True)
    sw.save(tmp_path / "sw")
    back = load(tmp_path / "sw")
    assert isinstance(back, Sweep) and back.points == sw.points
    assert back.common_random_numbers
    assert [(f.point, f.replication) for f in back.failures] == \
        [(f.point, f.replication) for f in sw.failures]
    assert "no model for mu=12.0" in str(back.failures[0].error)
    assert back.at(mu=10.0).estimate("wait_time").values == \
        sw.at(mu=10.0).estimate("wait_time").values
    with pytest.raises(FileNotFoundError, match="no saved experiment"):
        load(tmp_path / "nothing")


# -- cache ------------------------------------------------------------------------------------
def test_cache_skips_replications_already_computed(tmp_path) -> None:
    calls = tmp_path / "calls.txt"
    kw = dict(seed=3, executor="serial", params={"customers": 200, "log": str(calls)},
              metrics=["wait_time"], aggregates=["mean"], cache=tmp_path / "cache")
    first = replicate(f"{MODELS}:counted", n=3, **kw)
    assert len(calls.read_text().split()) == 3
    again = replicate(f"{MODELS}:counted", n=5, **kw)  # 3 cached, 2 new
    assert len(calls.read_text().split()) == 5
    assert again.estimate("wait_time").values[:3] == first.estimate("wait_time").values
    fresh = replicate(f"{MODELS}:counted", n=5, **{**kw, "cache": None})
    assert fresh.estimate("wait_time").values == again.estimate("wait_time").values
    other = replicate(f"{MODELS}:counted", n=1, **{**kw, "params": {"customers": 201,
                                                                     "log": str(calls)}})
    assert other.n == 1 and len(calls.read_text().split()) == 5 + 5 + 1  # new parameters
