"""The replication cache keys a callable model by the values it runs with too: closure
cells, defaults, a partial's arguments (numpy arrays by content). Same values hit, other
values miss; a captured value it cannot key is refused, naming ``params=``."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from happysimulator.experiments.cache import task_key
from happysimulator.experiments.summarize import Task


def _key(model) -> str:
    return task_key(Task(model=model, params={}, seed=1, point=0, replication=0))


def make(rate, extra=()):
    def build(*, seed):
        return rate, extra, seed
    return build


def with_default(*, seed, rate=1.0):
    return rate


def test_closure_values_key_the_model() -> None:
    assert _key(make(2.0)) == _key(make(2.0))
    assert _key(make(2.0)) != _key(make(10.0))
    assert _key(make(2.0, (1, "a"))) != _key(make(2.0, (1, "b")))
    assert _key(make(np.arange(3))) == _key(make(np.arange(3)))
    assert _key(make(np.arange(3))) != _key(make(np.arange(3) + 1))
    assert _key(make({"a": 1, "b": {2, 3}})) == _key(make({"b": {3, 2}, "a": 1}))
    assert _key(make(1)) != _key(make(1.0)) and _key(make(True)) != _key(make(1))


def test_partials_and_nested_factories_are_keyed_by_their_arguments() -> None:
    p = functools.partial(with_default, rate=3.0)
    assert _key(p) == _key(functools.partial(with_default, rate=3.0))
    assert _key(p) != _key(functools.partial(with_default, rate=4.0))
    assert _key(make(make(1.0))) != _key(make(make(2.0)))  # a captured closure's cells

    def fact(*, seed):  # recursive: refers to itself
        return fact if seed < 0 else seed
    assert _key(fact) == _key(fact)


def test_a_captured_object_is_refused_naming_params() -> None:
    class Config:
        rate = 2.0

    with pytest.raises(ValueError, match=r"captures 'rate', a Config .*params="):
        _key(make(Config()))
