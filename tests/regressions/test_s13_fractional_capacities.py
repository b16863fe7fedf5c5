"""Counts of workers, slots and items are silently accepted as fractions and then
rounded up in effect: ``Shift(0, 10, capacity=1.5)`` serves two jobs at once,
``PooledCycleResource(pool_size=1.5)`` runs two cycles at once, ``BatchProcessor(
batch_size=2.5)`` makes batches of 3. (``PreemptibleResource(capacity=1.5)`` and a
`QueuedResource`'s ``concurrency`` do refuse a fraction: the industrial components
disagree among themselves.)

Repro (session 13, rev5): ShiftedServer("D", ShiftSchedule([Shift(0, 10, 1.5)]),
service_time=1.0) with 4 jobs at t=1: completions observed [2, 2, 3, 3] (two at once);
PooledCycleResource("P", pool_size=1.5, cycle_time=1) with 4 items at t=1: [2, 2, 3, 3];
BatchProcessor(batch_size=2.5) with 6 items: 2 batches. Expected: a clear
``ValueError`` (or ``TypeError``) at construction naming the parameter and "int".
Area: happysimulator/components/industrial/shift_schedule.py (Shift.__post_init__),
pooled_cycle.py, batch_processor.py (__init__ checks compare only the sign).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from happysimulator import Sink
from happysimulator.components.industrial import (
    BatchProcessor,
    PooledCycleResource,
    Shift,
)

_BUILD: dict[str, Callable[[], Any]] = {
    "shift capacity": lambda: Shift(0.0, 10.0, 1.5),
    "pool_size": lambda: PooledCycleResource("P", pool_size=1.5, cycle_time=1.0,
                                             downstream=Sink("S")),
    "batch_size": lambda: BatchProcessor("B", downstream=Sink("S"), batch_size=2.5),
}


@pytest.mark.parametrize("what", sorted(_BUILD))
def test_a_fractional_count_is_refused(what: str) -> None:
    with pytest.raises((ValueError, TypeError), match="int"):
        _BUILD[what]()
