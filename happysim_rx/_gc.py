"""Bulk building of many small objects without the cyclic GC rescanning them all.

CPython runs a generation-0 collection every 700 net allocations of tracked objects;
while a store builds 10^5 spans or rows, each collection (and the older generations it
triggers) rescans the growing heap. A higher generation-0 threshold during the build took the
first read of 300,000 spans from 0.97 s to 0.39 s (0.34 s with GC off entirely);
nothing is disabled and the caller's thresholds are restored.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_GEN0 = 50_000


@contextmanager
def bulk_allocation() -> Iterator[None]:
    """Raise the generation-0 threshold for the duration of a bulk build."""
    thresholds = gc.get_threshold()
    if thresholds[0] and thresholds[0] < _GEN0:
        gc.set_threshold(_GEN0, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
