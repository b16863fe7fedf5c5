"""Warm-up (MSER-5), batch means from one long run, replicate-until-precise, and
over_time windows that never overlap nor mix partial windows."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happysimulator.experiments import batch_means, replicate
from happysimulator.experiments.steady_state import mser_truncation
from tests.experiments.models import mmc

MODELS = Path(__file__).with_name("models.py")
MMC = f"{MODELS}:mmc"


def _brute_mser(y: np.ndarray, batch: int) -> int:
    m = len(y) // batch
    z = [float(np.mean(y[j * batch:(j + 1) * batch])) for j in range(m)]
    stats = []
    for d in range(m // 2 + 1):
        rest = z[d:]
        mean = sum(rest) / len(rest)
        stats.append(sum((x - mean) ** 2 for x in rest) / len(rest) ** 2)
    return int(np.argmin(stats)) * batch


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-100, 100, allow_nan=False), min_size=20, max_size=200))
def test_mser_matches_its_definition(values) -> None:
    y = np.array(values)
    assert mser_truncation(y) == _brute_mser(y, 5)


def test_mser_finds_an_initial_transient() -> None:
    rng = np.random.default_rng(1)
    y = np.r_[np.linspace(20, 0, 100), np.zeros(900)] + rng.normal(0, 1, 1000)
    d = mser_truncation(y)
    assert 60 <= d <= 140, d


def test_reps_warmup_of_an_mm1_that_starts_full() -> None:
    """M/M/1 (rho 0.5) whose queue starts 40 deep drains in ~40/(mu - lambda) = 8 s:
    MSER-5 on the replication-averaged window means cuts after that, and the steady-state
    estimate with that warm-up covers theory (Lq = rho^2 / (1 - rho) = 0.5)."""
    kw = dict(n=16, seed=1, executor="serial", metrics=["queue_depth"], aggregates=["mean"],
              params={"rate": 5.0})
    reps = replicate(f"{MODELS}:starts_full", window=1.0, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a steady state was found in the first half
        cut = reps.warmup("queue_depth", entity="Server")
    assert 8.0 <= cut < 100.0, cut
    steady = replicate(f"{MODELS}:starts_full", warmup=cut, **kw)
    lo, hi = steady.estimate("queue_depth", entity="Server").ci()
    assert lo <= 0.5 <= hi, (lo, hi)
    biased = replicate(f"{MODELS}:starts_full", **kw).estimate("queue_depth", entity="Server")
    assert biased.ci()[0] > 0.5  # without the warm-up the transient shows
    with pytest.raises(ValueError, match="window="):
        replicate(MMC, n=2, executor="serial", params={"customers": 100},
                  metrics=["queue_depth"]).warmup("queue_depth", entity="Server")


def test_batch_means_agrees_with_replications_on_the_same_model() -> None:
    sim = mmc(seed=11, rate=8.0, mu=10.0, customers=40000)
    sim.run()
    bm = batch_means(sim, "wait_time", entity="Server", batches=20, warmup=100.0)
    assert bm.batches == 20 and bm.batch_size is not None and bm.independent
    lo, hi = bm.ci()
    assert lo <= 0.4 <= hi, bm  # M/M/1 Wq = rho / (mu - lambda)
    # the estimate is the mean of equal batches: brute force from the raw samples
    t, v = next(s for s in sim.query.metric_store.select("wait_time", "Server")).arrays()
    x = v[np.searchsorted(t, 100.0):]
    size = len(x) // 20
    assert bm.mean == pytest.approx(x[:size * 20].mean(), rel=1e-12)
    depth = batch_means(sim, "queue_depth", entity="Server", batches=10, warmup=100.0)
    assert depth.batch_size is None and depth.ci()[0] <= 3.2 <= depth.ci()[1]  # Lq


def test_batch_means_of_a_counter_estimates_its_rate() -> None:
    """A counter is batched by time, each batch its rate: every batch equals the query
    engine's rate over that batch's span, and the mean covers the arrival rate."""
    sim = mmc(seed=5, rate=8.0, mu=10.0, customers=6000)
    sim.run()
    bm = batch_means(sim, "arrivals", entity="Server", batches=10, warmup=50.0)
    assert bm.estimate.aggregate == "rate" and bm.batch_size is None
    assert "arrivals rate=" in repr(bm)
    lo, hi = bm.ci()
    assert lo <= 8.0 <= hi, bm
    now = sim.now.to_seconds()
    edges = np.linspace(50.0, now, 11)
    for k, got in enumerate(bm.estimate.values):
        end = edges[k + 1] if k < 9 else np.nextafter(now, np.inf)  # (a value at now)
        q = sim.query.metrics("arrivals").from_entity("Server").between(edges[k], end)
        count = q.aggregate("sum").execute().scalar or 0.0
        assert got == pytest.approx(count / (edges[k + 1] - edges[k]), rel=1e-12), k
    served = sim.query.metrics("arrivals").from_entity("Server").between(50.0, end)
    total = served.aggregate("sum").execute().scalar
    assert bm.mean == pytest.approx(total / (now - 50.0), rel=1e-12)


def test_batch_means_flags_batches_too_short_to_be_independent() -> None:
    sim = mmc(seed=3, rate=9.5, mu=10.0, customers=4000)  # rho 0.95: long memory
    sim.run()
    with pytest.warns(RuntimeWarning, match="correlated"):
        bm = batch_means(sim, "wait_time", entity="Server", batches=200)
    assert not bm.independent and bm.lag1 > 0.5
    with pytest.raises(ValueError, match="batches must be an int >= 2"):
        batch_means(sim, "wait_time", entity="Server", batches=1)
    with pytest.raises(KeyError, match="no series Server.nope"):
        batch_means(sim, "nope", entity="Server")


def test_replicate_until_the_interval_is_narrow_enough() -> None:
    target = {"metric": "wait_time", "entity": "Server", "relative_half_width": 0.15}
    reps = replicate(MMC, n=4, seed=1, executor="serial", params={"customers": 400},
                     metrics=["wait_time"], aggregates=["mean"], precision=target, max_n=60)
    est = reps.estimate("wait_time", entity="Server")
    assert reps.precision["met"] and est.n == reps.precision["n"] > 4
    assert est.half_width / est.mean <= 0.15
    # replications are the first n of the same seed stream: the same as asking n directly
    plain = replicate(MMC, n=est.n, seed=1, executor="serial", params={"customers": 400},
                      metrics=["wait_time"], aggregates=["mean"])
    assert plain.estimate("wait_time", entity="Server").values == est.values
    capped = replicate(MMC, n=3, seed=1, executor="serial", params={"customers": 400},
                       metrics=["wait_time"], aggregates=["mean"], max_n=5,
                       precision={**target, "relative_half_width": 0.001})
    assert capped.n == 5 and not capped.precision["met"]
    with pytest.raises(ValueError, match="unknown precision key"):
        replicate(MMC, n=3, precision={**target, "rhw": 1})
    with pytest.raises(ValueError, match="max_n bounds precision"):
        replicate(MMC, n=3, max_n=9)


def test_over_time_windows_never_overlap_nor_mix_partial_ones() -> None:
    reps = replicate(MMC, n=4, seed=3, executor="serial", warmup=20.0, window=50.0,
                     params={"customers": 1200}, metrics=["queue_depth"],
                     aggregates=["mean"])
    band = reps.over_time("queue_depth", entity="Server")
    rows = band.rows
    spans = [(r["start"], r["end"]) for r in rows]
    assert spans[0] == (20.0, 50.0)  # cut by the warm-up, alike in every replication
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))  # no overlap
    assert all(e - s == pytest.approx(50.0) for s, e in spans[1:])  # the others whole
    ends = [r.sim_time_s for r in reps.runs]
    assert len(set(ends)) == 4  # the runs end at different times ...
    assert band.partial_windows_dropped == band.query["partial_windows_dropped"] == 4  # ... so each one's last is left out
    last = max(e for _, e in spans)
    assert last <= max(ends)
    for r in rows:  # n counts the replications that covered the window whole
        covered = sum(1 for end in ends if end >= r["end"])
        assert r["n"] == covered, (r, ends)


def test_reps_warmup_reads_past_windows_without_samples() -> None:
    """Light traffic: many windows hold no wait in some (or all) replications. The cut is
    MSER-5 over the mean of the replications that had a sample, window by window, up to
    the first window not every replication reached (brute force over `reps.runs`); a
    window too small for any sample is named as the cause, not "too few windows"."""
    kw = dict(n=4, seed=3, executor="serial", metrics=["wait_time"],
              params={"rate": 0.5, "mu": 1 / 0.3, "customers": 200})
    reps = replicate(MMC, window=2.0, **kw)
    owners: dict[tuple, int] = {}
    vals: dict[tuple, list] = {}
    for r in reps.runs:
        for e, m, _, a, start, stop, v in r.windows:
            if (e, m, a) == ("Server", "wait_time", "mean") and stop - start >= 2.0 - 1e-9:
                owners[(start, stop)] = owners.get((start, stop), 0) + 1
                if v is not None:
                    vals.setdefault((start, stop), []).append(v)
    rows = []
    for span in sorted(owners):
        if owners[span] < 4:
            break
        if span in vals:
            rows.append((span[0], float(np.mean(vals[span]))))
    assert len(rows) < len([s for s in owners if owners[s] == 4])  # some windows empty
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        cut = reps.warmup("wait_time", entity="Server")
    assert cut == rows[mser_truncation([m for _, m in rows], 5)][0]
    tiny = replicate(MMC, window=0.05, **{**kw, "params": {**kw["params"], "customers": 3}})
    with pytest.raises(ValueError, match="had no sample in any replication"):
        tiny.warmup("wait_time", entity="Server")
