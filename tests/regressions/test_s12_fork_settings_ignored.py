"""A fork reports a setting as applied that changes nothing: a Source's
``event_provider.stop_after`` and ``event_provider.event_type`` are listed as settable
(``valid`` of an unknown ``Users.*`` attribute) and ``fork`` answers ``applied:
["Users.event_provider.stop_after: None -> 1.0"]``, but the source keeps producing
requests of the old type until its own stop: the source took its fast path (a plain
provider is bypassed, ``SimpleEventProvider.is_plain``) and the value set is a float
where the provider compares Instants.

Repro (session 12, rev4): Users (Poisson 40/s, stop 6 s) -> Server, paused at t=3 s,
``fork {set: {"Users.event_provider.stop_after": 1.0}}`` then run: 118 requests
generated after t=3 s, exactly as the fork with no change (expected 0: nothing after
1 s). ``{"Users.event_provider.event_type": "Bogus"}``: 0 "Bogus" events, the
"Request" events unchanged (``Users.event_type`` does take effect: 605 "Bogus").
Expected: the change takes effect, or it is refused (not settable) naming the path that
works. Area: happysimulator/observability/settings.py (choices/settable of nested
parts), happysimulator/load/source.py + event_provider.py.
"""

from __future__ import annotations

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol import SessionProtocol


def build(seed: int = 1, end: float = 6.0) -> Simulation:
    sink = Sink("Sink")
    server = Server("S", service_time=ExponentialLatency(0.01), downstream=sink)
    users = Source.poisson(rate=40.0, target=server, name="Users", stop_after=end)
    return Simulation(sources=[users], entities=[server, sink], seed=seed, end_time=end,
                      observability=ObservabilityConfig.full())


def _after_fork(setting: dict) -> tuple[dict, Simulation | None, SessionProtocol]:
    session = SessionProtocol(build, default_wait_s=60)
    session.handle({"op": "run_until", "time": 3.0})
    answer = session.handle({"op": "fork", "set": setting, "name": "b"})
    if not answer["ok"]:  # refused: no branch
        return answer, None, session
    session.handle({"op": "run", "branch": "b", "wait_s": 60})
    return answer, session._branch_map["b"].sim, session


def _generated_after_3s(sim: Simulation) -> float:
    return sim.query.metrics("generated").from_entity("Users").between(3.0, 7.0) \
        .aggregate("sum").execute().scalar or 0


def test_a_providers_stop_set_at_a_fork_stops_the_source_or_is_refused() -> None:
    answer, sim, session = _after_fork({"Users.event_provider.stop_after": 1.0})
    try:
        if answer["ok"]:
            assert answer["applied"] == ["Users.event_provider.stop_after: None -> 1.0"]
            assert _generated_after_3s(sim) == 0
        else:
            assert answer["error"]["kind"] in ("unknown_name", "bad_request")
            assert "Users.stop_after" in answer["error"]["valid"]  # the path that works
    finally:
        session.close()


def test_a_providers_event_type_set_at_a_fork_takes_effect_or_is_refused() -> None:
    answer, sim, session = _after_fork({"Users.event_provider.event_type": "Bogus"})
    try:
        if answer["ok"]:
            assert len(sim.query.events("Bogus").between(3.0, 7.0).execute().rows) > 0
        else:
            assert answer["error"]["kind"] in ("unknown_name", "bad_request")
            assert "Users.event_type" in answer["error"]["valid"]  # the path that works
    finally:
        session.close()


def test_a_sources_event_type_set_at_a_fork_reaches_a_provider_with_context() -> None:
    """``Users.event_type`` takes effect on a source whose provider is not bypassed (it
    has a ``context_fn``), as on one that is."""
    def build_ctx(seed: int = 1) -> Simulation:
        sink = Sink("Sink")
        users = Source.poisson(rate=40.0, target=sink, name="Users", stop_after=6.0,
                               context_fn=lambda t, n: {"n": n})
        return Simulation(sources=[users], entities=[sink], seed=seed, end_time=6.0,
                          observability=ObservabilityConfig.full())

    session = SessionProtocol(build_ctx, default_wait_s=60)
    try:
        session.handle({"op": "run_until", "time": 3.0})
        assert session.handle({"op": "fork", "set": {"Users.event_type": "Bogus"},
                               "name": "b"})["ok"]
        session.handle({"op": "run", "branch": "b", "wait_s": 60})
        sim = session._branch_map["b"].sim
        assert len(sim.query.events("Bogus").between(3.0, 7.0).execute().rows) > 0
    finally:
        session.close()
