"""Partitioned models: the declarations of happysim 0.2.5's partitioned execution.

`SimulationPartition` (a named group of entities and sources), `PartitionLink` (the
entities of one partition may send to another's, with at least ``min_latency``) and
`validate_partitions`, which checks a partitioning before it is used: each entity in one
partition, references across partitions only along declared links, a synchronization
window no longer than the shortest link latency; and the event router of a partition
(``make_event_router``). Running partitions on threads (``ParallelSimulation``) is not
provided: for independent replications use ``happysimulator.experiments.replicate``.
"""

from happysimulator.parallel.link import PartitionLink
from happysimulator.parallel.partition import SimulationPartition
from happysimulator.parallel.routing import make_event_router
from happysimulator.parallel.validation import build_entity_sets, validate_partitions

__all__ = ["PartitionLink", "SimulationPartition", "build_entity_sets", "make_event_router",
           "validate_partitions"]
