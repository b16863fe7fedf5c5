"""Quantile sketches on a lognormal(sigma=1.5) stream of 1e6 values.

Ours (operators.sketch.QuantileSketch) vs datasketches KLL / REQ, the ddsketch package
and river's P2 quantile: relative error at p50/p99/p99.9 against exact numpy, size in
bytes, add throughput (vectorized and per-value). Missing packages are skipped
(datasketches and ddsketch are not project dependencies: pip install them to compare).

Run: .venv/bin/python benchmarks/rx_sketch_compare.py [--n 1000000]
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

import numpy as np  # noqa: E402

from operators.sketch import QuantileSketch  # noqa: E402

QS = (0.5, 0.99, 0.999)


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def contenders(x: np.ndarray):
    xl = x.tolist()

    def ours_vec():
        s = QuantileSketch(0.005)
        dt = timed(lambda: s.add_many(x))
        return s, dt, lambda q: s.quantile(q), s.nbytes()

    def ours_scalar():
        s = QuantileSketch(0.005)

        def run():
            add = s.add
            for v in xl:
                add(v)
            s.count  # noqa: B018 - flush the pending buffer inside the timing

        dt = timed(run)
        return s, dt, lambda q: s.quantile(q), s.nbytes()

    out = {
        "ours QuantileSketch(a=0.005) add_many": ours_vec,
        "ours QuantileSketch(a=0.005) add()": ours_scalar,
    }
    try:
        import datasketches as ds

        def kll():
            s = ds.kll_doubles_sketch(200)
            dt = timed(lambda: s.update(x))
            return s, dt, s.get_quantile, len(s.serialize())

        def req():
            s = ds.req_floats_sketch(12, True)  # high-rank accuracy (tail quantiles)
            xf = x.astype(np.float32)
            dt = timed(lambda: s.update(xf))
            return s, dt, s.get_quantile, len(s.serialize())

        out["datasketches KLL(k=200) vector update"] = kll
        out["datasketches REQ(k=12, HRA) vector update"] = req
    except ImportError:
        pass
    try:
        from ddsketch import DDSketch

        def dd():
            s = DDSketch(0.005)

            def run():
                add = s.add
                for v in xl:
                    add(v)

            dt = timed(run)
            return s, dt, s.get_quantile_value, len(pickle.dumps(s))

        out["ddsketch DDSketch(a=0.005) add()"] = dd
    except ImportError:
        pass
    try:
        from river import stats

        def river_p2():
            ss = {q: stats.Quantile(q) for q in QS}

            def run():
                for v in xl[: len(xl) // 10]:  # 10x fewer: P2 is slow per value
                    for s in ss.values():
                        s.update(v)

            dt = timed(run) * 10 / len(QS)  # per-quantile cost, scaled to the full n
            return ss, dt, None, sum(len(pickle.dumps(s)) for s in ss.values())

        out["river stats.Quantile (P2, 1 per q; 1/10 data)"] = river_p2
    except ImportError:
        pass
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    n = ap.parse_args().n
    x = np.random.default_rng(42).lognormal(0.0, 1.5, n)
    exact = {q: float(np.quantile(x, q)) for q in QS}
    exact_tenth = {q: float(np.quantile(x[: n // 10], q)) for q in QS}
    print(f"n={n}  exact p50={exact[0.5]:.4f} p99={exact[0.99]:.3f} p99.9={exact[0.999]:.3f}")
    print(f"{'sketch':48} {'p50 err':>8} {'p99 err':>8} {'p999 err':>8} {'bytes':>8} {'ns/add':>8}")
    for name, make in contenders(x).items():
        s, dt, quant, size = make()
        if quant is None:  # river: one estimator per quantile, on the first n/10 values
            errs = [abs(s[q].get() - exact_tenth[q]) / exact_tenth[q] for q in QS]
        else:
            errs = [abs(quant(q) - exact[q]) / exact[q] for q in QS]
        print(
            f"{name:48} "
            + " ".join(f"{e * 100:7.3f}%" for e in errs)
            + f" {size:8d} {dt / n * 1e9:8.1f}"
        )


if __name__ == "__main__":
    main()
