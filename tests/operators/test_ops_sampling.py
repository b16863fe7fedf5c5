"""every_nth, sample_probability (seeded, own RNG), per_interval."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_testkit import run_list
from reactivex.testing import ReactiveTest, TestScheduler

import operators as ops

on_next, on_completed = ReactiveTest.on_next, ReactiveTest.on_completed


def test_every_nth() -> None:
    assert run_list(list(range(10)), ops.every_nth(4)) == [0, 4, 8]
    assert run_list(list(range(10)), ops.every_nth(1)) == list(range(10))
    assert run_list(list(range(10)), ops.every_nth(4, offset=3)) == [3, 7]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            ops.every_nth(bad)  # type: ignore[arg-type]


def test_sample_probability_is_deterministic_and_uses_its_own_rng() -> None:
    items = list(range(2000))
    state = random.getstate()
    a = run_list(items, ops.sample_probability(0.3, seed=11))
    assert random.getstate() == state  # global RNG untouched
    op = ops.sample_probability(0.3, seed=11)
    assert run_list(items, op) == a == run_list(items, op)  # same per subscription
    assert run_list(items, ops.sample_probability(0.3, seed=12)) != a
    assert 450 < len(a) < 750
    rnd = random.Random(11)
    assert a == [i for i in items if rnd.random() < 0.3]


def test_sample_probability_extremes_and_validation() -> None:
    assert run_list(list(range(50)), ops.sample_probability(0.0, seed=1)) == []
    assert run_list(list(range(50)), ops.sample_probability(1.0, seed=1)) == list(range(50))
    for bad in (-0.1, 1.1, float("nan")):
        with pytest.raises(ValueError):
            ops.sample_probability(bad)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 10_000), max_size=80), st.sampled_from([1, 10, 250, 1000]))
def test_per_interval_first_item_per_aligned_interval(ms, interval_ms) -> None:
    ms = sorted(ms)
    out = run_list([(m / 1000, m) for m in ms], ops.per_interval(interval_ms / 1000))
    exp, seen = [], set()
    for m in ms:
        if m // interval_ms not in seen:
            seen.add(m // interval_ms)
            exp.append(m)
    assert [v for _, v in out] == exp


def test_per_interval_marble() -> None:
    scheduler = TestScheduler()
    xs = scheduler.create_hot_observable(
        on_next(210, (210.0, "a")), on_next(215, (215.0, "b")), on_next(220, (220.0, "c")),
        on_completed(230),
    )
    res = scheduler.start(lambda: xs.pipe(ops.per_interval(10.0)))
    assert res.messages == [on_next(210, (210.0, "a")), on_next(220, (220.0, "c")),
                            on_completed(230)]
