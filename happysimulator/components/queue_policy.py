"""Queue disciplines: ``push(item)``, ``pop()``, ``peek()``, ``len()``."""

from __future__ import annotations

from collections import deque
from typing import Any


class QueuePolicy:
    """Interface of a queue discipline (see ``FIFOQueue`` / ``LIFOQueue``)."""

    def push(self, item: Any) -> None:
        raise NotImplementedError

    def pop(self) -> Any:
        raise NotImplementedError

    def peek(self) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def is_empty(self) -> bool:
        """True when nothing waits (happysim 0.2.5's name for ``len(q) == 0``)."""
        return len(self) == 0


def _capacity(capacity: float | None) -> int | None:
    if capacity is None or capacity == float("inf"):
        return None
    if capacity != int(capacity) or capacity < 0:
        raise ValueError(f"queue capacity must be an int >= 0 or None/inf, got {capacity!r}")
    return int(capacity)


class FIFOQueue(deque, QueuePolicy):
    """First in, first out. ``capacity`` (happysim 0.2.5 style) bounds the waiting line
    of the resource or queue that uses the policy: arrivals beyond it are dropped."""

    def __init__(self, capacity: float | None = None) -> None:
        super().__init__()
        self.capacity = _capacity(capacity)

    push = deque.append
    pop = deque.popleft

    def peek(self) -> Any:
        return self[0]


class LIFOQueue(list, QueuePolicy):
    """Last in, first out (``capacity`` as for ``FIFOQueue``)."""

    def __init__(self, capacity: float | None = None) -> None:
        super().__init__()
        self.capacity = _capacity(capacity)

    push = list.append
    pop = list.pop

    def peek(self) -> Any:
        return self[-1]


FIFOQueuePolicy = FIFOQueue
LIFOQueuePolicy = LIFOQueue


def make_policy(policy: Any) -> Any:
    """An instance from a policy instance, a policy class, ``"fifo"``/``"lifo"`` or None."""
    if policy is None:
        return FIFOQueue()
    if isinstance(policy, str):
        key = policy.lower()
        if key == "fifo":
            return FIFOQueue()
        if key == "lifo":
            return LIFOQueue()
        raise ValueError(f"unknown queue policy {policy!r}; valid: 'fifo', 'lifo'")
    if isinstance(policy, type):
        policy = policy()
    for m in ("push", "pop", "__len__"):
        if not hasattr(policy, m):
            raise TypeError(f"queue policy {policy!r} lacks {m}()")
    return policy


def __getattr__(name: str) -> Any:
    # happysim 0.2.5 defines these here; they live with the other active policies
    # (imported on first use: that package imports this module)
    if name in ("PriorityQueue", "Prioritized"):
        from happysimulator.components import queue_policies

        return getattr(queue_policies, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [  # (+ PriorityQueue and Prioritized, see __getattr__)
    "QueuePolicy",
    "FIFOQueue",
    "LIFOQueue",
    "FIFOQueuePolicy",
    "LIFOQueuePolicy",
    "make_policy",
]
