"""Every change the what-if tools name takes effect in a fork, driven through the MCP
SDK's client: more workers, a service-time mean, a source's rate (Poisson and constant),
retries off; wrong paths and values are refused naming the valid ones; a fork with no
change equals main record for record; drop_branch frees a branch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("mcp")

from mcp import Client  # noqa: E402

from happysimulator import (  # noqa: E402
    ExponentialLatency,
    LatencyTracker,
    Server,
    Simulation,
    Source,
)
from happysimulator.observability import ObservabilityConfig  # noqa: E402
from happysimulator.observability.mcp_server import build_server  # noqa: E402
from happysimulator.observability.protocol import SessionProtocol  # noqa: E402
from tests.agent.test_agent_mcp import call  # noqa: E402
from tests.protocol.proto_testkit import METASTABLE  # noqa: E402

PLANTED = f"{Path(__file__).with_name('planted.py')}:build"


def constant_source(seed: int = 1, end: float = 100.0) -> Simulation:
    """Evenly spaced arrivals (4 per second) into one fast server."""
    sink = LatencyTracker("Sink")
    server = Server("Server", service_time=ExponentialLatency(0.01), downstream=sink)
    source = Source.constant(rate=4.0, target=server, name="Ticks", stop_after=end)
    return Simulation(sources=[source], entities=[server, sink], seed=seed, end_time=end,
                      observability=ObservabilityConfig.default())


def drive(session: SessionProtocol, script: Any) -> Any:
    """Run `script(client)` against an MCP client on `session` (in memory)."""
    async def main() -> Any:
        async with Client(build_server(session)) as client:
            return await script(client)

    try:
        return anyio.run(main)
    finally:
        session.close()


def agg(answer: dict[str, Any], name: str) -> float:
    (row,) = answer["result"]["rows"]
    return row[name]


def values(cmp: dict[str, Any], aggregate: str) -> dict[str, float]:
    (d,) = [d for d in cmp["differences"] if d["aggregate"] == aggregate]
    return d["values"]


def test_a_sources_rate_and_a_service_time_mean_take_effect_in_a_fork() -> None:
    async def script(client: Client) -> dict[str, Any]:
        await call(client, "run_until", {"time": 100.0})
        fork = await call(client, "fork", {"name": "busier", "set": {
            "Users.rate": 16, "Enrich.service_time.mean": 0.02}})
        # the provider's own attribute: the source refreshes what it cached
        await call(client, "fork", {"name": "nested", "branch": "main", "set": {
            "Users.arrival_time_provider.rate": 16.0}})
        for branch in ("main", "busier", "nested"):
            await call(client, "run_until", {"time": 290.0, "branch": branch})
        cmp = await call(client, "compare", {"query": {
            "kind": "metrics", "name": "generated", "entity": "Users", "start": 100,
            "end": 290, "aggregates": ["rate"]}})
        svc = await call(client, "compare", {"query": {
            "kind": "metrics", "name": "service_time", "entity": "Enrich", "start": 100,
            "end": 290, "aggregates": ["mean"]}})
        cat = (await call(client, "catalog", {"branch": "busier"}))["catalog"]
        return {"fork": fork, "cmp": cmp, "svc": svc, "cat": cat}

    got = drive(SessionProtocol(PLANTED, params={"seed": 3, "end": 400.0}), script)
    assert got["fork"]["applied"] == [
        "Users.rate: 10.0 -> 16.0",
        "Enrich.service_time.mean: ExponentialLatency(mean=0.05) -> "
        "ExponentialLatency(mean=0.02)"]
    rates = values(got["cmp"], "rate")
    # Poisson counts over 190 s: 1,900 vs 3,040 arrivals, relative sd under 2.5 %
    assert rates["main"] == pytest.approx(10.0, rel=0.1)
    assert rates["busier"] == pytest.approx(16.0, rel=0.1)
    assert rates["nested"] == pytest.approx(16.0, rel=0.1)
    means = values(got["svc"], "mean")
    assert means["main"] == pytest.approx(0.05, rel=0.15)
    assert means["busier"] == pytest.approx(0.02, rel=0.15)
    entities = {e["name"]: e for e in got["cat"]["entities"]}
    assert entities["Users"]["rate"] == 16.0
    assert entities["Enrich"]["service_time"] == {"distribution": "exponential",
                                                  "mean": 0.02}


def test_a_constant_sources_rate_takes_effect_exactly() -> None:
    async def script(client: Client) -> dict[str, Any]:
        await call(client, "run_until", {"time": 50.0})
        await call(client, "fork", {"name": "slower", "set": {"Ticks.rate": 2.0}})
        for branch in ("main", "slower"):
            await call(client, "run", {"branch": branch, "wait_s": 60})
        return await call(client, "compare", {"query": {
            "kind": "metrics", "name": "generated", "entity": "Ticks", "start": 51,
            "end": 100, "aggregates": ["count"]}})

    counts = values(drive(SessionProtocol(constant_source), script), "count")
    # one arrival every 0.25 s, then every 0.5 s (from the one after the next)
    assert counts["main"] == 196
    assert counts["slower"] == 98


def test_retries_off_at_the_metastable_pause_compare_in_one_call() -> None:
    async def script(client: Client) -> dict[str, Any]:
        await call(client, "add_breakpoint", {"metric": {
            "source": "Server", "name": "queue_depth", "operator": "gt",
            "threshold": 20}})
        paused = (await call(client, "run", {}))["state"]
        fork = await call(client, "fork", {"name": "no-retries", "set": {
            "Client.retry_policy.max_attempts": 1}})
        for branch in ("main", "no-retries"):
            await call(client, "resume", {"branch": branch, "ignore_breakpoints": True})
        t = paused["current_time"]
        retries = await call(client, "compare", {"query": {
            "kind": "metrics", "name": "retries", "entity": "Client", "start": t + 1,
            "end": 150, "aggregates": ["count"]}})
        depth = await call(client, "compare", {"query": {
            "kind": "metrics", "name": "queue_depth", "entity": "Server", "start": t,
            "end": 150, "aggregates": ["mean"]}})
        return {"fork": fork, "retries": retries, "depth": depth}

    got = drive(SessionProtocol(METASTABLE, default_wait_s=60), script)
    assert got["fork"]["applied"] == ["Client.retry_policy.max_attempts: 4 -> 1"]
    retried = values(got["retries"], "count")
    assert retried["main"] > 100 and retried.get("no-retries", 0) == 0
    depth = got["depth"]["differences"][0]
    assert depth["values"]["no-retries"] < depth["values"]["main"] / 2  # it recovers
    assert depth["delta"]["no-retries"] < 0


BAD = [
    ({"Nobody.concurrency": 2}, "unknown_name", "Enrich"),
    ({"Enrich.colour": 2}, "unknown_name", "concurrency"),
    ({"Enrich.concurrency": 2.5}, "bad_request", "not converted"),
    ({"Enrich.concurrency": "2"}, "bad_request", "not converted"),
    ({"Enrich.concurrency": 0}, "bad_request", ">= 1"),
    ({"Enrich.service_time.rate": 5.0}, "unknown_name", "mean"),
    ({"Enrich.service_time.mean": -1}, "bad_request", "> 0"),
    ({"Enrich.service_time.mean": {"mean": 1}}, "unknown_name", "mean"),
    ({"Users.rate": -3.0}, "bad_request", "positive"),
    ({"Users.rate": True}, "bad_request", "not converted"),
    ({"concurrency": 2}, "unknown_name", "Enrich.<attribute>"),
    # what it keeps count of, and its name, are not configuration
    ({"Enrich.in_flight": 0}, "unknown_name", "service_time"),
    ({"Enrich.completed": 0}, "unknown_name", "service_time"),
    ({"Enrich.name": "Other"}, "unknown_name", "concurrency"),
    ({"Enrich.downstream": "Sink"}, "unknown_name", "queue_capacity"),
    ({"Users.limit": 2.5}, "bad_request", "takes int"),
    ({"Users.stop_after": "later"}, "bad_request", "not converted"),
    # a setting goes through what the entity was configured with, never into another
    # entity (name that one) or the running state
    ({"Enrich.downstream.concurrency": 2}, "unknown_name", "Store.concurrency"),
    ({"Enrich.done_port.name": "x"}, "unknown_name", "service_time"),
    ({"Enrich._queue.capacity": 3}, "unknown_name", "service_time"),
]


def test_wrong_paths_and_values_are_refused_naming_the_valid_ones() -> None:
    async def script(client: Client) -> list[dict[str, Any]]:
        await call(client, "run_until", {"time": 20.0})
        out = [await call(client, "fork", {"set": s}) for s, _, _ in BAD]
        out.append(await call(client, "branches", {}))
        return out

    got = drive(SessionProtocol(PLANTED, params={"end": 100.0}), script)
    for (setting, kind, hint), answer in zip(BAD, got, strict=False):
        err = answer["error"]
        assert err["kind"] == kind, (setting, err)
        assert hint in err["message"] + " ".join(err.get("valid", [])), (setting, err)
    assert [b["name"] for b in got[-1]["branches"]] == ["main"]  # nothing half-made


def test_objects_and_profiles_say_what_can_be_set() -> None:
    async def script(client: Client) -> list[dict[str, Any]]:
        await call(client, "run_until", {"time": 20.0})
        return [await call(client, "fork", {"set": {"Client.retry_policy": None}}),
                await call(client, "fork", {"set": {"Users.rate": 3.0}}),
                await call(client, "fork", {"set": {"Client.retry_policy.max_attempts": 0}}),
                await call(client, "fork", {"set": {"Client.retries": 0}})]

    policy, profile, zero, unknown = drive(SessionProtocol(METASTABLE), script)
    assert unknown["error"]["kind"] == "unknown_name"
    assert "retry_policy.max_attempts" in unknown["error"]["valid"]
    assert "Client.retry_policy.max_attempts" in policy["error"]["valid"]
    assert profile["error"]["kind"] == "bad_request" and "Profile" in \
        profile["error"]["message"]
    assert zero["error"]["kind"] == "bad_request" and ">= 1" in zero["error"]["message"]


def raw(answer: dict[str, Any]) -> list[tuple]:
    return [(r["time"], r["source"], r["name"], r["value"]) for r in answer["result"]["rows"]]


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(1, 50), at=st.floats(5.0, 60.0), steps=st.integers(0, 50))
def test_a_fork_with_no_change_equals_main_record_for_record(seed, at, steps) -> None:
    async def script(client: Client) -> tuple[list, list]:
        await call(client, "run_until", {"time": at})
        if steps:
            await call(client, "step", {"n": steps})
        await call(client, "fork", {"name": "same"})
        rows = {}
        for branch in ("main", "same"):
            await call(client, "run", {"branch": branch, "wait_s": 60})
            rows[branch] = []
            for name in ("queue_depth", "wait_time", "completed", "generated"):
                rows[branch] += raw(await call(client, "query", {"branch": branch,
                                                                 "budget_bytes": 4_000_000,
                                                                 "query": {
                    "kind": "metrics", "name": name, "entity": "*"}}))
        return rows["main"], rows["same"]

    main, same = drive(SessionProtocol(PLANTED, params={"seed": seed, "end": 80.0}), script)
    assert len(main) > 1000 and main == same


def test_drop_branch_frees_a_branch_and_main_stays() -> None:
    async def script(client: Client) -> dict[str, Any]:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        await call(client, "run_until", {"time": 10.0})
        for i in range(15):
            await call(client, "fork", {"name": f"b{i}"})
        full = await call(client, "fork", {"name": "one-too-many"})
        await call(client, "run", {"branch": "b3", "wait_s": 0})  # dropped while running
        dropped = await call(client, "drop_branch", {"branch": "b3"})
        again = await call(client, "fork", {"name": "one-too-many"})
        main = await call(client, "drop_branch", {})
        gone = await call(client, "drop_branch", {"branch": "b3"})
        query = await call(client, "state", {"branch": "b3"})
        listed = await call(client, "branches", {})
        return {"tool": tools["drop_branch"], "full": full, "dropped": dropped,
                "again": again, "main": main, "gone": gone, "query": query,
                "listed": listed}

    got = drive(SessionProtocol(PLANTED, params={"end": 100.0}), script)
    ann = got["tool"].annotations
    assert ann.destructive_hint and not ann.read_only_hint
    assert got["full"]["error"]["kind"] == "state" and "16" in got["full"]["error"]["message"]
    assert got["dropped"]["dropped"] == "b3"
    assert "b3" not in got["dropped"]["branches"] and got["dropped"]["branches"][0] == "main"
    assert got["again"]["branch"]["name"] == "one-too-many"
    assert got["main"]["error"]["kind"] == "bad_request"
    assert "b0" in got["main"]["error"]["valid"] and "main" not in got["main"]["error"]["valid"]
    for bad in (got["gone"], got["query"]):
        assert bad["error"]["kind"] == "unknown_name" and "b0" in bad["error"]["valid"]
    assert [b["name"] for b in got["listed"]["branches"]][:2] == ["main", "b0"]
    assert len(got["listed"]["branches"]) == 16


def test_a_sources_stop_and_limit_take_effect_and_are_checked() -> None:
    async def script(client: Client) -> list[dict[str, Any]]:
        await call(client, "run_until", {"time": 20.0})
        out = [await call(client, "fork", {"name": "early", "set": {
            "Ticks.stop_after": 30.0}}),
            await call(client, "fork", {"set": {"Ticks.limit": -1}}),
            await call(client, "fork", {"set": {"Ticks.limit": "many"}})]
        await call(client, "run", {"branch": "early", "wait_s": 60})
        out.append(await call(client, "query", {"branch": "early", "query": {
            "kind": "metrics", "name": "generated", "entity": "Ticks",
            "aggregates": ["count", "max"]}}))
        return out

    fork, negative, text, generated = drive(SessionProtocol(constant_source), script)
    assert fork["applied"] == ["Ticks.stop_after: 100.0 -> 30.0"]
    assert negative["error"]["kind"] == "bad_request" and ">= 0" in \
        negative["error"]["message"]
    assert text["error"]["kind"] == "bad_request"
    (row,) = generated["result"]["rows"]
    assert row["count"] == 120  # 4 per second up to and including t = 30 s


def test_a_changed_branch_rewinds_and_forks_again_exactly() -> None:
    """A branch's change is history: rewinding the branch replays it at the same event,
    and a fork of the branch carries it."""
    async def rows(client: Client, branch: str) -> list[tuple]:
        out = []
        for name in ("generated", "wait_time"):
            out += raw(await call(client, "query", {"branch": branch,
                                                    "budget_bytes": 4_000_000, "query": {
                "kind": "metrics", "name": name, "entity": "*"}}))
        return out

    async def script(client: Client) -> dict[str, Any]:
        await call(client, "run_until", {"time": 60.0})
        await call(client, "fork", {"name": "busier", "set": {
            "Users.rate": 14.0, "Enrich.service_time.mean": 0.03}})
        await call(client, "run_until", {"time": 150.0, "branch": "busier"})
        original = await rows(client, "busier")
        back = await call(client, "rewind", {"to": 100.0, "branch": "busier"})
        child = await call(client, "fork", {"name": "child", "branch": "busier"})
        assert child["branch"]["parent"] == "busier"
        await call(client, "run_until", {"time": 150.0, "branch": "busier"})
        await call(client, "run_until", {"time": 150.0, "branch": "child"})
        return {"original": original, "back": back, "again": await rows(client, "busier"),
                "child": await rows(client, "child")}

    got = drive(SessionProtocol(PLANTED, params={"seed": 8, "end": 200.0}), script)
    assert got["back"]["dropped"] == []  # the change at 60 s is kept
    assert got["again"] == got["original"] == got["child"]
    # the replayed change is in effect: 14 arrivals/s after 100 s (700 expected, sd 26)
    assert 600 < sum(1 for r in got["again"] if r[2] == "generated" and r[0] > 100) < 800


def test_dropping_a_branch_another_request_waits_on() -> None:
    """A running branch answers for itself; dropped, the request waiting on it ends with
    what happened."""
    import threading
    import time

    session = SessionProtocol(METASTABLE, params={"end_time": 100_000.0},
                              default_wait_s=None)
    session.handle({"op": "run_until", "time": 5.0})
    session.fork(name="long")
    out: dict[str, Any] = {}

    def wait_on_it() -> None:
        out["run"] = session.handle({"op": "run", "branch": "long", "wait_s": 60})

    waiter = threading.Thread(target=wait_on_it)
    waiter.start()
    deadline = time.monotonic() + 30
    while session.handle({"op": "state", "branch": "long", "wait_s": 0})["state"][
            "status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    # the running branch's state is its own (asked at its event boundary), not main's
    running = session.handle({"op": "state", "branch": "long", "wait_s": 0})["state"]
    main = session.handle({"op": "state", "wait_s": 0})["state"]
    assert running["is_running"] and main["status"] == "paused"
    assert main["current_time"] == 5.0
    out["drop"] = session.handle({"op": "drop_branch", "branch": "long"})
    waiter.join(60)
    session.close()
    assert out["drop"]["ok"] and out["drop"]["branches"] == ["main"]
    err = out["run"]["error"]  # the wait ends with what happened, not an internal error
    assert err["kind"] == "unknown_name" and "dropped" in err["message"]
