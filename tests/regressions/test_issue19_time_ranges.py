"""Issue 19, findings N2, N5 and items 6 and 8 (their residuals): range arithmetic
around `now`, at any magnitude of time, held against the oracle's reference.

- N2: `rate` was None over any range shorter than 1e-9 x its end (a whole second at
  t = 1e9 s): "one instant wide" now means what it says, a range holding one float time.
- N5: a range ending just after now (`since`, `last_s`, a range past now) cut into
  windows lost `[now, just_after(now))` when now is a window boundary: what happened at
  now was in the range and in no row.
- 6: `last_s` (and the debugger's "up to now" polls, `snapshot`) at large times take
  the values in effect at now: the end is the next float after now, never now + 1e-9.
- 8: events and spans answer a row entirely after now with `rate` None, as metrics do.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from happysim_rx import ManualClock, MetricStore, ObservationBus, QueryEngine
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol.session import SessionProtocol
from tests.oracle.harness import run_case
from tests.oracle.models import ModelSpec, build
from tests.oracle.reference import Reference
from tests.oracle.repros import REPROS

_STARTS = st.sampled_from([0.0, 12.5, 3e7, 1e9, 1e9 + 0.375, 4.2e9])


def _answers(engine: QueryEngine, ref: Reference, q: dict) -> tuple[list, list]:
    got = engine.execute(q).rows
    exp = ref.answer(q).rows
    return got, exp


def _close(g: float | None, e: tuple[float, float] | None) -> bool:
    if g is None or e is None:
        return g is None and e is None
    return e[0] - 1e-9 * abs(e[0]) <= g <= e[1] + 1e-9 * abs(e[1])


@settings(max_examples=60, deadline=None)
@given(t0=_STARTS, gaps=st.lists(st.sampled_from([0.0, 0.125, 0.25, 0.5, 1.0]), min_size=1,
                                  max_size=25),
       a_off=st.sampled_from([0.0, 0.125, 0.5]), span=st.sampled_from([0.25, 0.75, 1.0, 3.0]))
def test_n2_a_counter_rate_over_any_positive_range_at_any_time(t0, gaps, a_off, span):
    bus = ObservationBus(ManualClock())
    bus.attach_store(MetricStore())
    engine = QueryEngine(bus)
    gen = bus.metric("Source", "generated", "counter")
    t, emitted = t0, []
    for g in gaps:
        t += g
        bus.clock.advance_to(t)
        gen.emit(t, 1.0)
        emitted.append(t)
    bus.clock.advance_to(t + 5.0)  # now: past the range asked
    ref = Reference(t + 5.0, catalog={("Source", "generated"): "counter"})
    for x in emitted:
        ref.metric(x, "Source", "generated", "counter", 1.0)
    q = {"kind": "metrics", "name": "generated", "entity": "Source", "start": t0 + a_off,
         "end": t0 + a_off + span, "aggregates": ["rate", "count"]}
    got, exp = _answers(engine, ref, q)
    assert got[0]["count"] == exp[0]["count"][0]
    assert got[0]["rate"] is not None and _close(got[0]["rate"], exp[0]["rate"])


def test_n2_repro_generated_rate_over_three_quarters_of_a_second_at_1e9():
    assert run_case(REPROS["N2"]) == []
    spec = REPROS["N2"].model
    sim = build(spec, ObservabilityConfig.full())
    sim.run()
    row = (sim.query.metrics("generated").from_entity("Source").between(1e9, 1e9 + 0.75)
           .aggregate("rate", "count").execute().rows[0])
    assert row["rate"] == row["count"] / 0.75 and row["count"] > 0


@settings(max_examples=30, deadline=None)
@given(t0=_STARTS, k=st.integers(1, 12), w=st.sampled_from([0.25, 0.5, 1.0]),
       extra=st.integers(0, 3))
def test_n5_a_window_boundary_at_now_keeps_what_happened_at_now(t0, k, w, extra):
    # samples on a 1/8 s grid up to now; now on a window boundary; since(t0) in windows
    bus = ObservationBus(ManualClock())
    bus.attach_store(MetricStore())
    engine = QueryEngine(bus)
    lat = bus.metric("Sink", "latency", "sample")
    base = math.floor(t0 / w) * w
    now = base + k * w
    bus.clock.advance_to(now)
    ref = Reference(now, catalog={("Sink", "latency"): "sample"})
    # every 1/8 s from the first window's start to now, and `extra` more at now
    times = [base + j * 0.125 for j in range(round(k * w / 0.125) + 1)] + [now] * extra
    assert times[-1] == now
    for t in times:
        lat.emit(t, 1.0)
        ref.metric(t, "Sink", "latency", "sample", 1.0)
    for q in ({"kind": "metrics", "name": "latency", "entity": "Sink", "start": base,
               "window": w, "aggregates": ["count", "rate"]},
              {"kind": "metrics", "name": "latency", "entity": "Sink", "start": base,
               "end": now + 10 * w, "window": w, "aggregates": ["count", "rate"]}):
        got, exp = _answers(engine, ref, q)
        begun = [r for r in got if r["start"] <= now]
        past = math.nextafter(now, math.inf)  # a row reaching past now says it stops there
        assert [(r["start"], r["end"]) for r in begun] == [
            (r["start"], min(r["end"], past)) for r in exp if r["start"] <= now]
        assert sum(r["count"] for r in got) == len(times)  # the sample at now has a row
        last = begun[-1]
        assert (last["start"], last["end"]) == (now, math.nextafter(now, math.inf))
        assert last["count"] == 1 + extra and last["rate"] is None  # one instant: no rate
    assert run_case(REPROS["N5"]) == []


def _protocol_last_s(sim, name: str, entity: str, last_s: float) -> list[float]:
    ans = SessionProtocol(sim).handle({"op": "query", "query": {
        "kind": "metrics", "name": name, "entity": entity, "last_s": last_s}})
    return [r["time"] for r in ans["result"]["rows"]]


def test_19_6_protocol_last_s_holds_the_sample_recorded_at_now_at_1e9_s():
    # requests every 1/8 s from 1e9 s, 0.25 s of service on two slots: a latency is recorded at
    # 1e9 + 1.875 s, whose nanoseconds / 1e9 is 1000000001.8750001 (not the instant)
    spec = ModelSpec(seed=0, arrivals="constant", rate=8.0, limit=16, start_time=1e9,
                     concurrency=2, service="const", service_mean=0.25)
    sim = build(spec, ObservabilityConfig.default())
    seen = []
    sim.observations.metrics("latency").subscribe(seen.append)
    while len(seen) < 13:  # the 13th request arrived at 1e9 + 1.625 s
        sim.control.step(1)
    now = sim.now.to_seconds()
    assert now == 1e9 + 1.875 and seen[-1].time == now  # the sample at now, at now
    got = _protocol_last_s(sim, "latency", "Sink", 0.5)
    assert got[-1] == now
    assert got == [o.time for o in seen if now - 0.5 <= o.time <= now]


@settings(max_examples=8, deadline=None)
@given(start=st.sampled_from([3e7, 1e9, 1e9 + 0.3, 4e9]), steps=st.integers(3, 14))
def test_19_6_protocol_last_s_is_now_minus_s_through_now_at_large_times(start, steps):
    spec = ModelSpec(seed=1, arrivals="constant", rate=2.0, limit=6, start_time=start,
                     service="exp", service_mean=0.125)
    sim = build(spec, ObservabilityConfig.default())
    seen = []
    sim.observations.metrics("latency").subscribe(seen.append)
    sim.control.step(steps)
    now = sim.now.to_seconds()
    assert sim.clock.now() == now and all(o.time <= now for o in seen)
    got = _protocol_last_s(sim, "latency", "Sink", 0.5)
    assert got == [o.time for o in seen if now - 0.5 <= o.time <= now]


def test_19_6_the_debugger_and_snapshot_reach_just_past_now_at_large_times():
    from happysimulator.observability.web.driver import Debugger

    # the debugger's anomaly markers poll [last end, just past now): an anomaly reported
    # at now is in this poll (not in the next one, which a finished run never makes)
    asked = []
    dbg = Debugger.__new__(Debugger)
    dbg._has_anomalies, dbg._anomalies_to = True, 0.0
    dbg._query = lambda spec: asked.append(spec) or {"ok": True, "result": {"rows": []}}
    for now in (1.0, 3e7, 1e9 + 0.375):
        Debugger._anomaly_markers(dbg, now)
        assert asked[-1]["end"] == math.nextafter(now, math.inf) == dbg._anomalies_to
    assert [q["start"] for q in asked] == [0.0, math.nextafter(1.0, math.inf),
                                           math.nextafter(3e7, math.inf)]
    spec = ModelSpec(seed=1, arrivals="constant", rate=2.0, limit=6, start_time=3e7,
                     service="const", service_mean=0.5)
    sim = build(spec, ObservabilityConfig.full())
    sim.control.step(7)
    now = sim.now.to_seconds()
    last = (sim.query.metrics("queue_depth").from_entity("Server")
            .between(0.0, math.nextafter(now, math.inf)).aggregate("last").execute().scalar)
    snap = sim.query.snapshot()
    assert snap["entities"]["Server"]["gauges"]["queue_depth"] == last
    assert run_case(REPROS["19.6"]) == []


def test_19_8_events_and_spans_answer_nothing_yet_for_a_row_after_now():
    assert run_case(REPROS["19.8b"]) == []
    spec = ModelSpec(seed=1, arrivals="constant", rate=2.0, limit=8, service="const",
                     service_mean=0.5)
    sim = build(spec, ObservabilityConfig.full())
    sim.control.run_until(1.0)
    for q in (sim.query.events(), sim.query.spans()):
        rows = q.between(0.0, 5.0).window(1.0).aggregate("count", "rate").execute().rows
        assert rows[0]["rate"] == rows[0]["count"] / 1.0
        assert rows[1]["start"] == 1.0 and rows[1]["rate"] is None  # [1, just after 1)
        for r in rows[2:]:  # entirely after now: nothing yet
            assert r["count"] == 0 and r["rate"] is None
        r = q.between(3.0, 5.0).aggregate("count", "rate").execute().rows[0]
        assert r["count"] == 0 and r["rate"] is None
