"""Operations models against queueing theory, measured through the query API and
`happysimulator.experiments.replicate` (95 % t-intervals over replications)."""

from __future__ import annotations

import pytest

from happysimulator.experiments import replicate
from tests.industrial import models


def _blocking(sim) -> dict[str, float]:
    q = sim.query
    balked = q.metrics("balked").from_entity("Station").aggregate("count").execute().scalar
    arrivals = q.metrics("arrivals").from_entity("Station").aggregate("count").execute().scalar
    return {"blocking": (balked or 0) / arrivals}


@pytest.mark.parametrize(("c", "k"), [(2, 2), (2, 4)], ids=["erlang-b", "mmck"])
def test_balking_at_a_full_line_blocks_as_mmck(c: int, k: int) -> None:
    reps = replicate(models.mmck, n=8, seed=11, executor="serial",
                     params={"c": c, "k": k, "horizon": 1500.0}, metrics=["balked"],
                     measure=_blocking)
    est = reps.estimate("blocking")
    theory = models.mmck_blocking(2.0, 1.0, c, k)  # 0.4 (Erlang B), 2/9 (K = 4)
    lo, hi = est.ci(0.95)
    assert lo <= theory <= hi, (est, theory)
    assert est.half_width < 0.1 * theory  # the interval is tight enough to mean something


def test_breakdown_availability_is_mttf_over_mttf_plus_mttr() -> None:
    reps = replicate(models.machine, n=6, seed=3, executor="serial", metrics=["up"],
                     aggregates=["mean"])
    est = reps.estimate("up", entity="Breakdowns", aggregate="mean")  # time-weighted
    lo, hi = est.ci(0.95)
    assert lo <= 10.0 / 12.0 <= hi, est
    assert est.half_width < 0.02


def test_rework_loop_is_a_jackson_network_with_product_form_queues() -> None:
    reps = replicate(models.jackson, n=12, seed=1, executor="serial", warmup=100.0,
                     params={"horizon": 3000.0},
                     metrics=["queue_depth"], aggregates=["mean"])
    lq_a, lq_b = models.jackson_lq(1.0, 2.5, 2.2, 0.7)  # 0.762, 1.203
    for entity, theory in (("A", lq_a), ("B", lq_b)):
        est = reps.estimate("queue_depth", entity=entity, aggregate="mean")
        lo, hi = est.ci(0.95)
        assert lo <= theory <= hi, (entity, est, theory)
        assert est.half_width < 0.25 * theory


def _abandonment(sim) -> dict[str, float]:
    q = sim.query
    gone = q.metrics("reneged").from_entity("Agent").aggregate("count").execute().scalar
    arrivals = q.metrics("arrivals").from_entity("Agent").aggregate("count").execute().scalar
    return {"abandonment": (gone or 0) / arrivals}


def test_mm1_with_exponential_patience_abandons_as_the_birth_death_chain() -> None:
    reps = replicate(models.mm1m, n=8, seed=7, executor="serial", metrics=["reneged"],
                     measure=_abandonment)
    est = reps.estimate("abandonment")
    theory = models.mm1m_abandonment(1.0, 1.0, 0.5)
    lo, hi = est.ci(0.95)
    assert lo <= theory <= hi, (est, theory)
    assert est.half_width < 0.1 * theory


def test_theory_helpers_against_known_values() -> None:
    # Erlang B(a=2, c=2) = (a^2/2) / (1 + a + a^2/2) = 0.4; M/M/1/1 = a / (1 + a)
    assert models.mmck_blocking(2.0, 1.0, 2, 2) == pytest.approx(0.4)
    assert models.mmck_blocking(1.0, 1.0, 1, 1) == pytest.approx(0.5)
    # M/M/1+M with theta = mu is M/M/infinity-like in its death rates: n mu; P(busy) =
    # 1 - exp(-a), so P(abandon) = 1 - (1 - exp(-a)) / a
    import math

    a = 1.5
    assert models.mm1m_abandonment(a, 1.0, 1.0) == pytest.approx(1 - (1 - math.exp(-a)) / a)
