"""What-if branches by deterministic replay: the replayed prefix equals the original
record for record; rewind then resume equals the original run; changes apply; models
that cannot be replayed are refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from happysimulator import LatencyTracker, Server, Simulation, Source
from happysimulator.distributions.latency_distribution import LatencyDistribution
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol import ProtocolError, SessionProtocol
from tests.agent.planted import build

PLANTED = f"{Path(__file__).with_name('planted.py')}:build"


def record(sim, until: float | None = None) -> dict:
    """Every series' raw records (and every span) up to `until` (default: all)."""
    end = sim.now.to_seconds() + 1.0 if until is None else until
    out = {}
    for info in sim.query.catalog()["metrics"]:
        rows = (sim.query.metrics(info["name"]).from_entity(info["source"])
                .between(0, end).execute().rows)
        out[(info["source"], info["name"])] = [(r["time"], r["value"]) for r in rows]
    spans = sim.query.trace_store.spans()
    out["spans"] = sorted((s.trace_id, s.entity, s.start, s.end,
                           tuple(sorted((s.attributes or {}).items())))
                          for s in spans if s.end < end)
    return out


ACTIONS = st.lists(st.one_of(
    st.tuples(st.just("step"), st.integers(1, 400)),
    st.tuples(st.just("until"), st.floats(1, 30)),
    st.tuples(st.just("breakpoint"), st.integers(2, 8)),
), min_size=1, max_size=5)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=ACTIONS, seed=st.integers(1, 3))
def test_replayed_prefix_equals_the_original_record_for_record(actions, seed) -> None:
    session = SessionProtocol(PLANTED, params={"seed": seed, "end": 100.0,
                                               "slow_at": 40.0, "observability": "full"},
                              default_wait_s=None)
    t = 0.0
    for kind, arg in actions:
        if kind == "step":
            assert session.handle({"op": "step", "n": arg})["ok"]
        elif kind == "until":
            t = min(90.0, max(t, session.sim.now.to_seconds()) + arg)
            assert session.handle({"op": "run_until", "time": t})["ok"]
        else:
            assert session.handle({"op": "add_breakpoint", "metric": {
                "source": "Enrich", "name": "queue_depth", "operator": "gt",
                "threshold": arg}, "one_shot": True})["ok"]
    now = session.sim.now.to_seconds()
    forked = session.fork(name="copy")
    assert forked["branch"]["events_processed"] == session.sim.events_processed
    copy = session._branch_map["copy"].sim
    assert copy.now.to_seconds() == now
    assert record(copy, now + 1e-9) == record(session.sim, now + 1e-9)
    # and both go on the same way
    for name in ("main", "copy"):
        session.handle({"op": "clear_breakpoints", "branch": name})
        session.handle({"op": "run", "branch": name})
    assert record(copy) == record(session.sim)
    session.close()


def test_rewind_then_resume_equals_the_original_run() -> None:
    session = SessionProtocol(PLANTED, params={"seed": 2, "end": 200.0, "slow_at": 80.0,
                                               "observability": "full"},
                              default_wait_s=None)
    session.handle({"op": "add_breakpoint", "time": 50.0})
    session.handle({"op": "run"})
    session.handle({"op": "resume"})
    original = record(session.sim)
    back = session.rewind(to=120.0)
    assert back["state"]["current_time"] <= 120.0 and back["dropped"] == []
    assert record(session.sim, 120.0) == {k: [r for r in v if r[0] < 120.0] if k != "spans"
                                          else [s for s in v if s[3] < 120.0]
                                          for k, v in original.items()}
    session.handle({"op": "resume"})
    assert record(session.sim) == original
    # a breakpoint added after the rewind point is history that is dropped
    session.rewind(to=30.0)
    assert session.handle({"op": "list_breakpoints"})["breakpoints"][0]["kind"] == "time"
    session.handle({"op": "run"})  # pauses at the time breakpoint again, as the original
    assert session.handle({"op": "state"})["state"]["current_time"] == 50.0
    session.close()


def test_fork_applies_the_change_and_leaves_main_alone() -> None:
    session = SessionProtocol(PLANTED, params={"seed": 4, "end": 400.0}, default_wait_s=None)
    session.handle({"op": "run_until", "time": 320.0})
    fork = session.fork(set={"Enrich.concurrency": 2, "Enrich.service_time": 0.05},
                        name="fixed")
    assert fork["applied"] == ["Enrich.concurrency: 1 -> 2",
                               "Enrich.service_time: ExponentialLatency(mean=0.09) -> "
                               "ExponentialLatency(mean=0.05)"]
    assert fork["branch"]["forked_at"] <= 320.0
    for name in ("main", "fixed"):
        session.handle({"op": "run", "branch": name})
    q = {"kind": "metrics", "name": "wait_time", "entity": "Enrich", "start": 320,
         "end": 400, "aggregates": ["mean"]}
    cmp = session.compare(q, ["main", "fixed"])
    (diff,) = cmp["differences"]
    assert diff["values"]["fixed"] < diff["values"]["main"] / 5
    assert diff["delta"]["fixed"] == pytest.approx(
        diff["values"]["fixed"] - diff["values"]["main"])
    cat = session.handle({"op": "catalog", "branch": "fixed"})["catalog"]
    enrich = next(e for e in cat["entities"] if e["name"] == "Enrich")
    assert enrich["concurrency"] == 2
    main = session.handle({"op": "catalog"})["catalog"]
    assert next(e for e in main["entities"] if e["name"] == "Enrich")["concurrency"] == 1
    names = [b["name"] for b in session.branches()]
    assert names == ["main", "fixed"]
    session.close()


def test_fork_refusals_name_the_valid_choices() -> None:
    session = SessionProtocol(PLANTED, params={"seed": 1, "end": 100.0}, default_wait_s=None)
    session.handle({"op": "run_until", "time": 50.0})
    bad = session.handle({"op": "fork", "set": {"Nobody.concurrency": 2}})
    assert bad["error"]["kind"] == "unknown_name" and "Enrich" in bad["error"]["valid"]
    bad = session.handle({"op": "fork", "set": {"Enrich.concurrency": 2.5}})
    assert bad["error"]["kind"] == "bad_request" and "not converted" in bad["error"]["message"]
    bad = session.handle({"op": "fork", "set": {"Enrich.colour": 2}})
    assert bad["error"]["kind"] == "unknown_name" and "concurrency" in bad["error"]["valid"]
    bad = session.handle({"op": "fork", "at": 80.0})
    assert bad["error"]["kind"] == "bad_request" and "after" in bad["error"]["message"]
    bad = session.handle({"op": "query", "branch": "nope", "query": {
        "kind": "metrics", "name": "latency"}})
    assert bad["error"]["kind"] == "unknown_name" and bad["error"]["valid"] == ["main"]
    assert session.handle({"op": "reset", "branch": "main"})["ok"]
    session.close()

    plain = SessionProtocol(build(seed=1, end=50.0), default_wait_s=None)
    plain.handle({"op": "run"})
    with pytest.raises(ProtocolError, match="built again"):
        plain.fork()
    plain.close()


class _WallClock(LatencyDistribution):
    """Service times from the wall clock: not replayable."""

    def __init__(self) -> None:
        super().__init__(0.05)

    def sample(self, rng=None) -> float:
        return 0.01 + (time.perf_counter_ns() % 100_000) / 1e6


def unreplayable(seed: int = 1) -> Simulation:
    sink = LatencyTracker("Sink")
    server = Server("Server", service_time=_WallClock(), downstream=sink)
    source = Source.poisson(rate=25.0, target=server, stop_after=100.0)  # always busy
    return Simulation(sources=[source], entities=[server, sink], seed=seed,
                      observability=ObservabilityConfig.default())


def test_a_model_that_does_not_replay_is_refused() -> None:
    session = SessionProtocol(unreplayable, default_wait_s=None)
    session.handle({"op": "run_until", "time": 40.0})
    bad = session.handle({"op": "fork"})
    assert bad["error"]["kind"] == "state" and "diverged" in bad["error"]["message"]
    assert [b["name"] for b in session.branches()] == ["main"]
    session.close()


def test_fork_with_other_params_is_another_model_from_the_start() -> None:
    session = SessionProtocol(PLANTED, params={"seed": 2, "end": 200.0}, default_wait_s=None)
    session.handle({"op": "add_breakpoint", "time": 150.0})
    session.handle({"op": "run_until", "time": 100.0})
    fork = session.fork(params={"rate": 5.0}, name="half-load")
    assert fork["branch"]["params"]["rate"] == 5.0 and fork["replayed"]["actions"] == 1
    assert fork["branch"]["forked_at"] == 100.0
    for branch in ("main", "half-load"):
        session.handle({"op": "run", "branch": branch})  # both pause at 150 s
    cmp = session.compare({"kind": "metrics", "name": "generated", "entity": "Users",
                           "start": 0, "end": 100, "aggregates": ["rate"]})
    rates = cmp["differences"][0]["values"]
    assert rates["main"] == pytest.approx(10, rel=0.15)
    assert rates["half-load"] == pytest.approx(5, rel=0.2)
    bad = session.handle({"op": "fork", "params": {"no_such": 1}})
    assert bad["error"]["kind"] == "bad_request"
    session.close()
