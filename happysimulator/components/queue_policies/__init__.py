"""Active queue policies and scheduling disciplines beyond FIFO/LIFO.

Each policy works standalone (``push``/``pop``/``peek``/``len``, ``stats``) and plugs into
a `Server`, `QueuedResource` or `Queue` as its ``policy`` / ``queue_policy``: the policy
then sees the request events, uses the simulation's clock and random stream, and every
request it refuses or discards is a drop of its owner (counted, traced) and a ``dropped``
count tagged ``reason`` on the entity ``"<owner>/queue"``::

    from happysimulator.components.queue_policies import CoDelQueue
    server = Server("api", service_time=0.01, queue_policy=CoDelQueue(0.005, 0.1))
    ...
    sim.query.metrics("dropped").from_entity("api/queue").where(reason="delay")
"""

from happysimulator.components.queue_policies._base import ActiveQueuePolicy, QueueLine
from happysimulator.components.queue_policies.adaptive_lifo import (
    AdaptiveLIFO,
    AdaptiveLIFOStats,
)
from happysimulator.components.queue_policies.codel import CoDelQueue, CoDelStats
from happysimulator.components.queue_policies.deadline_queue import (
    DeadlineQueue,
    DeadlineQueueStats,
)
from happysimulator.components.queue_policies.fair_queue import FairQueue, FairQueueStats
from happysimulator.components.queue_policies.priority_queue import Prioritized, PriorityQueue
from happysimulator.components.queue_policies.red import REDQueue, REDStats
from happysimulator.components.queue_policies.weighted_fair_queue import (
    WeightedFairQueue,
    WeightedFairQueueStats,
)

__all__ = [
    "ActiveQueuePolicy",
    "AdaptiveLIFO",
    "AdaptiveLIFOStats",
    "CoDelQueue",
    "CoDelStats",
    "DeadlineQueue",
    "DeadlineQueueStats",
    "FairQueue",
    "FairQueueStats",
    "Prioritized",
    "PriorityQueue",
    "QueueLine",
    "REDQueue",
    "REDStats",
    "WeightedFairQueue",
    "WeightedFairQueueStats",
]
