"""False alarms and detection delay of AnomalyDetector on the metastable-failure scenario.

Each seed runs examples/metastable_failure.py's model (two absorbed load bursts, then a
blow-up at t=70 s that tips the system into a metastable failure) with a level-shift
detector on the server's queue depth. Ground truth comes from the run itself: a report
before the blow-up is a *false alarm* if the queue later drains (time-weighted mean < 3
over some 5 s window before t=70 s); otherwise the burst really tipped the system over
and the report is a *true early detection*.

    python benchmarks/anomaly_detection.py [--seeds 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from metastable_failure import BLOW_UP, build  # noqa: E402


def evaluate(seed: int) -> dict:
    sim, _client, _server, detector = build(seed)
    detector.attach(sim)
    sim.run()
    q = sim.query.metrics("queue_depth").from_entity("Server")
    out = {"seed": seed, "false_alarms": 0, "early_true": 0, "delay": None, "candidates": detector.candidates}
    for r in detector.reports:
        if r.onset < BLOW_UP[0]:
            windows = q.between(r.time, BLOW_UP[0]).window(5.0).aggregate("mean").execute().rows
            drained = any(w["mean"] is not None and w["mean"] < 3.0 for w in windows)
            out["false_alarms" if drained else "early_true"] += 1
        elif out["delay"] is None:
            out["delay"] = r.time - BLOW_UP[0]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=30)
    args = parser.parse_args()
    rows = [evaluate(s) for s in range(1, args.seeds + 1)]
    CONFIRM = build(1)[3].confirm_after  # noqa: N806
    delays = [r["delay"] for r in rows if r["delay"] is not None]
    missed = sum(1 for r in rows if r["delay"] is None and r["early_true"] == 0)
    print(f"seeds: {len(rows)}")
    print(f"false alarms (report, then the queue drained before the blow-up): "
          f"{sum(r['false_alarms'] for r in rows)} in {sum(1 for r in rows if r['false_alarms'])} runs")
    print(f"burst really tipped the system over early (true early detections): "
          f"{sum(r['early_true'] for r in rows)}")
    print(f"blow-up missed: {missed}")
    if delays:
        print(f"detection delay after the blow-up starts: median {statistics.median(delays):.1f} s, "
              f"min {min(delays):.1f} s, max {max(delays):.1f} s (confirmation {CONFIRM:g} s included)")
    print(f"candidates (PageHinkley detections before confirmation): "
          f"{sum(r['candidates'] for r in rows)}, reported: "
          f"{sum(r['false_alarms'] + r['early_true'] + (r['delay'] is not None) for r in rows)}")


if __name__ == "__main__":
    main()
