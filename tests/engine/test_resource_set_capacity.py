"""`Resource.set_capacity` (what a `ReduceCapacity` fault calls): held grants stay held,
a larger capacity serves waiters in order, the fault restores the capacity."""

from __future__ import annotations

import pytest

from happysimulator import Instant, Simulation
from happysimulator.components.resource import Resource
from happysimulator.faults import FaultSchedule, ReduceCapacity


def test_reduced_capacity_is_over_committed_until_released() -> None:
    r = Resource("cpu", capacity=8)
    g = r.try_acquire(6)
    r.set_capacity(4)
    assert (r.capacity, r.available, r.utilization) == (4, 0, 1.5)
    assert r.try_acquire(1) is None  # 6 held of 4
    g.release()
    assert (r.available, r.utilization) == (4, 0.0)


def test_a_larger_capacity_serves_waiters_in_order() -> None:
    r = Resource("cpu", capacity=2)
    held = r.try_acquire(2)
    first, second = r.acquire(2), r.acquire(1)
    assert not first.is_resolved and not second.is_resolved
    r.set_capacity(3)  # 1 free: the head (2) still waits; strict order keeps 1 waiting
    assert not first.is_resolved and not second.is_resolved
    r.set_capacity(5)
    assert first.is_resolved and second.is_resolved
    assert r.available == 0 and held is not None


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "4", True])
def test_bad_capacity_refused(bad) -> None:
    r = Resource("cpu", capacity=2)
    with pytest.raises(ValueError, match="capacity must be"):
        r.set_capacity(bad)
    assert r.capacity == 2


def test_reduce_capacity_fault_restores_it() -> None:
    resource = Resource("cpu", capacity=8)
    seen = []
    schedule = FaultSchedule()
    schedule.add(ReduceCapacity("cpu", factor=0.5, start=5.0, end=15.0))
    sim = Simulation(end_time=Instant.from_seconds(20.0), sources=[], entities=[resource],
                     fault_schedule=schedule)
    sim.control.run_until(10.0)
    seen.append(resource.capacity)
    sim.run()
    assert seen == [4] and resource.capacity == 8


def test_capacity_zero_while_held_records_utilization_one() -> None:
    from happysimulator.observability import ObservabilityConfig

    r = Resource("cpu", capacity=2)
    sim = Simulation(end_time=Instant.from_seconds(1.0), sources=[], entities=[r],
                     observability=ObservabilityConfig.full())
    g = r.try_acquire(1)
    r.set_capacity(0)
    assert (r.available, r.utilization) == (0, 1.0)
    g.release()
    assert r.utilization == 0.0
    sim.run()
