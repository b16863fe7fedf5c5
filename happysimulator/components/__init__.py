"""Standard components: queues, queued resources, servers, sinks."""

from happysimulator.components.common import Counter, LatencyTracker, Sink
from happysimulator.components.queue import Queue
from happysimulator.components.queue_driver import QueueDriver
from happysimulator.components.queue_policy import (
    FIFOQueue,
    FIFOQueuePolicy,
    LIFOQueue,
    LIFOQueuePolicy,
    QueuePolicy,
)
from happysimulator.components.queued_resource import QueuedResource
from happysimulator.components.server import Server

__all__ = [
    "Counter",
    "FIFOQueue",
    "FIFOQueuePolicy",
    "LIFOQueue",
    "LIFOQueuePolicy",
    "LatencyTracker",
    "Queue",
    "QueueDriver",
    "QueuePolicy",
    "QueuedResource",
    "Server",
    "Sink",
]
