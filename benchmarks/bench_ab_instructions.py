"""Instructions per call of the toolkit model or per customer of the server model, for
several checkouts in interleaved rounds (callgrind; PYTHONHASHSEED=0, ASLR off via
setarch -R, gc disabled during the run, set OPENBLAS_NUM_THREADS=1 in the environment:
with those, repeated runs of one checkout give the same count to +-1 instruction).

    ROUNDS=2 OPENBLAS_NUM_THREADS=1 \\
        python benchmarks/bench_ab_instructions.py DIR1,DIR2 full toolkit|server
"""

import os
import statistics
import sys

from _callgrind import callgrind_total  # (benchmarks/ is on sys.path when run as a script)

WORKER = """
import gc, sys
sys.path.insert(0, {bench!r})
n, variant, model = int(sys.argv[1]), sys.argv[2], sys.argv[3]
if model == "toolkit":
    from bench_toolkit import run_happysim
    gc.disable()
    run_happysim(n, 42, variant)
else:
    from bench_observers import _config, build_server_model
    sim, _ = build_server_model(n, _config(variant))
    gc.disable()
    sim.run()
os._exit(0)
"""


def total(repo, n, variant):
    bench = os.path.dirname(os.path.abspath(__file__))
    return callgrind_total(repo, "import os\n" + WORKER.format(bench=bench), [str(n), variant, MODEL])


repos = sys.argv[1].split(",")
ROUNDS = int(os.environ.get("ROUNDS", "1"))
variant = sys.argv[2] if len(sys.argv) > 2 else "full"
MODEL = sys.argv[3] if len(sys.argv) > 3 else "toolkit"
small, large = (1000, 4000) if MODEL == "toolkit" else (4000, 24000)

runs = {r: [] for r in repos}
for k in range(ROUNDS):
    for r in repos:  # (interleaved)
        runs[r].append((total(r, large, variant) - total(r, small, variant)) / (large - small))
        print(f"round {k} {r:24s} {MODEL} {variant} {runs[r][-1]:10,.0f} per call", flush=True)
med = {r: statistics.median(v) for r, v in runs.items()}
for r in repos:
    print(f"median {r:24s} {MODEL} {variant} {med[r]:10,.0f} per call "
          f"(runs {', '.join(f'{x:,.0f}' for x in runs[r])})")
for r in repos[1:]:
    print(f"{r} / {repos[0]}: {med[r] / med[repos[0]]:.4f}")
