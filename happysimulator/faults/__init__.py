"""Fault injection: crash, pause, slow or cut parts of a model on a schedule.

    schedule = FaultSchedule()
    schedule.add(CrashNode("backend-2", at=30.0, restart_at=45.0))
    schedule.add(InjectLatency("client", "server", extra_ms=200, start=10, end=20))
    sim = Simulation(..., fault_schedule=schedule)

The schedule records ``fault.start`` / ``fault.end`` events and an ``active_faults``
gauge, so a query or a breakpoint can line up what went wrong with when.
"""

from happysimulator.faults.fault import Fault, FaultContext, FaultHandle, FaultStats
from happysimulator.faults.network_faults import (
    InjectLatency,
    InjectPacketLoss,
    NetworkPartition,
    RandomPartition,
)
from happysimulator.faults.node_faults import CrashNode, PauseNode
from happysimulator.faults.resource_faults import ReduceCapacity
from happysimulator.faults.schedule import FaultSchedule

__all__ = [
    "CrashNode",
    "Fault",
    "FaultContext",
    "FaultHandle",
    "FaultSchedule",
    "FaultStats",
    "InjectLatency",
    "InjectPacketLoss",
    "NetworkPartition",
    "PauseNode",
    "RandomPartition",
    "ReduceCapacity",
]
