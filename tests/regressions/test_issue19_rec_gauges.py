"""Finding N1 (issue 19, item 7's probe part): a user gauge set to the value it already
holds is not a change.

The standard components record a gauge's settled changes only; an `InstrumentedEntity`
recorded every `set_gauge`, so a probe setting `level` 5, 5, 5 had three rows where one
change happened (count, sample-weighted aggregates and raw rows differed from the
reference). The property: for random scripts of sets (several at one instant, values
repeated, the run paused and read between any two events), the stored rows are the
reference's changes (`tests/oracle/reference.py`, `_Series.changes`), in the exact and
the streaming store.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from happysimulator import Event, Instant, Simulation
from happysimulator.core.observed import gauge
from happysimulator.observability import InstrumentedEntity, ObservabilityConfig
from tests.oracle.reference import _Series


class Probe(InstrumentedEntity):
    """Sets its gauge to the values scripted for each tick, in order, at one instant."""

    observed_series = (gauge("level", ""),)

    def __init__(self, script: dict[float, list[float]]) -> None:
        super().__init__("Probe")
        self.script = script

    def handle_event(self, event: Event) -> None:
        for v in self.script[round(self.now.to_seconds(), 6)]:
            self.set_gauge("level", v)


def _sim(script: dict[float, list[float]], cfg: ObservabilityConfig) -> Simulation:
    probe = Probe(script)
    sim = Simulation(entities=[probe], observability=cfg)
    for t in script:
        sim.schedule(Event(Instant.from_seconds(t), "Tick", probe))
    return sim


def _changes(script: dict[float, list[float]]) -> list[tuple[float, float]]:
    s = _Series("Probe", "level", "gauge",
                [(t, float(v), None) for t in sorted(script) for v in script[t]])
    return [(t, v) for t, v, _ in s.changes()]


def test_a_probe_repeating_its_level_records_one_change():
    script = {1.0: [5.0], 2.0: [5.0], 3.0: [5.0], 4.0: [3.0]}
    sim = _sim(script, ObservabilityConfig.full())
    sim.run()
    rows = sim.query.metrics("level").from_entity("Probe").execute().rows
    assert [(r["time"], r["value"]) for r in rows] == [(1.0, 5.0), (4.0, 3.0)]
    r = sim.query.metrics("level").from_entity("Probe").between(0.0, 4.0) \
        .aggregate("count").execute()
    assert r.value("count") == 1


_scripts = st.dictionaries(
    st.integers(1, 12).map(lambda k: k * 0.5),
    st.lists(st.sampled_from([0.0, 1.0, 5.0]), min_size=1, max_size=3),
    min_size=1, max_size=10)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(script=_scripts, steps=st.lists(st.integers(1, 3), max_size=6),
       streaming=st.booleans())
def test_user_gauge_rows_are_the_reference_changes(script, steps, streaming):
    cfg = (ObservabilityConfig.streaming().replace(raw_samples=2, rollup_s=1.0)
           if streaming else ObservabilityConfig.full())
    sim = _sim(script, cfg)
    for n in steps:  # paused (and read) between events: the same records
        if sim.control.is_complete:
            break
        sim.control.step(n)
        sim.query.metrics("level").from_entity("Probe").aggregate("count").execute()
    while not sim.control.is_complete:
        sim.control.resume() if sim.control.is_paused else sim.run()
    want = _changes(script)
    q = sim.query.metrics("level").from_entity("Probe")
    if not streaming:
        assert [(r["time"], r["value"]) for r in q.execute().rows] == want
    r = q.between(0.0, 10.0).aggregate("count").execute()
    a, b = r.rows[0]["start"], r.rows[0]["end"]
    assert r.value("count") == sum(1 for t, _ in want if a <= t < b)
    if not streaming:  # (a streaming store may state a narrower range: its raw window)
        assert a == 0.0 and b == math.nextafter(sim.clock.now(), math.inf)
