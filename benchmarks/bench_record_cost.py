"""Where `full()` recording costs on the standard components: instructions per customer
(callgrind) of the M/M/1 server model (`bench_observers.build_server_model`) under
`disabled()`, `full()` and `full()` with one part of the recording taken out.

    python benchmarks/bench_record_cost.py [--baseline DIR] [--small 4000 --large 24000]
    ... --variants disabled,full,no-log          # a subset

Each variant runs under ``valgrind --tool=callgrind`` twice (``--small`` and ``--large``
customers) in fresh processes with ``PYTHONHASHSEED=0`` (dict and set layouts, hence the
counts, are then the same from run to run: +-100 instructions per customer) and ends
with ``os._exit`` (the interpreter's teardown, which frees the recorded objects, is not
counted). The difference of the two totals divided by the difference of customers is the
steady-state cost of one customer. The ablations are measuring devices, not
configurations: "no-log" drops the processed-event log, "flush-discarded" empties the
fact lists at each flush instead of deriving series and spans from them, "no-sink" /
"no-server" leave that entity uninstrumented (its facts and its flush). Subtracting
rows gives each part's cost (printed below the table).
"""

from __future__ import annotations

import argparse
import os

from _callgrind import callgrind_total  # (benchmarks/ is on sys.path when run as a script)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

HEAD = """
import os, sys
sys.path[:0] = [{bench!r}]
n = int(sys.argv[1])
from bench_observers import build_server_model
from happysimulator.observability import ObservabilityConfig as C
from happysimulator.observability import auto_instrument as ai, integration as ig
from happysim_rx.stores import events as es
config = C.full()
"""
FLUSH_DISCARDED = ("ai.Recorder.flush = lambda self: "
                   "[v.clear() for i in self.instrumentations for v in i.lists]\n")
SKIP = ("_o = ig.ObservabilityRuntime.instrument\n"
        "ig.ObservabilityRuntime.instrument = lambda self, e, i=None: "
        "False if type(e).__name__ == {name!r} else _o(self, e, i)\n")
VARIANTS = {
    "disabled": "config = C.disabled()\n",
    "full": "",
    "no-log": "es.EventStore.raw_sink = lambda self, convert: None\n",
    "no-traces": "config = C.full().replace(traces=False)\n",
    "flush-discarded": FLUSH_DISCARDED,
    "flush-discarded,no-traces": FLUSH_DISCARDED + "config = C.full().replace(traces=False)\n",
    "flush-discarded,no-sink": FLUSH_DISCARDED + SKIP.format(name="LatencyTracker"),
    "flush-discarded,no-server": FLUSH_DISCARDED + SKIP.format(name="Server"),
}
TAIL = """
sim, _ = build_server_model(n, config)
assert sim.run().stop_reason == "complete"
os._exit(0)
"""


def instructions(repo: str, variant: str, customers: int) -> int:
    """Total instructions of one run of `variant` with `customers` customers."""
    code = HEAD.format(bench=os.path.join(repo, "benchmarks")) + VARIANTS[variant] + TAIL
    return callgrind_total(repo, code, [str(customers)])


def per_customer(repo: str, variant: str, small: int, large: int) -> float:
    return (instructions(repo, variant, large) - instructions(repo, variant, small)) / (
        large - small)


def breakdown(n: dict[str, float]) -> list[tuple[str, float]]:
    """Each part's cost, from differences of the rows measured."""
    parts = []

    def diff(label: str, a: str, b: str) -> None:
        if a in n and b in n:
            parts.append((label, n[a] - n[b]))

    diff("all recording (full - disabled)", "full", "disabled")
    diff("processed-event log (full - no-log)", "full", "no-log")
    diff("flush: series and spans from the facts", "full", "flush-discarded")
    diff("traces, facts and flush (full - no-traces)", "full", "no-traces")
    diff("traces, facts only", "flush-discarded", "flush-discarded,no-traces")
    diff("Sink facts (latency, ids, checks)", "flush-discarded", "flush-discarded,no-sink")
    diff("Server facts (arrivals, completions, ids, checks)", "flush-discarded",
         "flush-discarded,no-server")
    return parts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", metavar="DIR", help="a checkout measured as 'before'")
    p.add_argument("--small", type=int, default=4000)
    p.add_argument("--large", type=int, default=24000)
    p.add_argument("--variants", default=",".join(VARIANTS),
                   help=f"comma list (default: all): {', '.join(VARIANTS)}")
    args = p.parse_args(argv)
    names = _split(args.variants)  # (a variant name may hold a comma)
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        p.error(f"unknown variant(s) {unknown}; valid: {sorted(VARIANTS)}")
    repos = [("after", REPO)] + ([("before", args.baseline)] if args.baseline else [])
    print(f"instructions per customer (callgrind, {args.small} -> {args.large} customers, "
          "server model)")
    results: dict[str, dict[str, float]] = {}
    for tag, repo in repos:
        results[tag] = {}
        for v in names:
            results[tag][v] = per_customer(repo, v, args.small, args.large)
            print(f"  {tag:<7} {v:<28} {results[tag][v]:>9,.0f}", flush=True)
    for tag, n in results.items():
        if "full" in n and "disabled" in n:
            print(f"{tag}: full / disabled = {n['full'] / n['disabled']:.3f}x")
        for label, cost in breakdown(n):
            print(f"  {tag:<7} {label:<52} {cost:>8,.0f}")
    return 0


def _split(spec: str) -> list[str]:
    """`spec` (comma-separated) as variant names, rejoining names that hold a comma."""
    out, parts = [], spec.split(",")
    i = 0
    while i < len(parts):
        for j in range(len(parts), i, -1):
            name = ",".join(parts[i:j])
            if name in VARIANTS:
                out.append(name)
                i = j
                break
        else:
            out.append(parts[i])
            i += 1
    return out


if __name__ == "__main__":
    raise SystemExit(main())
