"""Issue 19, items 3, 4 and 15: control schedules. The uninterrupted run is the oracle:
a run stepped, paused between two events at one instant and read in between records the
same observations, record for record; breakpoints pause on the last event; breakpoint
times that can never be reached are refused."""

from __future__ import annotations

import math

import pytest

from happysimulator import (
    ConstantLatency,
    Event,
    LatencyTracker,
    Server,
    Simulation,
    Source,
)
from happysimulator.core.observed import gauge
from happysimulator.observability import (
    Breakpoint,
    InstrumentedEntity,
    MetricCondition,
    ObservabilityConfig,
)


class Router(InstrumentedEntity):
    """A user's model that sets its gauge twice at one instant (a transient)."""

    observed_series = (gauge("load", "requests"),)

    def __init__(self, name: str, target) -> None:
        super().__init__(name)
        self.target = target
        self.busy = 0

    def handle_event(self, event):
        self.set_gauge("load", 1.0)  # a transient: replaced at the same instant
        self.busy = (self.busy + 1) % 3
        self.set_gauge("load", float(self.busy))
        return [Event(self.now, "Request", self.target, context=event.context)]


def _model(cfg):
    server = Server("Server", concurrency=1, service_time=ConstantLatency(0.5))
    sink = LatencyTracker("Sink")
    server.downstream = sink
    router = Router("Router", server)
    src = Source.constant(rate=2.0, target=router, stop_after=8.0)  # arrivals every 0.5 s
    return Simulation(sources=[src], entities=[router, server, sink], seed=3,
                      observability=cfg)


def _records(sim):
    out = {}
    for entry in sim.query.catalog()["metrics"]:
        rows = (sim.query.metrics(entry["name"]).from_entity(entry["source"])
                .execute().rows)
        out[(entry["source"], entry["name"])] = [(r["time"], r["value"]) for r in rows]
    return out


CONFIGS = {
    "full": ObservabilityConfig.full(),
    "streaming": ObservabilityConfig.streaming().replace(raw_samples=4096, rollup_s=1.0),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_item3_stepped_and_read_between_same_instant_events_equals_uninterrupted(name):
    ref = _model(CONFIGS[name])
    ref.run()
    sim = _model(CONFIGS[name])
    while sim.control.step(1):  # every event, reading in between (a flush each time)
        sim.query.metrics("in_flight").from_entity("Server").aggregate("min").execute()
        sim.query.metrics("load").from_entity("Router").aggregate("max").execute()
        if not sim.control.get_state().is_paused:
            break
    if sim.control.get_state().is_paused:
        sim.control.resume()
    assert _records(sim) == _records(ref)
    def q(s):
        return (s.query.metrics("in_flight").from_entity("Server").between(1.0, 5.0)
                .aggregate("min", "count", "mean").execute().rows)

    assert q(sim) == q(ref)
    assert q(ref)[0]["min"] == 1.0 and q(ref)[0]["count"] == 0  # busy throughout


def test_item3_a_streaming_store_with_a_tiny_ring_answers_as_uninterrupted():
    cfg = ObservabilityConfig.streaming().replace(raw_samples=2, rollup_s=1.0)
    ref = _model(cfg)
    ref.run()
    sim = _model(cfg)
    while sim.control.step(3):
        sim.query.metrics("in_flight").from_entity("Server").aggregate("min").execute()
        if not sim.control.get_state().is_paused:
            break
    if sim.control.get_state().is_paused:
        sim.control.resume()
    for name, ent in (("in_flight", "Server"), ("queue_depth", "Server"), ("load", "Router")):
        for a, b in ((0.0, 9.0), (1.0, 5.0), (2.5, 3.5)):
            got, want = ((s.query.metrics(name).from_entity(ent).between(a, b)
                          .aggregate("count", "min", "max", "mean", "last").execute().rows)
                         for s in (sim, ref))
            assert got == want, (name, a, b)


def test_item3_a_same_instant_transient_of_a_user_gauge_is_not_a_change():
    sim = _model(ObservabilityConfig.full())
    sim.run()
    rows = _records(sim)[("Router", "load")]
    times = [t for t, _ in rows]
    assert len(times) == len(set(times))  # one point per instant
    values = [v for _, v in rows]
    assert len(values) > 10
    # each instant settles to `busy` (1, 2, 0, 1, ...): the transient 1.0 is no point
    assert all(b == (a + 1) % 3 for a, b in zip(values, values[1:], strict=False))


def test_item3_paused_by_raising_observers_and_resumed_equals_uninterrupted():
    def run(raising: bool):
        sim = _model(ObservabilityConfig.full())
        seen = [0]

        def watch(obs):
            seen[0] += 1
            if raising and seen[0] % 7 == 0:
                raise RuntimeError("observer fault")

        sim.observations.metrics("in_flight", source="Server").subscribe(watch)
        pauses = 0
        summary = sim.run()
        while summary.stop_reason != "complete":
            pauses += 1
            sim.query.metrics("in_flight").from_entity("Server").aggregate("min").execute()
            summary = sim.control.resume()
        return _records(sim), pauses

    (got, pauses), (want, _) = run(True), run(False)
    assert pauses > 3
    assert got == want


class Tally(InstrumentedEntity):
    """Counts its events into a gauge: ``n >= 3`` first holds on the run's last event."""

    observed_series = (gauge("n", "events"),)

    def __init__(self) -> None:
        super().__init__("Tally")
        self.n = 0

    def handle_event(self, event):
        self.n += 1
        self.set_gauge("n", float(self.n))


@pytest.mark.parametrize("name", ["full", "default", "streaming"])
def test_item4_a_metric_breakpoint_true_on_the_last_event_pauses(name):
    cfg = {"full": ObservabilityConfig.full(), "default": ObservabilityConfig.default(),
           "streaming": ObservabilityConfig.streaming()}[name]
    tally = Tally()
    src = Source.constant(rate=1.0, target=tally, stop_after=3.0)
    sim = Simulation(sources=[src], entities=[tally], seed=1, observability=cfg)
    bp = sim.control.add_breakpoint(Breakpoint(
        metric_condition=MetricCondition("Tally", "n", "ge", 3)))
    summary = sim.run()
    state = sim.control.get_state()
    assert state.is_paused and bp.hits == 1
    assert summary.paused_by is not None and "Tally.n ge 3" in summary.paused_by
    assert state.current_time.to_seconds() == 3.0
    assert sim.control.resume().stop_reason == "complete"
    assert bp.hits == 1


@pytest.mark.parametrize("bad", [math.inf, 1e300, -5.0, float("nan")])
def test_item15_breakpoint_times_the_engine_cannot_reach_are_refused(bad):
    with pytest.raises(ValueError, match="time"):
        Breakpoint(time=bad)


def test_item15_protocol_add_breakpoint_with_an_unreachable_time_is_a_bad_request():
    from happysimulator.observability.protocol.session import SessionProtocol

    session = SessionProtocol(_model(ObservabilityConfig.full()))
    for bad in (1e300, 1e30):
        ans = session.handle({"op": "add_breakpoint", "time": bad})
        assert ans.get("ok") is False and ans["error"]["kind"] == "bad_request", ans
    ans = session.handle({"op": "run"})
    assert ans.get("ok") is not False, ans  # the session is not faulted


@pytest.mark.parametrize("kwargs", [
    {"time": "3"}, {"time": True}, {"event_type": 5}, {"event_type": ""},
])
def test_item16_breakpoint_arguments_of_the_wrong_type_are_refused(kwargs):
    with pytest.raises(TypeError):
        Breakpoint(**kwargs)


@pytest.mark.parametrize("threshold", ["5", True, b"5"])
def test_item16_metric_condition_threshold_must_be_a_number(threshold):
    with pytest.raises(TypeError, match="threshold must be a number"):
        MetricCondition("Server", "queue_depth", "gt", threshold)


def test_item16_run_until_and_at_time_refuse_strings_and_the_past():
    sim = _model(ObservabilityConfig.full())
    with pytest.raises(TypeError):
        sim.control.run_until("8")
    sim.control.run_until(2.0)
    with pytest.raises(ValueError, match=r"at_time\(time\) must be a finite simulated time"):
        sim.control.at_time(-1, lambda: None)
    with pytest.raises(ValueError, match="in the past"):
        sim.control.at_time(1.0, lambda: None)
    with pytest.raises(ValueError, match="finite simulated time"):
        sim.control.run_until(math.inf)
