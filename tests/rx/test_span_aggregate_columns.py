"""Aggregates over spans read the trace store's columns (no span is built): they equal
the answer built from span records, row by row, and a brute-force count and mean over
what was added."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from happysim_rx.query import QueryEngine, QueryError
from tests.rx.test_span_limit import NAMES, _build, _Clock, _store


class _RecordsOnly:
    """The same store without its columns: the engine answers from its records."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name == "columns_between":
            raise AttributeError(name)
        return getattr(self._store, name)


AGGS = ["count", "mean", "min", "max", "sum", "p50", "p99", "rate"]


def _answer(engine: QueryEngine, q) -> tuple:
    try:
        r = q(engine).execute()
    except QueryError as e:
        return ("error", str(e))
    return (r.rows, r.start, r.end, r.exact, r.weighting)


def _same(a: Any, b: Any) -> bool:  # (None == None, nan == nan)
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@settings(max_examples=80, deadline=None)
@given(_store, st.sampled_from(NAMES + ["S*", "*"]),
       st.tuples(st.integers(-1, 9).map(float), st.integers(0, 10).map(float)),
       st.lists(st.sampled_from(AGGS), min_size=1, max_size=3, unique=True),
       st.sampled_from([None, 1.0, 2.5]), st.booleans())
def test_column_aggregates_equal_the_record_answer(store, entity, ab, aggs, window,
                                                   by_entity) -> None:
    items, cap, now = store
    a, b = sorted(ab)
    clock = None if now is None else _Clock(now)

    def query(e: QueryEngine):
        q = e.spans().from_entity(entity).between(a, b).aggregate(*aggs)
        if window is not None:
            q = q.window(window)
        return q.group_by("entity") if by_entity else q

    engines = []
    for wrap in (lambda s: s, _RecordsOnly):
        engine = QueryEngine(trace_store=wrap(_build(items, cap)[0]), clock=clock)
        engine.known_entities = lambda: NAMES
        engines.append(engine)
    got, want = (_answer(e, query) for e in engines)
    assert _same(got, want), (got, want)


@settings(max_examples=60, deadline=None)
@given(_store, st.sampled_from(NAMES),
       st.tuples(st.integers(-1, 9).map(float), st.integers(0, 10).map(float)))
def test_count_and_mean_equal_brute_force(store, entity, ab) -> None:
    items, _, _ = store
    a, b = sorted(ab)
    ts, added = _build(items, None)  # unbounded: everything is kept
    engine = QueryEngine(trace_store=ts)
    engine.known_entities = lambda: NAMES
    (row,) = engine.spans().from_entity(entity).between(a, b).aggregate(
        "count", "mean").execute().rows
    durations = [end - start for e, start, end, _ in added if e == entity and a <= start < b]
    assert row["count"] == len(durations)
    if durations:
        # (the store takes durations from integer nanoseconds, the reference from float
        # seconds: the two differ in the last bits, never more)
        want = np.mean(np.array(durations))
        assert math.isclose(row["mean"], want, rel_tol=1e-12, abs_tol=1e-15), (row, want)
    else:
        assert row["mean"] is None
