"""Windowed and whole-run metric queries on the exact store against vectorized numpy
references, measured side by side in one invocation (median of interleaved repeats).

    PYTHONPATH=. python benchmarks/bench_queries.py            # 10^6 samples
    PYTHONPATH=. python benchmarks/bench_queries.py --n 200000 --repeats 3

1. ``window(1.0).aggregate("p99")`` over 10^6 latency samples (10^5 s at 10/s): the
   reference sorts within windows with one ``lexsort`` and interpolates like
   ``np.quantile``.
2. A gauge's time-weighted mean over the whole run (10^6 changes): the reference is one
   dot product of values and holding times.

Both answers are checked equal to the references before timing. Goal: ratio <= 2.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

import numpy as np  # noqa: E402
from numpy_references import time_weighted_mean, window_quantile  # noqa: E402

from happysim_rx import ManualClock, MetricStore, ObservationBus, QueryEngine  # noqa: E402

RATE = 10.0  # samples per simulated second: 10^6 samples span 10^5 s (10^5 windows)


def build(n: int) -> tuple[QueryEngine, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(0)
    t = np.arange(n) / RATE
    lat = rng.lognormal(0, 1.0, n)
    gt = np.sort(rng.uniform(0, n / RATE, n))
    gv = rng.integers(0, 50, n).astype(float)
    end = n / RATE
    clock = ManualClock(end)
    bus = ObservationBus(clock)
    bus.attach_store(MetricStore())
    bus.metric("Sink", "latency", "sample")
    bus.metric("Server", "queue_depth", "gauge")
    store = bus.stores[0]
    store.series_for("Sink", "latency", "sample").extend(t, lat)
    store.series_for("Server", "queue_depth", "gauge").extend(gt, gv)
    return QueryEngine(bus), t, lat, gt, gv, end


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    engine, t, lat, gt, gv, end = build(args.n)

    def ours_p99():
        return engine.metrics("latency").between(0, end).window(1.0).aggregate("p99").execute()

    def ours_mean():
        return engine.metrics("queue_depth").between(gt[0], end).aggregate("mean").execute()

    def ref_p99():
        return window_quantile(t, lat, 1.0)[1]

    def ref_mean():
        return time_weighted_mean(gt, gv, end)

    got = np.array([r["p99"] for r in ours_p99().rows])
    assert np.allclose(got, ref_p99(), rtol=1e-12), "window p99 differs from numpy"
    assert abs(ours_mean().scalar - ref_mean()) <= 1e-9 * abs(ref_mean()), "mean differs"
    cases = {"window(1.0) p99": (ours_p99, ref_p99), "gauge time-weighted mean": (
        ours_mean, ref_mean)}
    times: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in cases}
    for _ in range(args.repeats):  # interleaved: ours, reference, ours, reference ...
        for name, (ours, ref) in cases.items():
            times[name][0].extend(timed(ours, 1))
            times[name][1].extend(timed(ref, 1))
    print(f"{args.n:,} samples, median of {args.repeats} interleaved repeats")
    for name, (o, r) in times.items():
        mo, mr = statistics.median(o), statistics.median(r)
        print(f"  {name:26s} query {mo * 1e3:8.1f} ms  numpy {mr * 1e3:8.1f} ms  "
              f"ratio {mo / mr:5.2f}x")


if __name__ == "__main__":
    main()
