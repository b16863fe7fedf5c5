"""The examples in the operator docstrings run and are right."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["operators", "operators.clock", "operators.windows", "operators.rates",
           "operators.conditions", "operators.anomaly", "operators.sampling",
           "operators.window_result", "operators.session_windows", "operators.aggregators",
           "operators.aggregate_names", "operators.quantiles", "operators.sketch"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
