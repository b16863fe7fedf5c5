"""The tiny examples in the docstrings stay true."""

import doctest
import importlib

import pytest

MODULES = [
    "operators.sketch",
    "operators.aggregators",
    "happysim_rx",
    "happysim_rx.bus",
    "happysim_rx.topic",
    "happysim_rx.clock",
    "happysim_rx.export",
    "happysim_rx.observation",
    "happysim_rx.query",
    "happysim_rx.engine",
    "happysim_rx.result",
    "happysim_rx.scheduler",
    "happysim_rx.subject",
    "happysim_rx.stores.events",
    "happysim_rx.stores.metric",
    "happysim_rx.stores.streaming",
    "happysim_rx.stores.trace",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0


def test_runtime_does_not_import_the_engine():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    files = list((root / "happysim_rx").rglob("*.py")) + [
        root / "operators" / "sketch.py",
        root / "operators" / "aggregators.py",
    ]
    for f in files:
        assert "happysimulator" not in f.read_text(), f
