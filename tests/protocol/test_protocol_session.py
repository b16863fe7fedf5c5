"""SessionProtocol: every operation answers in its schema, errors are typed and name
the valid choices, and driving a run through the protocol records exactly what an
uninterrupted run records."""

from __future__ import annotations

import json
import time

import pytest

from happysimulator.observability.protocol import SessionProtocol
from tests.protocol.proto_testkit import METASTABLE, check_response, mm1


def ask(session: SessionProtocol, request: dict) -> dict:
    answer = session.handle(request)
    check_response(request, answer)
    return answer


def raw_metrics(sim) -> dict:
    store = sim.query.metric_store
    out = {}
    for s in store.select("*", "*"):
        t, v = s.arrays()
        out[(s.source, s.name)] = (list(t), list(v))
    return out


def test_breakpoint_query_step_resume_metastable() -> None:
    s = SessionProtocol(METASTABLE, params={"observability": "full"}, default_wait_s=30)
    cat = ask(s, {"op": "catalog"})["catalog"]
    qd = next(x for x in cat["metrics"] if x["name"] == "queue_depth")
    assert qd["kind"] == "gauge" and qd["unit"] == "requests"
    assert "p99" in cat["aggregates"] and "gt" in cat["breakpoint_operators"]
    bp = ask(s, {"op": "add_breakpoint", "metric": {
        "source": "Server", "name": "queue_depth", "operator": "gt", "threshold": 20}})
    assert bp["ok"] and bp["breakpoint"]["kind"] == "metric_condition"
    state = ask(s, {"op": "run"})["state"]
    assert state["status"] == "paused" and "queue_depth gt 20" in state["paused_by"]
    q = ask(s, {"op": "query", "query": {"kind": "metrics", "name": "queue_depth",
                                        "entity": "Server", "last_s": 10,
                                        "aggregates": ["max", "last"]}})
    row = q["result"]["rows"][0]
    assert row["max"] >= 21 and row["last"] >= 21  # the value that fired is in range
    stepped = ask(s, {"op": "step", "n": 4})
    assert len(stepped["events"]) == 4
    assert stepped["state"]["events_processed"] == state["events_processed"] + 4
    ask(s, {"op": "clear_breakpoints"})
    done = ask(s, {"op": "resume"})["state"]
    assert done["status"] == "complete" and done["current_time"] == 150.0
    summary = ask(s, {"op": "export", "what": "summary", "budget_bytes": 4000})
    assert summary["content"]["schema"] == "happysim-rx.summary/1"
    assert summary["size_bytes"] <= 4000


def test_errors_are_typed_and_name_valid_choices() -> None:
    s = SessionProtocol(mm1)
    cases = [
        ({"op": "frobnicate"}, "unknown_name", "run"),
        ("{not json", "bad_request", None),
        ([1, 2], "bad_request", "query"),
        ({"op": "query", "query": {"kind": "metrics", "name": "queue_dept"}},
         "unknown_name", "queue_depth"),
        ({"op": "query", "query": {"kind": "metrics", "name": "latency",
                                   "aggregates": "p99"}}, "bad_request", None),
        ({"op": "query", "query": {"kind": "metrics", "name": "latency", "limit": -1}},
         "bad_request", None),
        ({"op": "query", "query": {"kind": "metrics", "name": 123}}, "bad_request", None),
        ({"op": "query", "query": {"kind": "metrics", "name": "latency", "start": "a"}},
         "bad_request", None),
        ({"op": "export", "what": "summary", "budget_bytes": "big"}, "bad_request", None),
        ({"op": "add_breakpoint", "metric": {"source": "Server", "name": "queue_dept",
                                             "operator": "gt", "threshold": 3}},
         "unknown_name", "Server.queue_depth"),
        ({"op": "add_breakpoint", "metric": {"source": "Server", "name": "queue_depth",
                                             "operator": "bigger", "threshold": 3}},
         "bad_request", "gt"),
        ({"op": "add_breakpoint"}, "bad_request", "metric"),
        ({"op": "remove_breakpoint", "id": 999}, "unknown_name", None),
        ({"op": "resume"}, "state", "run"),
        ({"op": "step", "n": 0}, "bad_request", None),
        ({"op": "run", "until": -1.0}, "bad_request", None),
        ({"op": "fetch", "handle": "zz"}, "unknown_name", None),
        ({"op": "trace", "trace_id": 10**9}, "unknown_name", None),
    ]
    for request, kind, valid in cases:
        answer = ask(s, request)
        assert answer["ok"] is False, (request, answer)
        assert answer["error"]["kind"] == kind, (request, answer)
        if valid is not None:
            assert valid in (answer["error"].get("valid") or []), (request, answer)
        assert answer["error"]["message"].count("'") % 2 == 0, answer  # no dangling quote


def test_run_in_background_pause_and_query_while_running() -> None:
    s = SessionProtocol(mm1, params={"customers": 60_000, "observability": "default"},
                        default_wait_s=0.0)
    first = ask(s, {"op": "run", "wait_s": 0.0})["state"]
    assert first["status"] in ("running", "complete")
    answers = [ask(s, {"op": "query", "query": {"kind": "metrics", "name": "arrivals",
                                                "aggregates": ["count"]}})
               for _ in range(3)]
    counts = [a["result"]["rows"][0]["count"] if a["result"]["rows"] else 0 for a in answers]
    assert counts == sorted(counts)  # consistent, growing snapshots
    paused = ask(s, {"op": "pause", "wait_s": 30})["state"]
    assert paused["status"] in ("paused", "complete")
    if paused["status"] == "paused":
        assert "pause()" in paused["paused_by"]
        assert ask(s, {"op": "step"})["ok"]
        again = ask(s, {"op": "resume", "wait_s": 60})["state"]
        assert again["status"] == "complete"
    ref = mm1(customers=60_000, observability="default")
    ref.run()
    assert raw_metrics(s.sim) == raw_metrics(ref)


def test_budget_cut_and_fetch_return_every_row() -> None:
    s = SessionProtocol(mm1)
    ask(s, {"op": "run"})
    full = s.sim.query.execute({"kind": "metrics", "name": "latency"}).to_records()
    answer = ask(s, {"op": "query", "query": {"kind": "metrics", "name": "latency"},
                     "budget_bytes": 2000})
    assert len(json.dumps(answer)) <= 2000
    rows, cut = answer["result"]["rows"], answer["truncated"]
    assert cut is not None and cut["total"] == len(full)
    while cut is not None:
        more = ask(s, {"op": "fetch", "handle": cut["handle"], "offset": cut["next_offset"],
                       "budget_bytes": 3000})
        assert len(json.dumps(more)) <= 3000
        rows += more["items"]
        cut = more["truncated"]
    assert rows == json.loads(json.dumps(full))


def test_model_fault_is_an_error_and_keeps_the_record() -> None:
    from happysimulator import Entity, Event, Simulation
    from happysimulator.observability import ObservabilityConfig

    class Faulty(Entity):
        def handle_event(self, event):
            if self.now.to_seconds() > 5.0:
                raise ZeroDivisionError("model bug")
            return Event(self.now + 1.0, "tick", self)

    def build() -> Simulation:
        f = Faulty("Faulty")
        sim = Simulation(entities=[f], observability=ObservabilityConfig.full(),
                         end_time=100.0)
        sim.schedule(Event(sim.now, "tick", f))
        return sim

    s = SessionProtocol(build)
    answer = ask(s, {"op": "run", "wait_s": 10})
    assert answer["ok"] is False and answer["error"]["kind"] == "model_fault"
    assert "ZeroDivisionError" in answer["error"]["message"]
    state = ask(s, {"op": "state"})["state"]
    assert state["status"] == "faulted" and state["fault"]["exception"] == "ZeroDivisionError"
    fault = state["fault"]
    assert fault["entity"] == "Faulty" and fault["event"]["event_type"] == "tick"
    assert 5.0 < fault["event"]["time"] <= 6.0 and "handled event 'tick'" in fault["message"]
    assert state["events_processed"] >= 5
    ev = ask(s, {"op": "query", "query": {"kind": "events", "name": "tick"}})
    assert ev["ok"]  # what was recorded is still there


def test_reset_same_seed_reproduces(tmp_path) -> None:
    s = SessionProtocol(mm1, params={"customers": 300})
    ask(s, {"op": "run"})
    first = raw_metrics(s.sim)
    r = ask(s, {"op": "reset"})
    assert r["state"]["status"] == "not_started" and r["model"]["seed"] == 1
    ask(s, {"op": "run"})
    assert raw_metrics(s.sim) == first
    ask(s, {"op": "reset", "seed": 2})
    ask(s, {"op": "run"})
    assert raw_metrics(s.sim) != first
    sim_only = SessionProtocol(mm1())
    assert ask(sim_only, {"op": "reset"})["error"]["kind"] == "state"


def test_help_describes_every_op() -> None:
    s = SessionProtocol(mm1)
    doc = ask(s, {"op": "help"})
    assert set(doc["ops"]) >= {"run", "pause", "resume", "step", "query", "trace", "export",
                               "reset", "add_breakpoint", "clear_breakpoints"}
    assert doc["protocol"] == "happysim-rx.session/1"
    one = ask(s, {"op": "help", "about": "step"})
    assert list(one["ops"]) == ["step"]


def test_state_wait_and_time_budget() -> None:
    s = SessionProtocol(mm1, params={"customers": 2000})
    t0 = time.perf_counter()
    ask(s, {"op": "run", "wait_s": 0})
    st = ask(s, {"op": "state", "wait_s": 30})["state"]
    assert st["status"] == "complete"
    assert time.perf_counter() - t0 < 30


@pytest.mark.parametrize("op", ["run", "resume", "run_until", "pause"])
def test_no_model_loaded(op: str) -> None:
    s = SessionProtocol()
    answer = ask(s, {"op": op, **({"time": 1.0} if op == "run_until" else {})})
    assert answer["error"]["kind"] == "state" and "load" in answer["error"]["valid"]


def _pauses(options: dict) -> int:
    s = SessionProtocol(mm1, params={"customers": 3000})
    metric = {"source": "Server", "name": "queue_depth", "operator": "gt", "threshold": 5,
              **options}
    answer = ask(s, {"op": "add_breakpoint", "metric": metric})
    assert answer["ok"], answer
    pauses = 0
    while ask(s, {"op": "run" if pauses == 0 else "resume"})["state"]["status"] == "paused":
        pauses += 1
    return pauses


def test_noisy_breakpoints_hysteresis_cooldown_and_resume_to_the_end() -> None:
    from dataclasses import fields

    from happysimulator.observability import MetricCondition

    has_options = {"hysteresis", "cooldown"} <= {f.name for f in fields(MetricCondition)}
    s = SessionProtocol(mm1, params={"customers": 3000})
    calm = {"source": "Server", "name": "queue_depth", "operator": "gt", "threshold": 5,
            "hysteresis": 4.0, "cooldown_s": 50.0}
    answer = ask(s, {"op": "add_breakpoint", "metric": calm})
    if not has_options:  # an engine without them says so instead of ignoring them
        assert answer["error"]["kind"] == "bad_request" and "hysteresis" in answer["error"]["message"]
        return
    assert answer["ok"]
    plain, quiet = _pauses({}), _pauses({"hysteresis": 4.0, "cooldown_s": 50.0})
    assert 0 < quiet < plain, (quiet, plain)
    assert ask(s, {"op": "run"})["state"]["status"] == "paused"
    done = ask(s, {"op": "resume", "ignore_breakpoints": True})["state"]
    assert done["status"] == "complete"
    assert len(ask(s, {"op": "list_breakpoints"})["breakpoints"]) == 1  # still armed


def test_catalog_kinds_units_and_tags_before_and_after_the_run() -> None:
    from happysimulator import Event, Simulation
    from happysimulator.observability import InstrumentedEntity, ObservabilityConfig

    class Cache(InstrumentedEntity):
        def handle_event(self, event):
            hit = self.now.to_seconds() % 2 < 1
            self.increment("lookups", outcome="hit" if hit else "miss")
            if self.now.to_seconds() < 10:
                return Event(self.now + 0.5, "lookup", self)
            return None

    def build() -> Simulation:
        cache = Cache("Cache")
        sim = Simulation(entities=[cache], observability=ObservabilityConfig.full())
        sim.schedule(Event(sim.now, "lookup", cache))
        return sim

    s = SessionProtocol(mm1)
    before = {(m["source"], m["name"]): m for m in ask(s, {"op": "catalog"})["catalog"]["metrics"]}
    assert before[("Server", "wait_time")]["kind"] == "sample"
    assert before[("Server", "wait_time")]["unit"] == "s"
    assert before[("Server", "in_flight")]["kind"] == "gauge"
    s = SessionProtocol(build)
    ask(s, {"op": "run"})
    after = {(m["source"], m["name"]): m for m in ask(s, {"op": "catalog"})["catalog"]["metrics"]}
    lookups = after[("Cache", "lookups")]
    assert lookups["kind"] == "counter" and lookups["unit"] == "count"
    assert lookups["tags"] == ["outcome"]
    hits = ask(s, {"op": "query", "query": {"kind": "metrics", "name": "lookups",
                                           "tags": {"outcome": "hit"}, "aggregates": ["sum"]}})
    assert hits["result"]["rows"][0]["sum"] == 11
