"""River anomaly and drift operators."""

from __future__ import annotations

import random

import pytest
from ops_testkit import Obs, run_list
from reactivex.testing import ReactiveTest, TestScheduler
from river import anomaly, drift

import operators as ops
from operators import AnomalyResult, DriftEvent

on_next, on_completed = ReactiveTest.on_next, ReactiveTest.on_completed


def _noisy_with_spike(n: int = 600, spike_at: int = 400, seed: int = 3) -> list[Obs]:
    rng = random.Random(seed)
    xs = [Obs(i * 0.1, 10.0 + rng.gauss(0.0, 1.0)) for i in range(n)]
    xs[spike_at] = Obs(spike_at * 0.1, 30.0)
    return xs


def test_half_space_trees_flags_injected_spike() -> None:
    xs = _noisy_with_spike()
    model = anomaly.HalfSpaceTrees(n_trees=10, height=6, window_size=50,
                                   limits={"value": (0.0, 40.0)}, seed=1)
    out = run_list(xs, ops.detect_anomalies(model, threshold=0.9, warmup=100))
    assert len(out) == len(xs) and all(isinstance(r, AnomalyResult) for r in out)
    flagged = [r for r in out if r.is_anomaly]
    assert [r.time for r in flagged] == [xs[400].time]
    assert not any(r.is_anomaly for r in out[:100])  # warm-up never flags


def test_gaussian_scorer_supervised_and_only_anomalies() -> None:
    xs = _noisy_with_spike()
    model = anomaly.GaussianScorer(grace_period=50)
    assert ops.is_supervised(model)
    out = run_list(xs, ops.detect_anomalies(model, threshold=0.9999, warmup=50,
                                            only_anomalies=True))
    assert [(r.time, r.value) for r in out] == [(xs[400].time, 30.0)]


def test_quantile_filter_classify_is_used_without_threshold() -> None:
    xs = _noisy_with_spike()
    model = anomaly.QuantileFilter(anomaly.GaussianScorer(grace_period=50), q=0.999)
    out = run_list(xs, ops.detect_anomalies(model, warmup=100, only_anomalies=True))
    assert xs[400].time in [r.time for r in out]
    assert len(out) <= 5


def test_score_before_learn_order() -> None:
    calls: list[str] = []

    class Spy:
        def score_one(self, x):
            calls.append("score")
            return 0.0

        def learn_one(self, x):
            calls.append("learn")

    run_list([(0, 1.0), (1, 2.0)], ops.detect_anomalies(Spy(), threshold=0.5))
    assert calls == ["score", "learn", "score", "learn"]


def test_learn_anomalies_false_protects_model() -> None:
    learned: list[float] = []

    class Spy:
        def score_one(self, x):
            return 1.0 if x["value"] > 5 else 0.0

        def learn_one(self, x):
            learned.append(x["value"])

    out = run_list([(0, 1.0), (1, 9.0), (2, 2.0)],
                   ops.detect_anomalies(Spy(), threshold=0.5, learn_anomalies=False))
    assert [r.is_anomaly for r in out] == [False, True, False]
    assert learned == [1.0, 2.0]


def test_anomaly_validation() -> None:
    with pytest.raises(ValueError, match="threshold"):
        ops.detect_anomalies(anomaly.HalfSpaceTrees())  # no threshold, no classify
    with pytest.raises(ValueError, match="NaN"):
        ops.detect_anomalies(anomaly.HalfSpaceTrees(), threshold=float("nan"))
    with pytest.raises(TypeError):
        ops.detect_anomalies(object(), threshold=0.5)
    with pytest.raises(ValueError, match="warmup"):
        ops.detect_anomalies(anomaly.HalfSpaceTrees(), threshold=0.5, warmup=-1)


def test_clone_gives_each_subscription_a_fresh_model() -> None:
    xs = _noisy_with_spike(n=200, spike_at=150)
    model = anomaly.GaussianScorer(grace_period=20)
    op = ops.detect_anomalies(model, threshold=0.999, clone=True)
    assert run_list(xs, op) == run_list(xs, op)
    assert model.gaussian.n_samples == 0  # the template was never trained


def test_page_hinkley_detects_upward_level_shift() -> None:
    rng = random.Random(5)
    xs = [Obs(float(i), rng.gauss(0.0, 1.0) + (0.0 if i < 300 else 3.0)) for i in range(600)]
    out = run_list(xs, ops.detect_drift(drift.PageHinkley(mode="up")))
    assert out and all(isinstance(d, DriftEvent) for d in out)
    assert 300 <= out[0].time < 340
    assert out[0].index == int(out[0].time)
    # and nothing on the stationary part alone
    assert run_list(xs[:300], ops.detect_drift(drift.PageHinkley(mode="up"))) == []


def test_adwin_drift_marble() -> None:
    scheduler = TestScheduler()
    msgs = [on_next(200 + i, Obs(200.0 + i, 0.0 if i < 300 else 1.0)) for i in range(500)]
    xs = scheduler.create_hot_observable(*msgs, on_completed(800))
    res = scheduler.start(lambda: xs.pipe(ops.detect_drift(drift.ADWIN())), disposed=900)
    drifts = [m for m in res.messages if m.value.kind == "N"]
    assert drifts and 500 <= drifts[0].time < 560
    assert res.messages[-1] == on_completed(800)
