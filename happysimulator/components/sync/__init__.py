"""Synchronization primitives for processes: `Mutex`, `Semaphore`, `RWLock`, `Barrier`,
`Condition`. A process ``yield from``s an acquire or wait and is parked (no events) until
its turn; each primitive records its contention (``waiters``, ``wait_time``, ...)."""

from happysimulator.components.sync.barrier import Barrier, BarrierStats
from happysimulator.components.sync.condition import Condition, ConditionStats
from happysimulator.components.sync.mutex import Mutex, MutexStats
from happysimulator.components.sync.rwlock import RWLock, RWLockStats
from happysimulator.components.sync.semaphore import Semaphore, SemaphoreStats

__all__ = [
    "Barrier",
    "BarrierStats",
    "Condition",
    "ConditionStats",
    "Mutex",
    "MutexStats",
    "RWLock",
    "RWLockStats",
    "Semaphore",
    "SemaphoreStats",
]
