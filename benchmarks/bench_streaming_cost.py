"""Where `streaming()` recording costs: instructions per customer (callgrind) of the M/M/1
server model (`bench_observers.build_server_model`) under `disabled()`, `full()`,
`streaming()` and `streaming()` with one part taken out (ablations: measuring devices,
not configurations).

    python benchmarks/bench_streaming_cost.py [--baseline DIR] [--variants a,b] [--jobs 2]

Method as `bench_record_cost.py`: two runs per variant (``--small``, ``--large``
customers) under ``valgrind --tool=callgrind``, ``PYTHONHASHSEED=0``, ``os._exit`` at
the end; the difference of the totals over the difference of customers is the steady
cost of one customer. The run ends without a query, so a streaming store's last
summarizing (done by the first query) is not counted; ``streaming+query`` adds one
metric query at the end (it summarizes everything pending).
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ThreadPoolExecutor

from _callgrind import callgrind_total  # (benchmarks/ is on sys.path when run as a script)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

HEAD = """
import os, sys
sys.path[:0] = [{bench!r}]
n = int(sys.argv[1])
from bench_observers import build_server_model
from happysimulator.observability import ObservabilityConfig as C
from happysimulator.observability import auto_instrument as ai
from happysim_rx.stores import events as es
from happysim_rx.stores import streaming as st
config = C.streaming()
"""
FLUSH_DISCARDED = ("ai.Recorder.flush = lambda self: "
                   "[v.clear() for i in self.instrumentations for v in i.lists]\n")
VARIANTS = {
    "disabled": "config = C.disabled()\n",
    "full": "config = C.full()\n",
    "streaming": "",
    "streaming+query": "QUERY = True\n",
    "s-store-discarded": ("st.StreamingSeries.extend = lambda self, t, v: None\n"
                          "st.StreamingSeries.append = lambda self, t, v, tags=None: None\n"),
    "s-no-summarize": "st.StreamingSeries._summarize = lambda self, t, v, rest: None\n",
    "s-no-log": "es.EventStore.raw_sink = lambda self, convert: None\n",
    "s-no-traces": "config = C.streaming().replace(traces=False)\n",
    "s-flush-discarded": FLUSH_DISCARDED,
}
TAIL = """
sim, _ = build_server_model(n, config)
assert sim.run().stop_reason == "complete"
if globals().get("QUERY"):
    sim.query.metrics("*").group_by("entity", "name").aggregate("p99").execute()
os._exit(0)
"""


def instructions(repo: str, variant: str, customers: int) -> int:
    code = HEAD.format(bench=os.path.join(repo, "benchmarks")) + VARIANTS[variant] + TAIL
    return callgrind_total(repo, code, [str(customers)])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", metavar="DIR", help="a checkout measured as 'before'")
    p.add_argument("--small", type=int, default=4000)
    p.add_argument("--large", type=int, default=24000)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--baseline-variants", default="streaming,streaming+query",
                   help="the variants also measured in --baseline")
    p.add_argument("--variants", default=",".join(VARIANTS),
                   help=f"comma list (default: all): {', '.join(VARIANTS)}")
    args = p.parse_args(argv)
    names = args.variants.split(",")
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        p.error(f"unknown variant(s) {unknown}; valid: {sorted(VARIANTS)}")
    repos = [("after", REPO)] + ([("before", args.baseline)] if args.baseline else [])
    base_names = args.baseline_variants.split(",")
    jobs = [(tag, repo, v, n) for v in names for tag, repo in repos
            for n in (args.small, args.large) if tag == "after" or v in base_names]
    with ThreadPoolExecutor(args.jobs) as pool:
        counts = dict(zip(jobs, pool.map(lambda j: instructions(j[1], j[2], j[3]), jobs), strict=True))
    print(f"instructions per customer (callgrind, {args.small} -> {args.large} customers, "
          "server model)")
    res: dict[tuple[str, str], float] = {}
    for v in names:
        for tag, repo in repos:
            if (tag, repo, v, args.large) not in counts:
                continue
            res[tag, v] = (counts[tag, repo, v, args.large] - counts[tag, repo, v, args.small]
                           ) / (args.large - args.small)
            ratio = ""
            if (tag, "disabled") in res:
                ratio = f"  {res[tag, v] / res[tag, 'disabled']:.3f}x disabled"
            print(f"  {tag:<7} {v:<20} {res[tag, v]:>9,.0f}{ratio}", flush=True)
    for tag, _ in repos:
        def diff(label: str, a: str, b: str, tag: str = tag) -> None:
            if (tag, a) in res and (tag, b) in res:
                print(f"  {tag:<7} {label:<48} {res[tag, a] - res[tag, b]:>8,.0f}")
        diff("streaming - full", "streaming", "full")
        diff("streaming store (ring + summarizing)", "streaming", "s-store-discarded")
        diff("summarizing during the run", "streaming", "s-no-summarize")
        diff("final query's summarizing (per customer)", "streaming+query", "streaming")
        diff("event log", "streaming", "s-no-log")
        diff("traces (facts, flush, store)", "streaming", "s-no-traces")
        diff("flush (series, spans from facts; stores)", "streaming", "s-flush-discarded")
        diff("facts (s-flush-discarded - disabled)", "s-flush-discarded", "disabled")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
