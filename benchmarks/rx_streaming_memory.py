"""StreamingMetricStore: resident memory vs run length, and accuracy of whole-run
quantiles, each size measured in a fresh subprocess.

A latency series (lognormal sigma=1.5, 1000 samples per simulated second) and a gauge
(queue depth, one change per 10 samples) are emitted through the bus; we report the
RSS growth over the baseline and the store's own byte count after the run (before and
after the first query, which summarizes what is still pending), and p50 /
p99 / p99.9 of the whole run against exact numpy (the stream is regenerated from its
seed after measuring, so the exact answer costs no memory during the run).

Run: .venv/bin/python benchmarks/rx_streaming_memory.py [--sizes 1000000,10000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from anywhere

CHUNK = 100_000


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def child(n: int) -> dict:
    import numpy as np

    from happysim_rx import ManualClock, ObservationBus, QueryEngine, StreamingMetricStore

    clock = ManualClock()
    bus = ObservationBus(clock)
    store = bus.attach_store(StreamingMetricStore())
    lat = bus.metric("Sink", "latency", "sample").emit
    depth = bus.metric("Server", "queue_depth", "gauge").emit
    rng = np.random.default_rng(7)
    # Warm-up chunk so imports, numpy buffers and code paths are in the baseline.
    base = rss_bytes()
    t0 = time.perf_counter()
    done, level = 0, 0
    while done < n:
        k = min(CHUNK, n - done)
        v = rng.lognormal(0.0, 1.5, k).tolist()
        t = ((np.arange(done, done + k)) / 1000.0).tolist()
        steps = rng.integers(-1, 2, k // 10).tolist()
        for i in range(k):
            lat(t[i], v[i])
            if i % 10 == 0 and i // 10 < len(steps):
                level = max(0, level + steps[i // 10])
                depth(t[i], level)
        done += k
    ingest_s = time.perf_counter() - t0
    clock.advance_to(n / 1000.0)
    bus.flush()
    run_rss, run_bytes = rss_bytes(), store.nbytes()  # before any query summarizes
    engine = QueryEngine(bus)
    tq = time.perf_counter()
    r = engine.metrics("latency").aggregate("p50", "p99", "p999", "count").execute()
    query_ms = (time.perf_counter() - tq) * 1e3
    g = engine.metrics("queue_depth").aggregate("mean").execute()
    after = rss_bytes()
    store_bytes = store.nbytes()
    # Exact reference: regenerate the same stream.
    rng = np.random.default_rng(7)
    parts, done = [], 0
    while done < n:
        k = min(CHUNK, n - done)
        parts.append(rng.lognormal(0.0, 1.5, k))
        rng.integers(-1, 2, k // 10)
        done += k
    x = np.concatenate(parts)
    row = r.rows[0]
    errs = {
        q: abs(row[q] - float(np.quantile(x, p))) / float(np.quantile(x, p))
        for q, p in (("p50", 0.5), ("p99", 0.99), ("p999", 0.999))
    }
    return {
        "n": n,
        "rss_growth_mb": (after - base) / 2**20,
        "store_mb": store_bytes / 2**20,
        "run_rss_growth_mb": (run_rss - base) / 2**20,
        "run_store_mb": run_bytes / 2**20,
        "ingest_us_per_obs": ingest_s / (n * 1.1) * 1e6,
        "query_ms": query_ms,
        "exact": r.exact,
        "error_bound": r.error_bound,
        "count": row["count"],
        "rel_err": errs,
        "gauge_mean": g.scalar,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--child", type=int)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child)))
        return
    results = []
    for n in map(int, a.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        res = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(res)
        e = res["rel_err"]
        print(
            f"n={n:>9}: before the first query RSS +{res['run_rss_growth_mb']:.1f} MB, "
            f"store {res['run_store_mb']:.2f} MB; after it "
            f"RSS +{res['rss_growth_mb']:.1f} MB, store {res['store_mb']:.2f} MB, "
            f"ingest {res['ingest_us_per_obs']:.3f} us/obs, whole-run query {res['query_ms']:.1f} ms, "
            f"exact={res['exact']} bound={res['error_bound']}, "
            f"err p50 {e['p50']:.3%} p99 {e['p99']:.3%} p99.9 {e['p999']:.3%}"
        )
    if len(results) >= 2:
        a0, a1 = results[0], results[-1]
        print(
            f"store bytes growth {a0['n']}->{a1['n']}: "
            f"{(a1['store_mb'] / a0['store_mb'] - 1):+.1%}; RSS growth ratio "
            f"{a1['rss_growth_mb'] / max(a0['rss_growth_mb'], 1e-9):.2f}x"
        )


if __name__ == "__main__":
    main()
