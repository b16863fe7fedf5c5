"""Every example runs (its ``main(argv)``, at a small size) and says what it should.

Each example is imported by path and run in-process; the assertions check the claims
its output makes (theory vs measurement, pauses and their causes, flat memory, ...).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TESTED = {"m_m_1_queue", "metastable_failure", "ai_observer", "custom_operator",
          "long_running_bounded", "circuit_breaker_storm", "load_balancer_fault",
          "token_bucket_spike"}
TESTED |= {"call_center"}  # (tests/examples/test_call_center.py)


def load(name: str) -> ModuleType:
    path = EXAMPLES / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses & co. look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    return module


def run(name: str, argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = load(name).main(argv)
    out = capsys.readouterr().out
    assert code == 0, f"{name} {argv} exited {code}:\n{out}"
    return out


def number(pattern: str, text: str) -> float:
    m = re.search(pattern, text, re.MULTILINE)
    assert m, f"{pattern!r} not found in:\n{text}"
    return float(m.group(1).replace(",", ""))


def test_every_example_is_tested() -> None:
    found = {p.stem for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert found == TESTED, f"untested: {found - TESTED}; gone: {TESTED - found}"


def test_m_m_1_queue_matches_theory(capsys: pytest.CaptureFixture[str]) -> None:
    # seed 1: a run whose queue passes 25 (the breakpoint this test checks) within 2000
    out = run("m_m_1_queue", ["--customers", "2000", "--seed", "1", "--json"], capsys)
    assert "1. Paused at t=" in out and "metric Server.queue_depth gt 25" in out
    assert "2. complete:" in out and "8000 events" in out
    rows = {m.group(1).strip(): (float(m.group(2)), float(m.group(3)))
            for m in re.finditer(r"^ {3}([a-z][A-Za-z0-9 ()]*?) {2,}(-?\d+\.\d+) +(-?\d+\.\d+) +[+-]",
                                 out, re.MULTILINE)}
    assert set(rows) == {"utilization", "mean queue depth (Lq)", "mean wait in queue (Wq)",
                         "mean latency (W)", "p99 latency"}, rows
    for name, (got, theory) in rows.items():
        assert abs(got - theory) / theory < 0.6, f"{name}: {got} vs {theory}"
    util, _ = rows["utilization"]
    assert abs(util - 0.8) < 0.08
    lq, wq, w = (rows[k][0] for k in ("mean queue depth (Lq)", "mean wait in queue (Wq)",
                                       "mean latency (W)"))
    # internal consistency of the stores: Little's law (Lq = lambda Wq, lambda = 8/s,
    # Lq time-weighted) and W - Wq = mean service time 0.1 s
    assert abs(lq / wq - 8.0) / 8.0 < 0.1, (lq, wq)
    assert abs((w - wq) - 0.1) < 0.02, (w, wq)
    assert re.search(r"4\. Request \d+'s trace: Source .* -> Server .* -> Sink", out)
    brief = json.loads(out[out.index("{", out.index("5. AI summary")):])
    assert brief["schema"] == "happysim-rx.summary/1"
    assert brief["size_bytes"] <= 6_000 and brief["run"]["is_complete"]


def test_metastable_failure_is_caught(capsys: pytest.CaptureFixture[str], tmp_path: Path
                                      ) -> None:
    export = tmp_path / "metastable.json"
    out = run("metastable_failure", ["--export", str(export)], capsys)
    paused_at = number(r"Paused at t=([\d.]+)s by: anomaly", out)
    assert 70.0 < paused_at < 90.0  # after the blow-up at t=70 s, within 20 s
    assert "0 false alarm(s)" in out
    tail_depth = number(r"queue depth (\d+), goodput", out)
    assert tail_depth > 50, "the retries should keep the queue long after the burst"
    assert "Resumed to the end: end_time at t=150s" in out
    doc = json.loads(export.read_text())
    assert doc["anomalies"] and doc["anomalies"][0]["kind"] == "level_shift"
    assert len(export.read_bytes()) <= 8_000 + 32


def test_ai_observer_reaches_conclusions(capsys: pytest.CaptureFixture[str]) -> None:
    """The scripted observer, over an MCP client session, finds the metastable failure
    and tests one hypothesis with a fork, in at most 5 tool calls."""
    out = run("ai_observer", [], capsys)
    findings = out[out.index("What the observer concluded, and why:"):]
    assert "congested station: Server" in findings
    assert "hypothesis under test: Client.retry_policy.max_attempts: 4 -> 1" in findings
    assert "conclusion: a metastable failure" in findings
    calls = int(number(r"(\d+) tool calls", out))
    assert calls <= 5
    assert re.findall(r"^  \d\. (\w+) .*\[([\d,]+) bytes\]", out, re.MULTILINE)[3][0] \
        == "resume"
    assert number(r"([\d,]+) bytes of JSON exchanged", out) < 20_000


def test_custom_operator_narrative(capsys: pytest.CaptureFixture[str]) -> None:
    out = run("custom_operator", [], capsys)
    # both conditions paused the run through Breakpoint(when=...)
    pauses = re.findall(r"^\d\. t=\s*([\d.]+)s\s+PAUSED by (fast burn|queue stuck)", out,
                        re.MULTILINE)
    assert {by for _, by in pauses} == {"fast burn", "queue stuck"}, out
    assert all(75.0 < float(t) < 110.0 for t, _ in pauses), pauses  # during the ramp
    assert re.search(r"^\d\. complete at t=", out, re.MULTILINE)
    # the alert has hysteresis: raised once during the overload, cleared after it
    raised = number(r"t=\s*([\d.]+)s\s+fast-burn alert RAISED", out)
    cleared = number(r"t=\s*([\d.]+)s\s+fast-burn alert cleared", out)
    assert raised < 100.0 < cleared
    assert out.count("alert RAISED") == 1
    # windows in simulated time, whichever way the clock was resolved
    assert "clock from the scheduler == explicit clock=sim.clock: True" in out
    windows = re.findall(r"^\s+\[\s*(\d+),\s*(\d+)\)\s+\d+ req\s+p99\s+([\d.]+)s", out,
                         re.MULTILINE)
    assert [int(a) for a, _, _ in windows[:3]] == [0, 10, 20]
    assert all(int(b) - int(a) == 10 for a, b, _ in windows)
    slow = [int(a) for a, _, p in windows if float(p) > 2.0]
    assert slow and all(60 <= a < 120 for a in slow), slow  # only around the overload
    assert number(r"worst 30 s burn ([\d.]+)x", out) > 10


def test_custom_operator_rejects_bad_objective() -> None:
    module = load("custom_operator")
    with pytest.raises(ValueError, match="objective"):
        module.slo_burn_rate(2.0, 1.5)


def test_long_running_bounded_small(capsys: pytest.CaptureFixture[str]) -> None:
    out = run("long_running_bounded", ["--events", "50000", "--progress", "5"], capsys)
    progress = re.findall(r"^\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d.]+)$", out, re.MULTILINE)
    assert len(progress) == 5, out
    events = [int(e.replace(",", "")) for _, e, _, _ in progress]
    assert events == [10_000, 20_000, 30_000, 40_000, 50_000]
    assert "Done: 50,000 events" in out
    assert re.search(r"whole run \([\d,]+ requests\): exact=False, error_bound=0\.005", out)
    assert re.search(r"last 200 s .* exact=True", out)
    p50 = number(r"^\s+p50\s+([\d.]+)", out)
    assert abs(p50 - 0.347) / 0.347 < 0.35
    # Memory, deterministically: the bounded stores' own size (the RSS lines are for a
    # person running the example; in a short run inside the test process they are noise)
    kb = number(r"^Metric store: ([\d,]+) kB in 10 series", out)
    assert 9 * 8192 * 16 / 1024 < kb < 8192  # full rings of 8192 (t, v) pairs + rollups
    # (3.9 MB at this seed and length; the same every run)
    assert re.search(r"growth over the last 90%: [+-][\d.]+ MB", out)
    assert re.search(r"trend [+-][\d.]+ MB per million events", out)


def test_long_running_bounded_defaults_to_ten_million() -> None:
    module = load("long_running_bounded")
    args = module.parse_args([])
    assert args.events == 10_000_000 and not args.keep_sink_data
    with pytest.raises(SystemExit):
        module.parse_args(["--events", "0"])


def test_circuit_breaker_stops_the_retry_storm(capsys: pytest.CaptureFixture[str]) -> None:
    out = run("circuit_breaker_storm", [], capsys)
    paused_at = number(r"Paused at t=([\d.]+)s by: metric Breaker.state ge 2", out)
    assert 30.0 < paused_at < 33.0  # the dependency degrades at t=30 s
    assert number(r"the breaker counted (\d+) failures", out) >= 10
    assert "(30.0, 'closed')" not in out and "'open')" in out and "'half-open')" in out
    assert number(r"refused at once by the open circuit: (\d+)", out) > 100
    with_cb = re.search(r"with breaker\s+(\d+)\s+(\d+)\s+(\d+)", out)
    without = re.search(r"without\s+(\d+)\s+(\d+)\s+(\d+)", out)
    assert with_cb and without, out
    # the breaker keeps the backend's queue short and serves more calls
    assert int(with_cb.group(1)) * 10 < int(without.group(1))
    assert int(with_cb.group(3)) > int(without.group(3))


def test_load_balancer_takes_the_crashed_backend_out(capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    out = run("load_balancer_fault", [], capsys)
    paused_at = number(r"Paused at t=([\d.]+)s by: metric LB.healthy_backends lt 3", out)
    assert 20.0 < paused_at < 23.5  # two failed probes, one second apart, after t=20 s
    # the crash is the FaultSchedule's, told by its events, gauge and lost counter
    assert "fault.start {'fault': 'CrashNode', 'target': 'S1'} at t=20s (active_faults 1)" in out
    assert "fault.end {'fault': 'CrashNode', 'target': 'S1'} at t=40s, active_faults 0" in out
    assert number(r"S1 so far: (\d+) lost", out) >= 2  # at least the two failed probes
    assert number(r"probes since the crash: (\d+) timed out", out) == 2
    # nothing routed to S1 while it was out
    assert number(r"routed \{'S0': \d+, 'S1': (\d+), 'S2': \d+\}; client", out) == 0
    lost = number(r"client timeouts ([\d.]+)/s from the crash", out)
    after = number(r"timed out, ([\d.]+)/s after", out)
    assert after * 10 < lost  # the timeouts stop once S1 is out of rotation
    back = re.search(r"S1 in rotation: \[\(([\d.]+), False\), \(([\d.]+), True\)\]", out)
    assert back and 40.0 < float(back.group(2)) < 43.5, out
    assert number(r"p99 crash to removal\s*: ([\d.]+)s", out) > number(
        r"p99 before the crash\s*: ([\d.]+)s", out)


def test_token_bucket_sheds_the_spike(capsys: pytest.CaptureFixture[str]) -> None:
    out = run("token_bucket_spike", [], capsys)
    paused_at = number(r"Paused at t=([\d.]+)s by: metric Limiter.tokens lt 1", out)
    assert 10.0 < paused_at < 11.0  # 40 tokens last well under a second at ~150/s
    refused = number(r"and refused (\d+)", out)
    assert refused > 50
    assert number(r"reason rate_limited: (\d+)", out) == refused
    bucket = re.search(r"token bucket\s+(\d+)\s+([\d.]+)s", out)
    plain = re.search(r"no limiter\s+(\d+)\s+([\d.]+)s", out)
    assert bucket and plain, out
    assert int(bucket.group(1)) * 3 < int(plain.group(1))  # the backend's queue stays short
    assert float(bucket.group(2)) < float(plain.group(2))  # and answers stay faster
