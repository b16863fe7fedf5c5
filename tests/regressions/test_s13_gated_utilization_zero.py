"""The ``utilization`` series of a resource with no fixed ``concurrency`` (gated by
``has_capacity()``: a `ShiftedServer`, an `InspectionStation` without ``concurrency=``,
a 0.2.5-style subclass) records 0.0 throughout, while the resource is busy. The series
is declared in the catalog as a "fraction", so ``utilization`` mean 0.0 / max 0.0 reads
as "idle" -- for a 3-worker desk that is 81 % busy (``in_flight`` mean 2.44, max 3).
(`QueuedResource.utilization`, the property, says None for these resources: "no fixed
number of servers to be a fraction of"; the series should agree, or use the capacity
the resource does have.)

Repro (session 13, rev5): ShiftedServer("D", ShiftSchedule([Shift(0, 1000, 3)]),
service_time=exp(1.0)); Poisson 2.4/s for 1000 s; ``ObservabilityConfig.full()``.
Observed: ``utilization`` mean 0.0, max 0.0; ``in_flight`` mean 2.439, max 3.
Expected: no utilization values (None: the property's answer), or in_flight / workers
on duty (mean ~0.81, max 1.0). Area: happysimulator/observability/queue_instrument.py
(``_utilization``: ``... else 0.0`` for an unlimited concurrency).
"""

from __future__ import annotations

import pytest

from happysimulator import ExponentialLatency, Simulation, Sink, Source
from happysimulator.components.industrial import Shift, ShiftedServer, ShiftSchedule
from happysimulator.observability import ObservabilityConfig


def test_a_busy_gated_resource_is_not_reported_idle() -> None:
    sink = Sink("S")
    desk = ShiftedServer("D", schedule=ShiftSchedule([Shift(0, 1000, 3)]),
                         service_time=ExponentialLatency(1.0), downstream=sink)
    src = Source.poisson(rate=2.4, target=desk, name="U", stop_after=1000.0)
    sim = Simulation(sources=[src], entities=[desk, sink], seed=1, end_time=1000.0,
                     observability=ObservabilityConfig.full())
    sim.run()

    def q(name: str, agg: str) -> float | None:
        return (sim.query.metrics(name).from_entity("D").between(0, 1000)
                .aggregate(agg).execute().scalar)

    busy = q("in_flight", "mean")
    assert busy is not None and busy > 2.0
    util = q("utilization", "mean")
    assert util is None or util == pytest.approx(busy / 3, rel=1e-6), (util, busy)
