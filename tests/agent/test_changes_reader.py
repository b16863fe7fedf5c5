"""``changes`` reads each series once from the metric store: its answers are identical,
field for field, to the same ranking computed from the query engine's answers (three
queries per series, how it read them before), on the planted-slowdown model, for any
windows, with every store (exact, sketching, streaming), paused mid-run or complete."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from happysim_rx import QueryError
from happysimulator.observability.changes import _QueryReader, changes
from tests.agent.planted import SLOW_AT, SLOWED, build


@cache
def paused(observability: str, until: float | None):
    sim = build(seed=6, end=500.0, observability=observability)
    if until is None:
        sim.run()
    else:
        sim.control.run(until_ns=round(until * 1e9))
    return sim


def both(sim, **kw):
    out = []
    for reader in ({}, {"reader": _QueryReader}):
        try:
            out.append(changes(sim.query, limit=10**6, **kw, **reader))
        except QueryError as exc:
            out.append(str(exc))
    return out


def test_identical_on_the_planted_slowdown() -> None:
    sim = paused("default", None)
    fast, reference = both(sim, before=[100, SLOW_AT], after=[SLOW_AT, 500])
    assert fast == reference
    top = fast["series"][0]
    assert top["entity"] == SLOWED and abs(top["onset"] - SLOW_AT) <= 10


WINDOW = st.tuples(st.floats(0, 480), st.floats(0.5, 200)).map(
    lambda x: [round(x[0], 3), round(x[0] + x[1], 3)])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(observability=st.sampled_from(["default", "full", "streaming"]),
       until=st.sampled_from([None, 350.0, 12.5]),
       before=st.none() | WINDOW, after=st.none() | WINDOW)
def test_identical_for_any_windows_and_store(observability, until, before, after) -> None:
    fast, reference = both(paused(observability, until), before=before, after=after)
    assert fast == reference


def test_no_metric_store_is_a_clear_error() -> None:
    sim = build(seed=1, end=10.0, observability="disabled")
    sim.run()
    with pytest.raises((QueryError, AttributeError, TypeError)) as info:
        changes(sim.query)
    assert isinstance(info.value, QueryError), info.value
