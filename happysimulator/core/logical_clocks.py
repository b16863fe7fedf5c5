"""Logical clocks for models of distributed systems: Lamport, vector and hybrid (HLC).

These are plain value objects a model's entities carry; the engine does not drive them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from happysimulator.core.temporal import Instant

if TYPE_CHECKING:
    from happysimulator.core.node_clock import NodeClock


class LamportClock:
    """A scalar counter: ``tick`` on local events, ``send`` stamps, ``receive`` merges."""

    __slots__ = ("_time",)

    def __init__(self, initial: int = 0) -> None:
        self._time = int(initial)

    @property
    def time(self) -> int:
        return self._time

    def tick(self) -> None:
        self._time += 1

    def send(self) -> int:
        """Advance for a send and return the timestamp to put on the message."""
        self._time += 1
        return self._time

    def receive(self, remote_ts: int) -> None:
        """Merge a received timestamp: ``max(local, remote) + 1``."""
        self._time = max(self._time, int(remote_ts)) + 1

    def __repr__(self) -> str:
        return f"LamportClock(time={self._time})"


class VectorClock:
    """One counter per node; compares events by causality (happened-before)."""

    __slots__ = ("_node_id", "_v")

    def __init__(self, node_id: str, node_ids: list[str]) -> None:
        self._node_id = node_id
        self._v: dict[str, int] = {n: 0 for n in node_ids}
        self._v.setdefault(node_id, 0)

    @property
    def node_id(self) -> str:
        return self._node_id

    def tick(self) -> None:
        self._v[self._node_id] += 1

    def send(self) -> dict[str, int]:
        """Advance for a send; returns a copy of the vector to put on the message."""
        self.tick()
        return dict(self._v)

    def receive(self, remote: dict[str, int]) -> None:
        """Element-wise max with ``remote`` (unknown nodes are adopted), then tick."""
        v = self._v
        for node, count in remote.items():
            if count > v.get(node, 0):
                v[node] = count
            else:
                v.setdefault(node, 0)
        self.tick()

    def snapshot(self) -> dict[str, int]:
        return dict(self._v)

    def happened_before(self, other: VectorClock) -> bool:
        """True if this clock's state causally precedes ``other``'s (<= everywhere, < once)."""
        mine, theirs = self._v, other._v
        strictly = False
        for node in mine.keys() | theirs.keys():
            a, b = mine.get(node, 0), theirs.get(node, 0)
            if a > b:
                return False
            if a < b:
                strictly = True
        return strictly

    def is_concurrent(self, other: VectorClock) -> bool:
        """Neither happened before the other."""
        return not self.happened_before(other) and not other.happened_before(self)

    def merge(self, other: VectorClock) -> VectorClock:
        """A new clock (this node's id) holding the element-wise max; no increment."""
        out = VectorClock(self._node_id, [])
        out._v = dict(self._v)
        for node, count in other._v.items():
            if count > out._v.get(node, 0):
                out._v[node] = count
            else:
                out._v.setdefault(node, 0)
        return out

    def __repr__(self) -> str:
        return f"VectorClock({self._node_id!r}, {self._v!r})"


@dataclass(frozen=True, order=True)
class HLCTimestamp:
    """A hybrid logical timestamp, totally ordered by (physical, logical, node id)."""

    physical_ns: int
    logical: int
    node_id: str

    def to_dict(self) -> dict:
        return {"physical_ns": self.physical_ns, "logical": self.logical,
                "node_id": self.node_id}

    @classmethod
    def from_dict(cls, d: dict) -> HLCTimestamp:
        return cls(physical_ns=int(d["physical_ns"]), logical=int(d["logical"]),
                   node_id=str(d["node_id"]))


class HybridLogicalClock:
    """Kulkarni et al.'s HLC: physical time when it advances, a logical counter otherwise.

    Physical time comes from exactly one of ``physical_clock`` (a ``NodeClock``, so skew
    and drift apply) or ``wall_time`` (a callable returning an ``Instant``).
    """

    def __init__(
        self,
        node_id: str,
        physical_clock: NodeClock | None = None,
        wall_time: Callable[[], Instant] | None = None,
    ) -> None:
        if physical_clock is None and wall_time is None:
            raise ValueError("Provide either physical_clock or wall_time")
        if physical_clock is not None and wall_time is not None:
            raise ValueError("Provide physical_clock or wall_time, not both")
        self._node_id = node_id
        if physical_clock is not None:
            self._read: Callable[[], Instant] = lambda: physical_clock.now
        else:
            self._read = wall_time  # type: ignore[assignment]
        self._last = HLCTimestamp(0, 0, node_id)

    @property
    def node_id(self) -> str:
        return self._node_id

    def _physical_ns(self) -> int:
        return int(self._read().nanoseconds)

    def now(self) -> HLCTimestamp:
        """Timestamp a local (or send) event."""
        pt = self._physical_ns()
        last = self._last
        if pt > last.physical_ns:
            ts = HLCTimestamp(pt, 0, self._node_id)
        else:
            ts = HLCTimestamp(last.physical_ns, last.logical + 1, self._node_id)
        self._last = ts
        return ts

    def send(self) -> HLCTimestamp:
        return self.now()

    def receive(self, remote: HLCTimestamp) -> None:
        """Merge a received timestamp."""
        pt = self._physical_ns()
        last = self._last
        top = max(pt, last.physical_ns, remote.physical_ns)
        if top == last.physical_ns == remote.physical_ns:
            logical = max(last.logical, remote.logical) + 1
        elif top == last.physical_ns:
            logical = last.logical + 1
        elif top == remote.physical_ns:
            logical = remote.logical + 1
        else:
            logical = 0
        self._last = HLCTimestamp(top, logical, self._node_id)

    def __repr__(self) -> str:
        return f"HybridLogicalClock({self._node_id!r}, last={self._last!r})"


__all__ = ["HLCTimestamp", "HybridLogicalClock", "LamportClock", "VectorClock"]
