"""What the hypothesis tools cost: ``changes`` over 200 series, a fork (rebuild + replay)
to the metastable pause, and a replay to t = 1000 s for the examples.

* changes: a chain of 25 servers (8 series each: 200 series) run for 600 s, the middle
  one slowed at 300 s; ``changes`` with before = [100, 300], after = [300, 600]; and,
  interleaved in the same run, its two readers: the store (each series read once, what
  ``changes`` uses) and the query engine (three queries per series, the reference);
* fork at the pause: the metastable model paused by ``queue_depth > 20`` (about 71 s);
  ``fork`` with one more worker (rebuild from the factory, replay, apply, pause; each
  branch dropped after it is timed);
* replay to 1000 s: each example run to t = 1000 s, then ``fork`` at now (the whole
  prefix replayed, checked event for event at the fork point).

Medians of ``--repeat`` runs (CPU seconds, ``time.process_time``), through the session
protocol.

    python benchmarks/bench_agent.py [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from happysimulator import (  # noqa: E402
    Event,
    ExponentialLatency,
    Instant,
    LatencyTracker,
    Server,
    Simulation,
    Source,
)
from happysimulator.observability import ObservabilityConfig  # noqa: E402
from happysimulator.observability.protocol import SessionProtocol  # noqa: E402

STAGES = 25


def chain(seed: int = 1, end: float = 600.0) -> Simulation:
    """25 servers in a row (200 series); the middle one slows down at 300 s."""
    sink = LatencyTracker("Sink")
    nxt: Any = sink
    servers = []
    for i in reversed(range(STAGES)):
        nxt = Server(f"S{i:02d}", service_time=ExponentialLatency(0.04), downstream=nxt)
        servers.append(nxt)
    source = Source.poisson(rate=10.0, target=nxt, name="Users", stop_after=end)
    sim = Simulation(sources=[source], entities=[*servers, sink], seed=seed, end_time=end,
                     observability=ObservabilityConfig.default())
    middle = servers[STAGES // 2]

    def slow(_: Event) -> None:
        middle.service_time = ExponentialLatency(0.085)

    sim.schedule(Event.once(Instant.from_seconds(300.0), "slowdown", slow))
    return sim


def _median(fn: Any, repeat: int) -> tuple[float, Any]:
    """Median CPU seconds of `repeat` calls (and the last answer)."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.process_time()
        out = fn()
        times.append(time.process_time() - t0)
    return statistics.median(times), out


def bench_changes(repeat: int) -> dict[str, Any]:
    """``changes`` as the session answers it, and both readers side by side (interleaved,
    same model): the store reader (what ``changes`` uses) against the reference reader
    (three queries per series, how ``changes`` read its series before)."""
    from happysimulator.observability.changes import _QueryReader, _StoreReader, changes

    session = SessionProtocol(chain, default_wait_s=None)
    session.handle({"op": "run"})
    n = len(session.sim.query.catalog()["metrics"])
    engine = session.sim.query
    args = {"before": [100, 300], "after": [300, 600]}
    times: dict[str, list[float]] = {"store": [], "queries": []}
    answers = {}
    for _ in range(repeat):
        for label, reader in (("store", _StoreReader), ("queries", _QueryReader)):
            t0 = time.process_time()
            answers[label] = changes(engine, **args, limit=10**9, reader=reader)
            times[label].append(time.process_time() - t0)
    t, ch = _median(lambda: session.changes(**args, limit=10), repeat)
    top = ch["series"][0]
    session.close()
    fast, slow = (statistics.median(times[k]) for k in ("store", "queries"))
    return {"series": n, "median_s": round(t, 4), "store_reader_s": round(fast, 4),
            "query_reader_s": round(slow, 4), "speedup": round(slow / fast, 2),
            "identical": answers["store"] == answers["queries"],
            "top": f"{top['entity']}.{top['name']}", "onset": top.get("onset")}


def _forks(session: SessionProtocol, repeat: int, **kw: Any) -> tuple[float, Any]:
    """Median CPU seconds of `repeat` forks (each branch dropped after it is timed: a
    session holds at most 16)."""
    times, fork = [], None
    for i in range(repeat):
        t0 = time.process_time()
        fork = session.fork(name=f"b{i}", **kw)
        times.append(time.process_time() - t0)
        session.drop_branch(f"b{i}")
    return statistics.median(times), fork


def bench_fork_at_pause(repeat: int) -> dict[str, Any]:
    session = SessionProtocol(f"{ROOT / 'examples' / 'metastable_failure.py'}:build",
                              default_wait_s=None)
    session.handle({"op": "add_breakpoint", "metric": {
        "source": "Server", "name": "queue_depth", "operator": "gt", "threshold": 20}})
    state = session.handle({"op": "run"})["state"]
    t, fork = _forks(session, repeat, set={"Server.concurrency": 2})
    session.close()
    return {"paused_at": state["current_time"], "events": state["events_processed"],
            "median_s": round(t, 4), "replayed_events": fork["replayed"]["events"],
            "replay_wall_s": fork["replayed"]["wall_s"]}


def bench_replay_1000(repeat: int) -> dict[str, Any]:
    out = {}
    models = {
        "metastable_failure": (f"{ROOT / 'examples' / 'metastable_failure.py'}:build",
                               {"end_time": 1000.0}),
        "m_m_1_queue": (f"{ROOT / 'examples' / 'm_m_1_queue.py'}:build", {}),
        "planted_slowdown": (f"{ROOT / 'tests' / 'agent' / 'planted.py'}:build",
                             {"end": 1000.0}),
    }
    for name, (spec, params) in models.items():
        try:
            session = SessionProtocol(spec, params=params, default_wait_s=None)
        except Exception as exc:  # a factory without these parameters
            out[name] = {"error": str(exc)}
            continue
        run = session.handle({"op": "run_until", "time": 1000.0})
        if not run["ok"]:
            run = session.handle({"op": "run"})
        state = run["state"]
        t, _ = _forks(session, repeat)
        out[name] = {"to_time": state["current_time"], "events": state["events_processed"],
                     "median_s": round(t, 4)}
        session.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = {"changes_200_series": bench_changes(args.repeat),
              "fork_at_metastable_pause": bench_fork_at_pause(args.repeat),
              "replay_to_1000_s": bench_replay_1000(args.repeat)}
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        c = result["changes_200_series"]
        print(f"changes over {c['series']} series: {c['median_s'] * 1000:.0f} ms "
              f"(top: {c['top']}, onset {c['onset']}); reading the store "
              f"{c['store_reader_s'] * 1000:.0f} ms vs three queries per series "
              f"{c['query_reader_s'] * 1000:.0f} ms ({c['speedup']}x, identical: "
              f"{c['identical']})")
        f = result["fork_at_metastable_pause"]
        print(f"fork + replay to the metastable pause (t={f['paused_at']:.1f} s, "
              f"{f['events']:,} events): {f['median_s'] * 1000:.0f} ms")
        for name, r in result["replay_to_1000_s"].items():
            if "error" in r:
                print(f"replay {name}: {r['error']}")
                continue
            print(f"fork + replay of {name} to t={r['to_time']:g} s ({r['events']:,} events): "
                  f"{r['median_s'] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
