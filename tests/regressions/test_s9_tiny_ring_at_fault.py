"""A bounded (`streaming()`) store's raw rows must not depend on when the run paused.

Found by the final 30-minute fuzz of session 9 (2 of 21,264 cases, one class; present
at 2c315f4 too): with tiny raw rings (8 samples), a model fault stops
the run mid-way. Uninterrupted, the Server's ``queue_depth`` answers 9 raw rows from
t=0.25 (the newest samples wait, untrimmed, in the store's pending batch); paused at
every request, it answers 8 rows from just after 0.25 (each pause settled the batch and
the ring dropped the oldest). Both state their ranges truly, but a paused run no longer
equals the uninterrupted one. Fixed: a reader is given the newest N samples of the
ring and the held-back point together (`StreamingSeries.ring`), whenever that point
enters the ring."""

from __future__ import annotations

import pytest

from happysimulator.observability import Breakpoint
from tests.oracle.harness import _config
from tests.oracle.models import ModelSpec, build

SPEC = ModelSpec(seed=0, arrivals="constant", rate=8.0, limit=22, start_time=0.0,
                 concurrency=1, service="const", service_mean=0.5, queue_capacity=None,
                 router=False, worker=True, worker_service=0.0, cancels=(), raise_at=3,
                 probe=False)


def _rows_at_the_fault(pause_at_each_request: bool) -> list[tuple[float, float]]:
    sim = build(SPEC, _config("tiny"))
    if pause_at_each_request:
        sim.control.add_breakpoint(Breakpoint(event_type="Request"))
    with pytest.raises(RuntimeError, match="model bug"):
        for _ in range(100):
            sim.run()
    rows = sim.query.metrics("queue_depth").from_entity("Server").execute().rows
    return [(r["time"], r["value"]) for r in rows]


def test_raw_rows_at_a_fault_do_not_depend_on_pauses():
    assert _rows_at_the_fault(True) == _rows_at_the_fault(False)
