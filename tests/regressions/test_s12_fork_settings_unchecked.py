"""A fork accepts values the component's own constructor refuses: the protocol promises
"the component's own checks apply" and "a wrong type or value is ``bad_request``", but
``Server.queue_capacity`` -1 and ``Sink.max_samples`` -3 are set as given (``applied``
lists them) and the branch runs with them, while ``Server("S", queue_capacity=-1)``
raises "queue_capacity must be >= 0 or None" and ``Sink("K", max_samples=-3)`` raises
"max_samples must be >= 1 or None". The industrial components likewise:
``InspectionStation.pass_rate`` 1.5 (constructor: "pass_rate must be between 0 and 1")
runs; ``BreakdownScheduler.mean_time_to_failure`` -5.0 and ``mean_repair_time`` 0.0
(constructor: "must be > 0") are accepted and the branch then faults when run
(``ValueError: cannot schedule ... in the past``, ``ZeroDivisionError``). (A retry
policy's or a queue policy's attributes are checked by rebuilding the part, so they are
refused; these plain attributes of an entity are not.)

Repro (session 12, rev4): Users -> Server "S" -> InspectionStation "I" -> Sink "K", a
BreakdownScheduler "B" on S, paused at t=1 s,
``fork {set: {"S.queue_capacity": -1}}`` -> ok, applied ["S.queue_capacity: None -> -1"];
likewise the others. Expected: ``bad_request`` with the constructor's
message. Area: happysimulator/observability/settings.py (apply_settings checks only a
part's constructor, not an entity's).
"""

from __future__ import annotations

import pytest

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.components.industrial import BreakdownScheduler, InspectionStation
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol import SessionProtocol


def build(seed: int = 1) -> Simulation:
    sink = Sink("K")
    inspect = InspectionStation("I", pass_target=sink, fail_target=sink, pass_rate=0.7,
                                inspection_time=ExponentialLatency(0.01))
    server = Server("S", service_time=ExponentialLatency(0.01), downstream=inspect)
    users = Source.poisson(rate=40.0, target=server, name="Users", stop_after=3.0)
    breakdowns = BreakdownScheduler("B", target=server, mean_time_to_failure=0.5,
                                    mean_repair_time=0.1)
    sim = Simulation(sources=[users], entities=[server, inspect, sink, breakdowns],
                     seed=seed, end_time=3.0, observability=ObservabilityConfig.full())
    sim.schedule(breakdowns.start_event())
    return sim


def test_the_constructors_refuse_these_values() -> None:
    with pytest.raises(ValueError, match="queue_capacity"):
        Server("S", queue_capacity=-1)
    with pytest.raises(ValueError, match="max_samples"):
        Sink("K", max_samples=-3)


@pytest.mark.parametrize("setting", [{"S.queue_capacity": -1}, {"K.max_samples": -3},
                                     {"I.pass_rate": 1.5},
                                     {"B.mean_time_to_failure": -5.0},
                                     {"B.mean_repair_time": 0.0}])
def test_a_fork_refuses_what_the_constructor_refuses(setting: dict) -> None:
    session = SessionProtocol(build, default_wait_s=60)
    try:
        session.handle({"op": "run_until", "time": 1.0})
        answer = session.handle({"op": "fork", "set": setting})
        assert not answer["ok"], answer.get("applied")
        assert answer["error"]["kind"] == "bad_request"
    finally:
        session.close()
