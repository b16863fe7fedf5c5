"""Issue 19, fuzzer class "rows|...|metrics|gauge": ``since(t)`` in windows, with nothing
after t yet, answered a zero-width row ``[t, t)``.

Paused at t = 0.5 s, ``metrics("queue_depth").since(0.5).window(1.0)`` had one row
``[0.5, 0.5)``: the range resolved empty (t at or after the data and now), and the empty
range became a window. No window has begun there: no row (as the reference and the
events/spans answers say). Held against the reference for every kind of question.
"""

from __future__ import annotations

import math

import pytest

from happysim_rx.query import Query
from happysimulator.observability import Breakpoint, ObservabilityConfig
from tests.oracle.harness import reference_run
from tests.oracle.models import ModelSpec, build

_MODEL = ModelSpec(seed=4, arrivals="constant", rate=2.0, limit=6, service="zero",
                   probe=True)


def _paused_at_first_service():
    sim = build(_MODEL, ObservabilityConfig.full())
    sim.control.add_breakpoint(Breakpoint(event_type="service.done"))
    sim.run()
    assert sim.control.is_paused and sim.clock.now() == 0.5
    return sim


def test_minimal_case_no_zero_width_window_row():
    sim = _paused_at_first_service()
    r = (sim.query.metrics("queue_depth").from_entity("Server").since(0.5).window(1.0)
         .aggregate("count", "p90").execute())
    assert r.rows == []


@pytest.mark.parametrize("q", [
    {"kind": "metrics", "name": "queue_depth", "entity": "*"},
    {"kind": "metrics", "name": "level", "entity": "Prober"},
    {"kind": "metrics", "name": "completed", "entity": "Server"},
    {"kind": "metrics", "name": "latency", "entity": "Sink"},
    {"kind": "events", "name": "*", "entity": "*"},
    {"kind": "spans", "entity": "*"},
])
@pytest.mark.parametrize("offset", [0.0, 1e-9, 0.25, 100.0])
@pytest.mark.parametrize("window", [0.5, 1.0, 2.5])
@pytest.mark.parametrize("paused", [True, False])
def test_since_in_windows_rows_equal_the_reference_and_none_is_zero_width(
        q, offset, window, paused):
    if paused:
        sim = _paused_at_first_service()
    else:
        sim = build(_MODEL, ObservabilityConfig.full())
        sim.run()
    now = sim.clock.now()
    spec = {**q, "start": now + offset, "window": window, "aggregates": ["count"]}
    got = sim.query.execute(Query.from_dict(spec)).rows
    ref = reference_run(_MODEL).reference(
        sim._events_processed, now, "full").answer(spec).rows
    assert all(r["end"] > r["start"] for r in got), got
    want = [(r["start"], r["end"], r["count"][0]) for r in ref]
    if any(b - a <= 4 * math.ulp(b) for a, b, _ in want):
        # a sliver [now, just after now): finding N5 (the windows cut on nanosecond ticks
        # lose it), another class
        want = [w for w in want if w[1] - w[0] > 4 * math.ulp(w[1])]
        got = [r for r in got if r["end"] - r["start"] > 4 * math.ulp(r["end"])]
    assert [(r["start"], r["end"], r["count"]) for r in got] == want
