"""Live delivery through the run loop's wake entry (observability/delivery.py): each
observation reaches its subscriber right after the handler that emitted it, the clock at
that event's time, before any other entry; a pause asked for there stops the run at that
boundary, and resuming goes on exactly as the uninterrupted run."""

from __future__ import annotations

from happysimulator import Simulation
from happysimulator.core.event import Event
from happysimulator.core.temporal import Instant
from happysimulator.observability import InstrumentedEntity, ObservabilityConfig


class _Meter(InstrumentedEntity):
    """Observes its event count at each event and sends a follow-on at the same instant
    to itself (an immediate dispatch, which the delivery must precede)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.handled = 0

    def handle_event(self, event):
        self.handled += 1
        self.observe("n", float(self.handled))
        if event.event_type == "tick":
            return Event(event.time, "echo", self)
        return None


def _sim():
    meter = _Meter("M")
    sim = Simulation(entities=[meter], seed=1, observability=ObservabilityConfig.default())
    for k in range(30):
        sim.schedule(Event(Instant.from_seconds(0.5 * k), "tick", meter))
    return sim, meter


def test_each_observation_arrives_at_its_boundary_with_the_state_it_describes():
    sim, meter = _sim()
    seen = []
    sim.observations.metrics("n", source="M").subscribe(
        lambda o: seen.append((o.time, o.value, sim.now.to_seconds(), meter.handled)))
    sim.run()
    assert len(seen) == 60
    # the clock is the emitting event's, and the follow-on at that instant has not run
    assert all(t == now and float(handled) == v for t, v, now, handled in seen)
    assert [v for _, v, _, _ in seen] == [float(i) for i in range(1, 61)]


def test_a_pause_asked_by_an_observer_stops_at_that_boundary_and_resume_is_exact():
    sim, meter = _sim()
    seen = []

    def on(o):
        seen.append(o.value)
        if o.value in (7.0, 8.0, 31.0):
            sim.control.pause()

    sim.observations.metrics("n", source="M").subscribe(on)
    sim.run()
    stops = []
    for _ in range(5):
        if meter.handled == 60:
            break
        stops.append(meter.handled)
        sim.control.resume()
    assert stops[:3] == [7, 8, 31]  # paused right after the event that emitted it
    assert seen == [float(i) for i in range(1, 61)]
    ref, ref_meter = _sim()
    got = []
    ref.observations.metrics("n", source="M").subscribe(lambda o: got.append(o.value))
    ref.run()
    assert got == seen and ref_meter.handled == meter.handled == 60


def test_an_observer_error_pauses_and_names_it():
    sim, meter = _sim()

    def bad(o):
        if o.value == 5.0:
            raise ValueError("boom")

    sim.observations.metrics("n", source="M").subscribe(bad)
    sim.run()
    assert meter.handled == 5
    assert any(isinstance(e, ValueError) for _, e in sim.control.observer_errors)
