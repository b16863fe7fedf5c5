"""Load generation: sources, rate profiles, arrival and event providers."""

from happysimulator.load.event_provider import EventProvider, SimpleEventProvider
from happysimulator.load.profile import Profile
from happysimulator.load.providers import (
    ArrivalTimeProvider,
    ConstantArrivalTimeProvider,
    PoissonArrivalTimeProvider,
)
from happysimulator.load.source import Source

__all__ = [
    "ArrivalTimeProvider",
    "ConstantArrivalTimeProvider",
    "EventProvider",
    "PoissonArrivalTimeProvider",
    "Profile",
    "SimpleEventProvider",
    "Source",
]
