"""Where `full()` recording costs on the toolkit model (`bench_toolkit.run_happysim`:
Client -> LoadBalancer -> 4 Servers): instructions per call (callgrind) under
`disabled()`, `full()` and `full()` with one part of the recording taken out.

    python benchmarks/bench_toolkit_record_cost.py [--repo DIR] [--variants full,no-log]

Each variant runs under ``valgrind --tool=callgrind`` with 1000 and 4000 calls in fresh
processes (``PYTHONHASHSEED=0``, ASLR off, gc disabled during the run, one OpenBLAS
thread, ``os._exit`` at the end); the difference of the totals over 3000 is the cost
of one call. The ablations are measuring devices, not configurations: "no-log" drops
the processed-event log, "no-traces" is ``full().replace(traces=False)``, "no-hop"
records no hop parents at the servers, "no-client" / "no-lb" make that component
record nothing on its hot path, "flush-discarded" empties the stations' fact lists at
each flush instead of deriving series and spans from them.
"""

from __future__ import annotations

import argparse
import os
import sys

from _callgrind import callgrind_total  # (benchmarks/ is on sys.path when run as a script)

HERE = os.path.dirname(os.path.abspath(__file__))

HEAD = """
import gc, os, sys
sys.path.insert(0, {bench!r})
from bench_toolkit import run_happysim
from happysimulator.observability import ObservabilityConfig as C
from happysimulator.observability import auto_instrument as ai
from happysim_rx.stores import events as es
variant = "full"
"""
NO_HOP = """
from happysimulator.observability import queue_instrument as qi
_init = qi.QueueInstrumentation.__init__
def _no_hop(self, *a, **k):
    _init(self, *a, **k)
    self.arriving = self.hops = None
qi.QueueInstrumentation.__init__ = _no_hop
"""
QUIET = """
from happysimulator.components.fast_recording import FastRecording
{cls}.{attr} = lambda self, *a: FastRecording(self._sim, False)
"""
VARIANTS = {
    "disabled": "variant = 'disabled'\n",
    "full": "",
    "no-log": "es.EventStore.raw_sink = lambda self, convert: None\n",
    "no-traces": "_f = C.full\nC.full = classmethod(lambda cls: _f().replace(traces=False))\n",
    "no-hop": NO_HOP,
    "no-client": "from happysimulator.components.client.client import RetryingClient\n"
                 + QUIET.format(cls="RetryingClient", attr="_resolve_fast"),
    "no-lb": "import happysimulator.components.load_balancer.load_balancer as lbm\n"
             "from happysimulator.components.fast_recording import FastRecording\n"
             "lbm.resolve = lambda self, *a: FastRecording(self._sim, False)\n",
    "flush-discarded": "ai.Recorder.flush = lambda self: "
                       "[v.clear() for i in self.instrumentations for v in i.lists]\n",
}
TAIL = """
gc.disable()
run_happysim(int(sys.argv[1]), 42, variant)
os._exit(0)
"""


def instructions(repo: str, variant: str, calls: int) -> int:
    code = HEAD.format(bench=HERE) + VARIANTS[variant] + TAIL
    return callgrind_total(repo, code, [str(calls)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", default=os.path.dirname(HERE))
    ap.add_argument("--variants", default=",".join(VARIANTS))
    args = ap.parse_args(argv)
    got = {}
    for v in args.variants.split(","):
        if v not in VARIANTS:
            ap.error(f"unknown variant {v!r}; choose from {', '.join(VARIANTS)}")
        got[v] = (instructions(args.repo, v, 4000) - instructions(args.repo, v, 1000)) / 3000
        print(f"{v:18} {got[v]:>10,.0f} instructions per call", flush=True)
    if "full" in got:
        for v, n in got.items():
            if v != "full":
                print(f"full - {v:18} {got['full'] - n:>8,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
