"""A bounded TraceStore's intake cost: this checkout against a baseline checkout, on the
same 10^5-span streams, interleaved (one subprocess per measurement, rounds alternate
the checkouts), CPU time (``time.process_time``) of handing the spans over and reading
the store (the stream is built before the clock starts; a warm-up on its first eighth
first, so that numpy's first calls are not counted; each measurement the median of three
runs).

Streams (``--cases``), modelled on a run with a LoadBalancer: requests created in id
order, each with Source, LB, Server and Sink spans; the stations' spans reach the store
as lazy column batches at flushes, the LB's as rows when they end (a little later):

- ``flush``: a flush every 4096 station spans, a read at each;
- ``paused``: a read after every request (a run paused at each request);
- ``shuffled``: ``flush``, with request ids shuffled within windows of 64 (late first
  spans: the new rule's per-batch "held" count takes its slow path).

    PYTHONPATH=$PWD python benchmarks/bench_trace_bound.py --baseline /tmp/base11 \\
        --rounds 5 --caps 16,1000,10000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

_CHILD = r"""
import json, sys, time
import numpy as np
from happysim_rx.stores.trace import SpanArrays, TraceStore

case, cap, n_spans = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(7)
n_req = n_spans // 4
ids = np.arange(1, n_req + 1, dtype=np.int64)
if case == "shuffled":
    for i in range(0, n_req, 64):
        rng.shuffle(ids[i:i + 64])
t0 = np.cumsum(rng.exponential(0.1, n_req))
names = ["Source", "Server", "Sink"]
flush_every = 4096 if case != "paused" else 3
ops, pend_t, pend_e, pend_s, late = [], [], [], [], []


def flush():
    if not pend_t:
        return
    t = np.array(pend_t, dtype=np.int64)
    s = np.array(pend_s)
    ops.append(("lazy", SpanArrays(t, np.array(pend_e), names, s, s + 0.01, [])))
    pend_t.clear(); pend_e.clear(); pend_s.clear()


# the stream is built first: only handing it over and reading is timed
for k in range(n_req):
    tid, t = int(ids[k]), float(t0[k])
    for e in range(3):
        pend_t.append(tid); pend_e.append(e); pend_s.append(t + 0.05 * e)
    late.append((tid, None, None, "LB", t, t + 0.05, None))
    if len(late) > 8:  # a balancer's span ends a few requests later
        ops.append(("rows", [late.pop(0)]))
    if len(pend_t) >= flush_every:
        flush()
        ops.append(("read", None))
flush()
ops.append(("rows", late))
ops.append(("read", None))
# a warm-up (numpy's first calls), then three timed runs (their median)
cpus = []
for size in (len(ops) // 8, len(ops), len(ops), len(ops)):
    store = TraceStore(max_traces=cap)
    start = time.process_time()
    for op, x in ops[:size]:
        if op == "lazy":
            store.add_lazy(x, lambda r, skip: r, x.trace_ids.size)
        elif op == "rows":
            store.add_rows(x)
        else:
            len(store)
    cpus.append(time.process_time() - start)
cpu = sorted(cpus[1:])[1]
print(json.dumps({"cpu_s": cpu, "kept": len(store), "traces": len(store.trace_ids())}))
"""


def _measure(checkout: str, case: str, cap: int, n: int) -> dict:
    env = {**os.environ, "PYTHONPATH": checkout, "PYTHONHASHSEED": "0",
           "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", _CHILD, case, str(cap), str(n)], env=env,
                         capture_output=True, text=True, check=True, cwd="/tmp")
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", required=True, help="a checkout to compare with")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--spans", type=int, default=100_000)
    ap.add_argument("--caps", default="16,1000,10000")
    ap.add_argument("--cases", default="flush,paused,shuffled")
    args = ap.parse_args()
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    checkouts = {"base": args.baseline, "this": here}
    cases = [(c, int(k)) for c in args.cases.split(",") for k in args.caps.split(",")]
    got: dict = {(c, k, w): [] for c, k in cases for w in checkouts}
    kept: dict = {}
    for _ in range(args.rounds):
        for c, k in cases:
            for w, path in checkouts.items():
                r = _measure(path, c, k, args.spans)
                got[c, k, w].append(r["cpu_s"])
                kept[c, k, w] = (r["kept"], r["traces"])
    print(f"{args.spans:,} spans; CPU s of the intake, median of {args.rounds} rounds "
          f"(interleaved); base = {args.baseline}")
    print(f"{'case':10} {'cap':>6} {'base s':>8} {'this s':>8} {'this/base':>9}  "
          "kept spans/traces base | this")
    for c, k in cases:
        b, t = (statistics.median(got[c, k, w]) for w in ("base", "this"))
        print(f"{c:10} {k:>6} {b:8.3f} {t:8.3f} {t / b:9.2f}  "
              f"{kept[c, k, 'base']} | {kept[c, k, 'this']}")


if __name__ == "__main__":
    main()
