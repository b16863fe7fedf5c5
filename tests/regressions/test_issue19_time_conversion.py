"""Issue 19, finding N4 (and the 19.9 case it caused): one instant, one float.

At large simulated times the same instant reached readers as different floats: the live
`Span` of a Sink at 1e9 + 0.375 s streamed as 1000000000.3750001 while the trace store
held 1000000000.375, and `ns / 1e9` (the tick count rounded to a float first, then the
quotient) gave 1000000001.8750001 for the clock. A span at a range edge was then counted
by one reader and not another, and a sample one ulp "after now" made the query engine
believe its clock did not follow the data: a counter rate over `[3e7, 2e9)` paused at
~3e7 + 1.18 s was divided by the whole requested span (1.1e-8/s where 18.6/s happened).
Every path now converts through `operators.simtime` (correctly rounded).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from happysimulator import Instant
from happysimulator.observability import Breakpoint, ObservabilityConfig
from operators.simtime import just_after, seconds, seconds_array, ticks, window_index
from tests.oracle.harness import Case, run_case
from tests.oracle.models import ModelSpec, build
from tests.oracle.repros import REPROS

_MAX_NS = 2**63 - 1  # the engine's clock: int64 nanoseconds


def _exact_seconds(ns: int) -> float:
    return float(Fraction(ns, 10**9))  # the float nearest ns / 1e9, by exact arithmetic


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 2**53), st.integers(2**53, _MAX_NS),
                          st.integers(-_MAX_NS, 0)), min_size=1, max_size=20))
def test_ticks_to_seconds_is_correctly_rounded_scalar_and_array_alike(ns):
    expect = [_exact_seconds(n) for n in ns]
    assert [seconds(n) for n in ns] == expect
    assert seconds_array(np.array(ns, dtype=np.int64)).tolist() == expect
    assert [Instant(n).to_seconds() for n in ns] == expect


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.floats(0.0, 10.0), st.floats(0.0, 9.2e9), st.floats(1e8, 9.2e9),
                 st.integers(0, 9_200_000).map(lambda k: k * 1000 + 0.125)))
def test_seconds_to_ticks_is_the_nearest_tick_and_comes_back_as_itself(t):
    assert ticks(t) == round(Fraction(t) * 10**9)
    assert Instant.from_seconds(t).nanoseconds == ticks(t)
    if t >= 2**23:  # floats further apart than a tick: every float is some tick's float
        assert seconds(ticks(t)) == t
    # the window holding t, compared as floats
    k = window_index(t, 125_000_000)
    assert seconds(k * 125_000_000) <= t < seconds((k + 1) * 125_000_000)
    assert just_after(t) > t


def test_n4_every_reader_sees_each_instant_as_the_same_float_at_1e9_s():
    # events every 1/8 s from 1e9 s: each instant is exactly 1e9 + k/8 as a float
    spec = ModelSpec(seed=0, arrivals="constant", rate=8.0, limit=7, start_time=1e9,
                     service="const", service_mean=0.25)
    sim = build(spec, ObservabilityConfig.full())
    live = []
    sim.observations.all().subscribe(live.append)
    sim.run()
    instants = {1e9 + k / 8 for k in range(200)}
    now = sim.clock.now()
    assert now == sim.now.to_seconds() and now in instants
    times = []
    for o in live:
        times.append(o.time)
        if o.kind.value == "span":
            times += [o.value.start, o.value.end]
    assert times and set(times) <= instants
    stored = sim.query.spans().execute().rows
    assert {r["start"] for r in stored} <= instants
    # so a range ending at now counts the same spans in the store and in the stream
    n = sim.query.spans().between(1e9, now).aggregate("count").execute().scalar
    assert n == sum(1 for o in live if o.kind.value == "span" and o.value.start < now)
    assert run_case(REPROS["N4"]) == []


def test_19_9_a_counter_rate_past_now_is_cut_at_now_at_large_times():
    # paused at ~3e7 + 1.18 s by a condition breakpoint: every rate over [3e7, 2e9) covers
    # up to now, in every group of a glob across kinds
    spec = ModelSpec(seed=2, arrivals="poisson", rate=8.0, limit=34, start_time=3e7,
                     concurrency=2, service="zero", queue_capacity=2, worker=True)
    for interface in ("python", "export"):
        case = Case(spec, "default", schedule=(("bp_condition", 7),), queries=(
            {"kind": "metrics", "name": "*e*", "entity": "*", "start": ("abs", 3e7),
             "end": ("abs", 2e9), "aggregates": ["rate", "count"], "group_by": ["entity"]},),
            interface=interface)
        assert run_case(case) == []
    sim = build(spec, ObservabilityConfig.default())
    sim.control.add_breakpoint(Breakpoint(condition=lambda s: s.events_processed % 7 == 0))
    sim.run()
    now = sim.clock.now()
    assert sim.control.get_state().is_paused and now < 3e7 + 2
    r = (sim.query.metrics("*e*").between(3e7, 2e9).group_by("entity")
         .aggregate("rate", "count").execute())
    for row in r.rows:
        assert row["end"] == just_after(now)
        assert row["rate"] == row["count"] / (just_after(now) - 3e7)
