"""Load generation: sources, rate profiles, arrival and event providers."""

from happysimulator.load.event_provider import EventProvider, SimpleEventProvider
from happysimulator.load.profile import (
    ConstantRateProfile,
    LinearRampProfile,
    Profile,
    SpikeProfile,
)
from happysimulator.load.providers import (
    ArrivalTimeProvider,
    ConstantArrivalTimeProvider,
    DistributedFieldProvider,
    PoissonArrivalTimeProvider,
)
from happysimulator.load.source import Source, SourceTick

# happysim 0.2.5 name of the source's self-scheduling event
SourceEvent = SourceTick

__all__ = [
    "ArrivalTimeProvider",
    "ConstantArrivalTimeProvider",
    "ConstantRateProfile",
    "DistributedFieldProvider",
    "EventProvider",
    "LinearRampProfile",
    "PoissonArrivalTimeProvider",
    "Profile",
    "SimpleEventProvider",
    "Source",
    "SourceEvent",
    "SourceTick",
    "SpikeProfile",
]
