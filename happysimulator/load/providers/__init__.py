"""Arrival-time providers: how long until a source's next arrival."""

from happysimulator.load.providers.arrivals import (
    ArrivalTimeProvider,
    ConstantArrivalTimeProvider,
    PoissonArrivalTimeProvider,
)

__all__ = ["ArrivalTimeProvider", "ConstantArrivalTimeProvider", "PoissonArrivalTimeProvider"]
