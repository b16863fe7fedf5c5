"""Run the differential fuzzer for N minutes and report what disagrees with the oracle.

    python tools/fuzz_answers.py --minutes 30 [--seed 1] [--shrink-s 60]

Prints the cases generated, the mismatches by class (issue-19 items and the findings of
tests/oracle/FINDINGS.md by their number; anything else by its raw class) and, for each
class, a minimal repro: the smallest failing case hypothesis could shrink to within
``--shrink-s`` seconds. The library under test is whatever ``happysimulator`` resolves
to: to hold another checkout against this oracle, put it first on PYTHONPATH (this
repository's tests/oracle is found after it).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
import traceback
from typing import Any

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.append(_ROOT)  # after PYTHONPATH: the library under test may be elsewhere

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from tests.oracle.harness import Case, Mismatch, run_case  # noqa: E402
from tests.oracle.known_defects import issue_item  # noqa: E402
from tests.oracle.strategies import cases  # noqa: E402


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


def shrink(cls: str, budget_s: float, seed_value: int) -> tuple[Case, Mismatch] | None:
    """The smallest case showing `cls` that hypothesis finds and shrinks within budget."""
    deadline = time.monotonic() + budget_s
    best: list[Any] = []

    @seed(seed_value)
    @settings(max_examples=2000, deadline=None, database=None,
              phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    @given(cases())
    def body(case: Case) -> None:
        if time.monotonic() > deadline:
            raise _Stop
        for m in _run(case):
            if cls in _classes(m):
                size = len(case.describe())
                if not best or size < best[0]:
                    best[:] = [size, case, m]
                raise AssertionError(cls)

    try:
        body()
    except (_Stop, AssertionError):
        pass
    except Exception:  # noqa: BLE001 - hypothesis' own complaints end the search
        pass
    return (best[1], best[2]) if best else None


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
        found = shrink(cls, per, args.seed)
        case, m = (found if found is not None else smallest[cls][1:])
        print(f"\n[{cls}] {m.detail[:300]}")
        print(f"  query: {m.query}")
        print(f"  {case.describe()}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
