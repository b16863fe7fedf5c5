"""examples/call_center.py: shifts, impatient callers and a phone system that breaks;
the abandonment detector pauses the day, and the printed queries say why."""

from __future__ import annotations

import re

import pytest

from tests.examples.test_examples import load, run


def test_call_center_pauses_on_abandonment_during_a_phone_outage(
        capsys: pytest.CaptureFixture[str]) -> None:
    out = run("call_center", ["--seed", "2"], capsys)
    paused = re.search(r"Paused at t=(\d+) s .* by: anomaly level_shift\(Agents\.reneged\) "
                       r"\(Agents\.reneged=\d+, onset t=(\d+)s\)", out)
    assert paused, out
    onset = float(paused.group(2))
    outage = re.search(r"outages began at \[([\d, ]+)\] s, repairs at \[([\d, ]*)\] s", out)
    assert outage, out
    began = [float(x) for x in outage.group(1).split(",")]
    repaired = [float(x) for x in outage.group(2).split(",") if x.strip()]
    # abandonment began to rise while the phone system was down
    assert any(b <= onset < (repaired[i] if i < len(repaired) else float("inf"))
               for i, b in enumerate(began)), (onset, began, repaired)
    since = re.search(r"PhoneSystem\.up .*?(\S+)\s+(\S+)\n", out)
    assert since and float(since.group(2)) < 1.0  # down for part of the time since
    assert "The whole day:" in out  # resumed to the end


def test_call_center_model_agrees_with_its_own_records() -> None:
    cc = load("call_center")
    sim, agents, phones, _ = cc.build_parts(seed=2, hours=3.0)
    sim.run()
    q = sim.query
    end = 3 * 3600.0 + 1e-9
    reneged = q.metrics("reneged").from_entity("Agents").between(0, end).aggregate("count")
    assert (reneged.execute().scalar or 0) == agents.reneged
    cap = q.metrics("capacity").from_entity("Agents").between(0, end).execute().rows
    assert [(r["time"], r["value"]) for r in cap] == [(0.0, 7.0), (7200.0, 9.0)]
    avail = q.metrics("up").from_entity("PhoneSystem").between(0, end).aggregate("mean") \
        .execute().scalar
    assert 0.0 < avail <= 1.0
