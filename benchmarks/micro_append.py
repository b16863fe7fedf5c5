"""The recording primitive: ways to append a fact, in ns per append (timeit, best of 7).

Components append facts as ``instr.arrived.append(now)`` (a call CPython specializes for
lists); this compares it with the alternatives the seam used before: calling a bound
``append`` saved in a slot, a call to a no-op builtin (``id``), and a Python method.

    .venv/bin/python benchmarks/micro_append.py
"""

from __future__ import annotations

import sys
import timeit


class Instr:
    __slots__ = ("arrived", "saved_append", "noop")

    def __init__(self) -> None:
        self.arrived: list[int] = []
        self.saved_append = self.arrived.append
        self.noop = id

    def method(self, now: int) -> None:
        self.arrived.append(now)


def main() -> None:
    i = Instr()
    now = 10**12 + 5
    n = 1000
    cases = {
        "i.arrived.append(now)": "i.arrived.append(now)",
        "i.saved_append(now)": "i.saved_append(now)",
        "i.noop(now)  (discard)": "i.noop(now)",
        "i.method(now)": "i.method(now)",
    }
    loop = f"for _ in range({n}): {{}}\ni.arrived.clear()"
    empty = min(timeit.repeat(loop.format("pass"), globals=locals(), number=1000, repeat=7))
    print(f"Python {sys.version.split()[0]}: ns per append (loop overhead subtracted)")
    for label, stmt in cases.items():
        t = min(timeit.repeat(loop.format(stmt), globals=locals(), number=1000, repeat=7))
        print(f"  {label:<26} {(t - empty) / (n * 1000) * 1e9:6.1f}")


if __name__ == "__main__":
    main()
