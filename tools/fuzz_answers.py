"""Run the differential fuzzer for N minutes and report what disagrees with the oracle.

    python tools/fuzz_answers.py --minutes 30 [--seed 1] [--shrink-s 60]

Prints the cases generated, the mismatches by class (issue-19 items and the findings of
tests/oracle/FINDINGS.md by their number; anything else by its raw class) and, for each
class, a minimal repro: the smallest failing case found, shrunk (queries, schedule
actions, model features dropped while the class still shows) within ``--shrink-s``
seconds. The library under test is whatever ``happysimulator`` resolves
to: to hold another checkout against this oracle, put it first on PYTHONPATH (this
repository's tests/oracle is found after it).
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import sys
import time
import traceback

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.append(_ROOT)  # after PYTHONPATH: the library under test may be elsewhere

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from tests.oracle.harness import Case, Mismatch, run_case  # noqa: E402
from tests.oracle.known_defects import issue_item  # noqa: E402
from tests.oracle.strategies import cases  # noqa: E402

print = functools.partial(print, flush=True)  # (progress shows in a redirected log)


class _Stop(BaseException):
    """Time is up (a BaseException: hypothesis neither shrinks nor reports it)."""


def _classes(m: Mismatch) -> list[str]:
    return issue_item(m) or [f"new:{m.cls}"]


def _run(case: Case) -> list[Mismatch]:
    try:
        return run_case(case)
    except Exception as exc:  # noqa: BLE001 - a harness failure is reported, not fatal
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return [Mismatch("harness", detail[:300])]


def explore(minutes: float, seed_value: int) -> tuple[int, collections.Counter, dict]:
    deadline = time.monotonic() + minutes * 60
    counts: collections.Counter = collections.Counter()
    smallest: dict[str, tuple[int, Case, Mismatch]] = {}
    n = 0

    @seed(seed_value)
    @settings(max_examples=10**9, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(cases())
    def body(case: Case) -> None:
        nonlocal n
        if time.monotonic() > deadline:
            raise _Stop
        n += 1
        for m in _run(case):
            for c in _classes(m):
                counts[c] += 1
                size = len(case.describe())
                if c not in smallest or size < smallest[c][0]:
                    smallest[c] = (size, case, m)

    try:
        body()
    except _Stop:
        pass
    return n, counts, smallest


def minimize(case: Case, cls: str, budget_s: float) -> Case:
    """Greedy, domain-aware shrinking: drop queries, schedule actions and hostile calls,
    switch model features off and make it smaller, while `cls` still shows."""
    from dataclasses import replace

    deadline = time.monotonic() + budget_s

    def fails(c: Case) -> bool:
        return any(cls in _classes(m) for m in _run(c))

    def candidates(c: Case) -> list[Case]:
        out: list[Case] = []
        for i in range(len(c.queries)):
            out.append(replace(c, queries=(c.queries[i],)))
        for i in range(len(c.queries)):
            out.append(replace(c, queries=c.queries[:i] + c.queries[i + 1:]))
        for i in range(len(c.schedule)):
            out.append(replace(c, schedule=c.schedule[:i] + c.schedule[i + 1:]))
        for i in range(len(c.hostile)):
            out.append(replace(c, hostile=c.hostile[:i] + c.hostile[i + 1:]))
        if c.live is not None:
            out.append(replace(c, live=None))
        if c.interface != "python":
            out.append(replace(c, interface="python"))
        if c.budget != 16_000:
            out.append(replace(c, budget=16_000))
        m = c.model
        for field, plain in (("router", False), ("worker", False), ("probe", False),
                             ("cancels", ()), ("raise_at", None), ("start_time", 0.0),
                             ("queue_capacity", None), ("concurrency", 1), ("seed", 0),
                             ("arrivals", "constant"), ("service", "const")):
            if getattr(m, field) != plain:
                out.append(replace(c, model=replace(m, **{field: plain})))
        if m.limit > 1:
            out.append(replace(c, model=replace(m, limit=max(1, m.limit // 2))))
            out.append(replace(c, model=replace(m, limit=m.limit - 1)))
        return out

    changed = True
    while changed and time.monotonic() < deadline:
        changed = False
        for cand in candidates(case):
            if time.monotonic() > deadline:
                break
            if fails(cand):
                case, changed = cand, True
                break
    return case


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shrink-s", type=float, default=None,
                    help="seconds to shrink each class (default: 10%% of the run / classes)")
    args = ap.parse_args(argv)
    if not args.minutes > 0:
        ap.error("--minutes must be positive")
    import happysimulator

    print(f"library under test: {os.path.dirname(happysimulator.__file__)}")
    t0 = time.monotonic()
    n, counts, smallest = explore(args.minutes * 0.85, args.seed)
    print(f"cases generated: {n} in {time.monotonic() - t0:.0f} s")
    total = sum(counts.values())
    print(f"mismatches: {total} in {len(counts)} classes")
    for cls, k in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {k:7d}  {cls}")
    if not counts:
        return 0
    left = args.minutes * 60 - (time.monotonic() - t0)
    per = args.shrink_s if args.shrink_s is not None else max(5.0, left / len(counts))
    print("\nminimal repro per class:")
    for cls in sorted(counts):
        case = minimize(smallest[cls][1], cls, per)
        ms = [m for m in _run(case) if cls in _classes(m)]
        m = ms[0] if ms else smallest[cls][2]
        print(f"\n[{cls}] {m.detail[:300]}")
        print(f"  query: {m.query}")
        print(f"  {case.describe()}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
