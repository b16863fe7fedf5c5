"""Regressions found by a contract review: window edges, gauges beyond now, handoffs."""

from __future__ import annotations

import math

from happysimulator import ConstantLatency, Event, Instant, Server, Simulation, Sink
from happysimulator.observability import (
    Breakpoint,
    InstrumentedEntity,
    MetricCondition,
    ObservabilityConfig,
)


class Emitter(InstrumentedEntity):
    def handle_event(self, event):
        if event.event_type == "sample":
            self.observe("x", 1.0)
        else:
            self.set_gauge("level", event.context["metadata"]["v"])


def _at(sim_target, t, kind, **meta):
    ev = Event(Instant.from_seconds(t), kind, sim_target)
    ev.context["metadata"].update(meta)
    return ev


def test_query_windows_use_integer_ticks_like_the_live_operators():
    e = Emitter("G")
    sim = Simulation(entities=[e], seed=1, observability=ObservabilityConfig.full())
    sim.schedule([_at(e, 0.3, "sample"), _at(e, 0.7, "sample")])
    sim.run()
    rows = sim.query.metrics("x").between(0, 1).window(0.1).aggregate("count").execute().rows
    busy = [(r["start"], r["end"]) for r in rows if r["count"]]
    # not [0.2, 0.30000000000000004); the run ended at 0.7 s: the window reaching past
    # that ends just after it (docs/design.md, "Decisions at the seams")
    assert busy == [(0.3, 0.4), (0.7, math.nextafter(0.7, math.inf))]
    assert all(r["start"] == round(r["start"], 9) for r in rows)


def test_gauge_is_not_extrapolated_past_now_or_the_end_of_the_run():
    e = Emitter("G")
    sim = Simulation(entities=[e], seed=1, observability=ObservabilityConfig.full())
    sim.schedule([_at(e, 0.0, "set", v=10), _at(e, 4.0, "set", v=0),
                  _at(e, 20.0, "set", v=5)])
    sim.control.run_until(6.0)
    q = sim.query.metrics("level")
    future = q.between(18, 22).aggregate("mean", "max").execute().rows[0]
    assert future["mean"] is None and future["max"] is None
    windows = q.between(0, 12).window(4).aggregate("mean").execute().series
    assert windows == [(0.0, 10.0), (4.0, 0.0), (8.0, None)]
    sim.control.resume()  # ends at t=20
    assert q.between(50, 60).aggregate("mean").execute().scalar is None
    assert q.between(0, 40).aggregate("mean").execute().scalar == 2.0  # 10*4/20, not 3.5


def test_a_server_handing_over_to_the_next_request_is_never_idle():
    server = Server("S", concurrency=1, service_time=ConstantLatency(1.0))
    server.downstream = Sink("L")
    sim = Simulation(entities=[server], seed=1, observability=ObservabilityConfig.full())
    sim.schedule([Event(Instant.from_seconds(0.0), "request", server) for _ in range(3)])
    idle = sim.control.add_breakpoint(Breakpoint(
        metric_condition=MetricCondition("S", "in_flight", "eq", 0)))
    sim.run()
    # paused only when the last request is done (t=3), not at the handoffs at t=1, t=2
    assert sim.control.get_state().current_time.to_seconds() == 3.0 and idle.hits == 1
    sim.control.resume()
    r = sim.query.metrics("in_flight").between(1, 3).aggregate("min", "mean").execute()
    assert (r.value("min"), r.value("mean")) == (1.0, 1.0)


def test_event_type_and_count_breakpoints_need_no_per_event_hook():
    seen_hooks = []

    class Probe(InstrumentedEntity):
        def handle_event(self, event):
            seen_hooks.append(self._sim._hook)

    p = Probe("P")
    sim = Simulation(entities=[p], seed=1, observability=ObservabilityConfig.default())
    sim.schedule([Event(Instant.from_seconds(t), kind, p)
                  for t, kind in ((1.0, "a"), (2.0, "b"), (3.0, "a"), (4.0, "c"))])
    bp = sim.control.add_breakpoint(Breakpoint(event_type="b"))
    sim.control.add_breakpoint(Breakpoint(event_count=3))
    sim.run()
    assert sim.control.get_state().current_time.to_seconds() == 2.0 and bp.hits == 1
    assert "event_type" in sim.control.get_state().paused_by
    sim.control.resume()
    assert sim.events_processed == 3 and "event_count" in sim.control.get_state().paused_by
    sim.control.resume()
    assert sim.control.is_complete and seen_hooks == [None] * 4
