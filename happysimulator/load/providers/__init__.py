"""Arrival-time providers (how long until a source's next arrival) and event providers."""

from happysimulator.load.providers.arrivals import (
    ArrivalTimeProvider,
    ConstantArrivalTimeProvider,
    PoissonArrivalTimeProvider,
)
from happysimulator.load.providers.distributed_field import DistributedFieldProvider

__all__ = [
    "ArrivalTimeProvider",
    "ConstantArrivalTimeProvider",
    "DistributedFieldProvider",
    "PoissonArrivalTimeProvider",
]
