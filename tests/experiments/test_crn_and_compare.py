"""Common random numbers that work: on a service-rate sweep (mu 10 vs 10.5, 20
replications) the paired difference's variance shrinks, and `compare` gives the paired
interval under CRN and Welch's otherwise (checked against brute-force formulas)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from happysimulator.experiments import compare, replicate, sweep

MODELS = Path(__file__).with_name("models.py")
MMC = f"{MODELS}:mmc"
KW = dict(replications=20, seed=1, executor="serial", params={"customers": 1500},
          metrics=["wait_time"], aggregates=["mean"])


@pytest.fixture(scope="module")
def sweeps():
    crn = sweep(MMC, {"mu": [10.0, 10.5]}, common_random_numbers=True, **KW)
    ind = sweep(MMC, {"mu": [10.0, 10.5]}, common_random_numbers=False, **KW)
    return crn, ind


def _diff_var(sw) -> tuple[float, float]:
    a = np.array(sw[0].estimate("wait_time", entity="Server").values)
    b = np.array(sw[1].estimate("wait_time", entity="Server").values)
    return float(np.var(a - b, ddof=1)), float(np.corrcoef(a, b)[0, 1])


def test_crn_reduces_the_variance_of_the_difference(sweeps) -> None:
    crn, ind = sweeps
    v_crn, r_crn = _diff_var(crn)
    v_ind, r_ind = _diff_var(ind)
    assert r_crn > 0.9, r_crn  # the two points see the same arrivals and services
    assert abs(r_ind) < 0.6, r_ind
    assert v_ind / v_crn > 5, (v_ind, v_crn)  # measured: ~16x (docs/experiments.md)
    assert crn.common_random_numbers and not ind.common_random_numbers


def test_compare_is_paired_under_crn_and_matches_the_paired_t_formula(sweeps) -> None:
    crn, _ = sweeps
    c = compare(crn[0], crn[1], "wait_time", entity="Server")
    a = np.array(crn[0].estimate("wait_time", entity="Server").values)
    b = np.array(crn[1].estimate("wait_time", entity="Server").values)
    d = a - b
    h = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    assert c.method == "paired" and c.n == 20 and c.df == 19
    assert c.difference == pytest.approx(d.mean(), rel=1e-12)
    assert c.ci() == pytest.approx((d.mean() - h, d.mean() + h), rel=1e-9)
    assert c.significant and c.difference > 0  # a faster server waits less
    assert c.correlation is not None and c.correlation > 0.9
    res = stats.ttest_rel(a, b)  # the same test scipy runs
    assert (res.pvalue < 0.05) == c.significant


def test_compare_is_welch_for_independent_runs(sweeps) -> None:
    _, ind = sweeps
    c = compare(ind[0], ind[1], "wait_time", entity="Server")
    a = np.array(ind[0].estimate("wait_time", entity="Server").values)
    b = np.array(ind[1].estimate("wait_time", entity="Server").values)
    res = stats.ttest_ind(a, b, equal_var=False)
    assert c.method == "welch"
    assert c.df == pytest.approx(res.df, rel=1e-9)
    lo, hi = c.ci()
    ref = res.confidence_interval(0.95)
    assert (lo, hi) == pytest.approx((ref.low, ref.high), rel=1e-9)
    with pytest.raises(ValueError, match="paired=True needs common random numbers"):
        compare(ind[0], ind[1], "wait_time", entity="Server", paired=True)


def test_two_replicate_calls_with_one_seed_pair_up() -> None:
    kw = dict(n=4, seed=9, executor="serial", metrics=["wait_time"], aggregates=["mean"])
    a = replicate(MMC, params={"mu": 10.0, "customers": 300}, **kw)
    b = replicate(MMC, params={"mu": 12.0, "customers": 300}, **kw)
    assert compare(a, b, "wait_time", entity="Server").method == "paired"
