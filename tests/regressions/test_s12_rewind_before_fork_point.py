"""Rewinding a what-if branch to before its fork point drops the branch's own setting
(``dropped: ["t=3s #848 set {'set': {'S0.concurrency': 3}}"]``) and the branch then runs
as main does (S0 at 2 workers), but ``branches`` still describes it as changed:
``{"name": "a", "forked_at": 3.0, "set": {"S0.concurrency": 3}, "current_time": 1.0}``.
An agent reading ``branches`` (and a ``compare`` of main and "a" that shows no
difference) concludes the change had no effect.

Repro (session 12, rev4): Users -> LB -> 3 servers, paused at t=3 s;
``fork {set: {"S0.concurrency": 3}, name: "a"}``; ``rewind {to: 1.0, branch: "a"}``.
Observed: the branch's S0.concurrency is 2 and stays 2 when run on; ``branches`` lists
"a" with ``set {"S0.concurrency": 3}`` and ``forked_at`` 3.0. Expected: the branch's
description says what it now is (no setting, or the rewind refused / keeping the
setting). Area: happysimulator/observability/protocol/ops_branches.py (_op_rewind keeps
Branch.settings and forked_at).
"""

from __future__ import annotations

from happysimulator import ExponentialLatency, Server, Simulation, Sink, Source
from happysimulator.components.load_balancer import LoadBalancer, RoundRobin
from happysimulator.observability import ObservabilityConfig
from happysimulator.observability.protocol import SessionProtocol
from happysimulator.observability.settings import entities_by_name


def build(seed: int = 1) -> Simulation:
    sink = Sink("Sink")
    servers = [Server(f"S{i}", concurrency=2, service_time=ExponentialLatency(0.1),
                      downstream=sink) for i in range(3)]
    lb = LoadBalancer("LB", backends=servers, strategy=RoundRobin())
    users = Source.poisson(rate=40.0, target=lb, name="Users", stop_after=6.0)
    return Simulation(sources=[users], entities=[*servers, sink, lb], seed=seed,
                      end_time=6.0, observability=ObservabilityConfig.full())


def test_branches_says_what_a_rewound_branch_is() -> None:
    session = SessionProtocol(build, default_wait_s=60)
    try:
        session.handle({"op": "run_until", "time": 3.0})
        assert session.handle({"op": "fork", "set": {"S0.concurrency": 3}, "name": "a"})["ok"]
        back = session.handle({"op": "rewind", "to": 1.0, "branch": "a"})
        assert back["ok"] and back["dropped"]  # the setting went with the history
        workers = entities_by_name(session._branch_map["a"].sim)["S0"].concurrency
        (info,) = [b for b in session.handle({"op": "branches"})["branches"]
                   if b["name"] == "a"]
        assert info.get("set", {}).get("S0.concurrency", 2) == workers, (info, workers)
    finally:
        session.close()
