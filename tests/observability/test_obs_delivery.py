"""When a live subscriber is called: right after the handler that recorded the
observation, before the next heap entry of any kind (an immediate follow-on event at
the same instant included), with the clock at the observation's time, stepped or
not; an observer's pause request on the run's last event pauses there."""

from __future__ import annotations

from happysimulator import Entity, Event, Simulation
from happysimulator.core.observed import sample
from happysimulator.observability import InstrumentedEntity


class Recorder(InstrumentedEntity):
    """Records ``value`` at each event and hands the request on at the same instant."""

    observed_series = (sample("value", "", "a number per event"),)

    def __init__(self, name: str, downstream: Entity) -> None:
        super().__init__(name)
        self.downstream = downstream

    def handle_event(self, event: Event):
        self.observe("value", event.context["n"])
        return Event(time=self.now, event_type="hop", target=self.downstream,
                     context={"n": event.context["n"]})


class Counter(Entity):
    def __init__(self) -> None:
        super().__init__("Counter")
        self.seen = 0

    def handle_event(self, event: Event) -> None:
        self.seen += 1


def _model(n: int):
    counter = Counter()
    rec = Recorder("Rec", counter)
    sim = Simulation(entities=[rec, counter])
    for i in range(n):
        sim.schedule(Event(time=0.5 * (i + 1), event_type="go", target=rec,
                           context={"n": float(i)}))
    return sim, rec, counter


def test_a_subscriber_runs_after_the_handler_before_its_same_instant_follow_on():
    sim, _, counter = _model(6)
    seen: list[tuple[float, float, int, float]] = []

    def on(obs):
        # (the Counter's follow-on at this very instant has not run yet)
        seen.append((obs.time, obs.value, counter.seen, sim.clock.now()))

    sim.observations.metrics("value", source="Rec").subscribe(on)
    assert sim.run().stop_reason == "complete"
    assert seen == [(0.5 * (i + 1), float(i), i, 0.5 * (i + 1)) for i in range(6)]
    assert counter.seen == 6


def test_paused_and_stepped_runs_deliver_the_same_observations_at_the_same_times():
    def run(stepped: bool) -> list[tuple[float, float, float]]:
        sim, _, _ = _model(5)
        got: list[tuple[float, float, float]] = []
        sim.observations.metrics("value", source="Rec").subscribe(
            lambda o: got.append((o.time, o.value, sim.clock.now())))
        if stepped:
            while sim.control.step(1):
                pass
        else:
            sim.run()
        return got

    assert run(True) == run(False)


def test_an_observer_pausing_on_the_last_event_pauses_there():
    sim, _, counter = _model(3)

    def on(obs):
        if obs.value == 2.0:
            sim.control.pause()

    sim.observations.metrics("value", source="Rec").subscribe(on)
    summary = sim.run()
    assert summary.stop_reason == "paused"
    assert sim.clock.now() == 1.5 and counter.seen == 2  # (its follow-on not run yet)
    assert sim.control.resume().stop_reason == "complete"
    assert counter.seen == 3


class SubscribingRecorder(Recorder):
    """A model that subscribes, from its own handler, when it sees request `at`."""

    def __init__(self, name: str, downstream: Entity, at: float, got: list) -> None:
        super().__init__(name, downstream)
        self.at, self.got = at, got

    def handle_event(self, event: Event):
        if event.context["n"] == self.at:
            self._sim.observations.metrics("value", source=self.name).subscribe(
                lambda o: self.got.append((o.time, o.value, self.downstream.seen)))
        return super().handle_event(event)


def test_the_first_subscriber_during_a_run_is_served_like_one_from_the_start():
    from_start: list = []
    sim, _, counter = _model(6)
    sim.observations.metrics("value", source="Rec").subscribe(
        lambda o: from_start.append((o.time, o.value, counter.seen)))
    sim.run()

    # from a timer between two events (no subscriber before it) ...
    by_timer: list = []
    sim, _, counter = _model(6)
    sim.control.at_time(1.2, lambda: sim.observations.metrics("value", source="Rec")
                        .subscribe(lambda o: by_timer.append((o.time, o.value, counter.seen))))
    assert sim.run().stop_reason == "complete"
    assert by_timer == [x for x in from_start if x[0] > 1.2]

    # ... and from a model handler, which records right after subscribing
    counter = Counter()
    in_handler: list = []
    rec = SubscribingRecorder("Rec", counter, 2.0, in_handler)
    sim = Simulation(entities=[rec, counter])
    for i in range(6):
        sim.schedule(Event(time=0.5 * (i + 1), event_type="go", target=rec,
                           context={"n": float(i)}))
    assert sim.run().stop_reason == "complete"
    assert in_handler == [x for x in from_start if x[1] >= 2.0]
