"""benchmarks/bench_agent.py runs, and what it measures is what it says: ``changes`` over
200 series ranks the slowed stage first, with both readers answering identically; a
fork at the metastable pause replays exactly the events main ran."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_agent",
                                                  ROOT / "benchmarks" / "bench_agent.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_agent_measures_what_it_says() -> None:
    bench = _bench()
    ch = bench.bench_changes(1)
    assert ch["series"] >= 200 and ch["identical"]
    assert ch["top"].startswith(f"S{bench.STAGES // 2:02d}.") and abs(ch["onset"] - 300) <= 10
    fork = bench.bench_fork_at_pause(1)
    assert fork["replayed_events"] == fork["events"] > 1000
