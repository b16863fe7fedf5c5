"""A FIFO `Server` (or a user's `QueuedResource`) records only arrivals and completions; its starts, waits, service times
and span starts are derived (`QueueInstrumentation`). Everything recorded must equal what
the server reporting every fact records, whatever the concurrency, capacity, reads in the
middle of an instant, pauses, or a concurrency change mid-run."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from obs_testkit import mm1, snapshot

from happysimulator.observability import ObservabilityConfig, queue_instrument

CONFIGS = {
    "full": ObservabilityConfig.full,
    "default": ObservabilityConfig.default,
    "metrics only": lambda: ObservabilityConfig.default().replace(traces=False),
    "traces only": lambda: ObservabilityConfig.default().replace(metrics=False),
}


def record(*, facts: bool, seed: int, concurrency: int, capacity: int | None, cfg: str,
           lam: float, pauses: list[float], read_mid_instant: bool,
           change_concurrency_at: float | None = None, user_model: bool = False,
           monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], Any]:
    with monkeypatch.context() as m:
        if facts:  # the reference: the server reports every fact
            m.setattr(queue_instrument, "_derivable_concurrency", lambda entity: 0)
        sim, _, server, _ = mm1(seed=seed, lam=lam, mu=10.0, stop_after=None, limit=150,
                                config=CONFIGS[cfg](), queue_capacity=capacity,
                                concurrency=concurrency, user_model=user_model)
        if read_mid_instant:
            # a completion's live observation comes before the start it allows (same
            # instant): reading then flushes between the two
            name = "completed" if CONFIGS[cfg]().metrics else None
            if name is not None:
                sim.observations.metrics(name, source="Server").subscribe(
                    lambda _obs: len(sim.query.metric_store.select("*", "*")[0]))
        for t in sorted(pauses):
            if t > sim.clock.now():
                sim.control.run_until(t)
            sim.query.metric_store and sim.query.metrics("queue_depth").aggregate(
                "mean").execute()
            if change_concurrency_at is not None and t >= change_concurrency_at:
                server.concurrency = concurrency + 1
                change_concurrency_at = None
        sim.run()
        return snapshot(sim), server._instr


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10_000),
    concurrency=st.integers(1, 3),
    capacity=st.one_of(st.none(), st.integers(0, 3)),
    cfg=st.sampled_from(sorted(CONFIGS)),
    lam=st.sampled_from([5.0, 9.5, 25.0]),
    pauses=st.lists(st.floats(0.0, 20.0), max_size=3),
    read_mid_instant=st.booleans(),
    user_model=st.booleans(),
)
def test_derived_facts_equal_reported_facts(monkeypatch: pytest.MonkeyPatch, **kw: Any) -> None:
    derived, instr = record(facts=False, monkeypatch=monkeypatch, **kw)
    reported, ref_instr = record(facts=True, monkeypatch=monkeypatch, **kw)
    assert ref_instr._fifo == 0 and ref_instr.start_facts
    # derivation was on all the way, unless an Rx subscriber follows the server (its code
    # runs in the middle of the server's handling: the server reports every fact then)
    watched = kw["read_mid_instant"] and CONFIGS[kw["cfg"]]().metrics
    assert instr._fifo == (0 if watched else kw["concurrency"])
    assert derived == reported


@pytest.mark.parametrize("user_model", [False, True])
@pytest.mark.parametrize("concurrency", [1, 2])
def test_concurrency_change_mid_run_stops_deriving(monkeypatch: pytest.MonkeyPatch,
                                                   concurrency: int, user_model: bool) -> None:
    kw = dict(seed=3, concurrency=concurrency, capacity=None, cfg="full", lam=25.0,
              pauses=[1.0, 2.0], read_mid_instant=False, change_concurrency_at=1.0,
              user_model=user_model)
    derived, instr = record(facts=False, monkeypatch=monkeypatch, **kw)
    reported, _ = record(facts=True, monkeypatch=monkeypatch, **kw)
    assert instr._fifo == 0 and instr.start_facts and instr.visit_facts
    assert derived == reported


def test_only_idle_fifo_fast_servers_derive() -> None:
    from happysimulator import Server, Simulation

    class Custom(Server):
        def handle_queued_event(self, event: Any) -> Any:
            yield 0.1

    servers = [Server("fifo"), Server("lifo", policy="lifo"), Custom("custom"),
               Server("c3", concurrency=3)]
    Simulation(entities=servers, observability=ObservabilityConfig.full())
    assert [s._instr._fifo for s in servers] == [1, 0, 0, 3]
    assert [s._instr.start_facts for s in servers] == [False, True, True, False]
    # concurrency 1 also derives the service facts; concurrency 3 reports them
    assert [s._instr.visit_facts for s in servers] == [False, True, True, True]


def test_only_plain_fifo_queued_resources_derive() -> None:
    from obs_testkit import Worker

    from happysimulator import ExponentialLatency, Simulation

    class Gated(Worker):
        def has_capacity(self) -> bool:
            return True

    class Routed(Worker):
        def handle_event(self, event: Any) -> Any:
            return super().handle_event(event)

    svc = ExponentialLatency(0.1)
    resources = [Worker("fifo", service_time=svc), Worker("c2", service_time=svc,
                                                            concurrency=2),
                 Worker("lifo", service_time=svc, policy="lifo"),
                 Gated("gated", service_time=svc, concurrency=2),
                 Routed("routed", service_time=svc)]
    Simulation(entities=resources, observability=ObservabilityConfig.full())
    assert [r._instr._fifo for r in resources] == [1, 2, 0, 0, 0]
    assert [r._instr.visit_facts for r in resources] == [False, True, True, True, True]


def test_concurrency_is_validated() -> None:
    from happysimulator import Server

    s = Server("s")
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="concurrency must be an int >= 1"):
            s.concurrency = bad
    s.concurrency = 4
    assert s.concurrency == 4 and s.has_capacity()


@pytest.mark.parametrize("cfg", sorted(CONFIGS))
@pytest.mark.parametrize("live_spans", [False, True])
@pytest.mark.parametrize("concurrency", [1, 2])
def test_fact_lists_are_emptied_by_flushes(cfg: str, live_spans: bool,
                                           concurrency: int) -> None:
    """Components append every fact, needed or not; each flush empties every list (the
    unneeded ones included), so nothing accumulates over a run."""
    sim, source, server, sink = mm1(seed=5, lam=9.0, stop_after=None, limit=300,
                                    config=CONFIGS[cfg](), concurrency=concurrency)
    traced = CONFIGS[cfg]().traces
    seen: list[Any] = []
    if live_spans and traced:
        sim.observations.spans().subscribe(seen.append)
    sim.run()
    for entity in (source, server, sink):
        instr = entity._instr
        assert instr.lists and all(not values for values in instr.lists), entity.name
    assert server.completed == 300
    if traced:  # a root, a server and a sink span per request, made once
        assert len(sim.query.trace_store) == 900
        assert len(seen) == (900 if live_spans else 0)


@pytest.mark.parametrize(("series", "lam"), [("arrivals", 3.0), ("completed", 9.0)])
def test_concurrency_changed_from_a_live_subscriber(monkeypatch: pytest.MonkeyPatch,
                                                    series: str, lam: float) -> None:
    """A subscriber's code runs in the middle of the server's handling; changing the
    concurrency there must not count a start twice or skew the gauges."""

    def run(facts: bool) -> tuple[dict[str, Any], Any]:
        with monkeypatch.context() as m:
            if facts:
                m.setattr(queue_instrument, "_derivable_concurrency", lambda entity: 0)
            sim, _, server, _ = mm1(seed=1, lam=lam, mu=10.0, stop_after=None, limit=200)
            changed: list[bool] = []

            def widen(_obs: Any) -> None:
                if not changed and sim.clock.now() >= 2.0:
                    changed.append(True)
                    server.concurrency = 2

            sim.observations.metrics(series, source="Server").subscribe(widen)
            sim.run()
            return snapshot(sim), server

    derived, server = run(facts=False)
    reported, _ = run(facts=True)
    assert derived == reported
    _, depth = metric_arrays_of(derived, "queue_depth")
    _, flight = metric_arrays_of(derived, "in_flight")
    assert min(depth) >= 0 and max(flight) <= 2
    assert len(metric_arrays_of(derived, "wait_time")[0]) == server.completed == 200


def metric_arrays_of(snap: dict[str, Any], name: str) -> tuple[list[float], list[float]]:
    t, v, _ = snap[f"metric:Server.{name}"]
    return t, v


def test_reading_the_store_from_a_completion_subscriber_keeps_in_flight_right() -> None:
    """A completion is published before the start it allows: a read then sees the
    server between the two (in_flight must not drift above the concurrency)."""
    sim, _, server, _ = mm1(seed=2, lam=9.5, mu=10.0, stop_after=None, limit=400)
    sim.observations.metrics("completed", source="Server").subscribe(
        lambda _obs: sim.query.metrics("in_flight").aggregate("max").execute())
    sim.run()
    _, flight = metric_arrays_of(snapshot(sim), "in_flight")
    assert max(flight) == 1 and min(flight) == 0


@pytest.mark.parametrize("cfg", ["full", "default"])
def test_popping_the_queue_while_paused_is_seen(monkeypatch: pytest.MonkeyPatch,
                                                cfg: str) -> None:
    """Someone takes a waiting request off a FIFO server's queue while the run is
    paused: the instrumentation notices before anything runs, so everything recorded
    equals what a server reporting every fact records."""

    def run(facts: bool) -> tuple[dict[str, Any], Any]:
        with monkeypatch.context() as m:
            if facts:
                m.setattr(queue_instrument, "_derivable_concurrency", lambda entity: 0)
            sim, _, server, _ = mm1(seed=1, lam=12.0, mu=10.0, stop_after=None, limit=300,
                                    config=CONFIGS[cfg]())
            sim.control.run_until(12.0)
            assert len(server.policy) >= 2
            server.policy.pop()
            server.policy.pop()
            sim.run()
            return snapshot(sim), server

    derived, server = run(facts=False)
    reported, _ = run(facts=True)
    assert server._instr._fifo == 0  # noticed: the server reports every fact since
    assert derived == reported


def test_a_bare_instrumentation_keeps_nothing() -> None:
    """Slots of a `ComponentInstrumentation` nobody drains discard what is appended."""
    from happysimulator import ComponentInstrumentation, Server, Simulation

    instr = ComponentInstrumentation()
    server = Server("s", service_time=0.01)
    server._instr = instr
    sim = Simulation(entities=[server], observability=False)
    from happysimulator.core.event import Event

    for k in range(50):
        sim.schedule(Event(k * 0.005, "request", server))
    sim.run()
    assert server.completed == 50
    assert all(len(getattr(instr, name)) == 0 for name in (
        "arrived", "started", "waited", "done", "served", "traced_starts"))


def test_server_subclasses_with_their_own_handling_do_not_derive() -> None:
    from happysimulator import Server, Simulation

    class Routed(Server):
        def handle_event(self, event: Any) -> Any:
            return super().handle_event(event)

    s = Routed("routed")
    Simulation(entities=[s], observability=ObservabilityConfig.full())
    assert s._instr._fifo == 0 and s._instr.start_facts
