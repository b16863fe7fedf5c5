"""``PartitionLink``: a declared one-way channel between two partitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PartitionLink:
    """Entities of ``source_partition`` may send to ``dest_partition``; every message
    takes at least ``min_latency`` seconds (> 0: the lookahead that lets partitions run
    a window apart), drawn from ``latency`` if given, and is lost with probability
    ``packet_loss`` (in [0, 1))."""

    source_partition: str
    dest_partition: str
    min_latency: float
    latency: Any = None
    packet_loss: float = 0.0

    def __post_init__(self) -> None:
        if not self.min_latency > 0:
            raise ValueError(f"PartitionLink min_latency must be > 0 seconds, got "
                             f"{self.min_latency!r}")
        if not 0.0 <= self.packet_loss < 1.0:
            raise ValueError(f"PartitionLink packet_loss must be in [0, 1), got "
                             f"{self.packet_loss!r}")
        if self.source_partition == self.dest_partition:
            raise ValueError(f"PartitionLink source and dest must differ, got "
                             f"{self.source_partition!r} twice")

    @staticmethod
    def bidirectional(partition_a: str, partition_b: str, min_latency: float,
                      latency: Any = None,
                      packet_loss: float = 0.0) -> tuple[PartitionLink, PartitionLink]:
        """The links a -> b and b -> a, alike."""
        return (PartitionLink(partition_a, partition_b, min_latency, latency, packet_loss),
                PartitionLink(partition_b, partition_a, min_latency, latency, packet_loss))


__all__ = ["PartitionLink"]
