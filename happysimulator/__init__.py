"""happysimulator: a discrete-event simulation engine (observability in ``.observability``)."""

from happysimulator.components import (
    Counter,
    FIFOQueue,
    FIFOQueuePolicy,
    LatencyTracker,
    LIFOQueue,
    LIFOQueuePolicy,
    Queue,
    QueuedResource,
    QueueDriver,
    QueuePolicy,
    Server,
    Sink,
)
from happysimulator.core import (
    CallbackEntity,
    ComponentInstrumentation,
    Duration,
    Entity,
    Event,
    Instant,
    SimFuture,
    Simulation,
    SimulationClock,
    TimerHandle,
)
from happysimulator.core.control import (
    ConditionBreakpoint,
    EventCountBreakpoint,
    EventTypeBreakpoint,
    MetricBreakpoint,
    TimeBreakpoint,
)
from happysimulator.core.logical_clocks import (
    HLCTimestamp,
    HybridLogicalClock,
    LamportClock,
    VectorClock,
)
from happysimulator.core.node_clock import FixedSkew, LinearDrift, NodeClock
from happysimulator.core.sim_future import all_of, any_of
from happysimulator.distributions import (
    ConstantLatency,
    DistributionType,
    ExponentialLatency,
    LatencyDistribution,
    PercentileFittedLatency,
    UniformDistribution,
    UniformLatency,
    ValueDistribution,
    ZipfDistribution,
)
from happysimulator.instrumentation import (
    BucketedData,
    Data,
    InMemoryTraceRecorder,
    NullTraceRecorder,
    Probe,
    SimulationSummary,
)
from happysimulator.load import (
    ArrivalTimeProvider,
    ConstantArrivalTimeProvider,
    ConstantRateProfile,
    DistributedFieldProvider,
    EventProvider,
    LinearRampProfile,
    PoissonArrivalTimeProvider,
    Profile,
    SimpleEventProvider,
    Source,
    SpikeProfile,
)
from happysimulator.logging_config import (
    configure_from_env,
    disable_logging,
    enable_console_logging,
    enable_file_logging,
    enable_json_file_logging,
    enable_json_logging,
    enable_timed_file_logging,
    set_level,
    set_module_level,
)


def __getattr__(name: str) -> object:
    # the engine must not import the observability layer at import time (layering)
    if name == "SimulationState":
        from happysimulator.observability.control import SimulationState

        return SimulationState
    from happysimulator._toolkit_names import LAZY_NAMES

    module = LAZY_NAMES.get(name)
    if module is not None:
        import importlib

        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'happysimulator' has no attribute {name!r}")


__all__ = [
    "ArrivalTimeProvider",
    "ConditionBreakpoint",
    "ConstantRateProfile",
    "DistributedFieldProvider",
    "DistributionType",
    "EventCountBreakpoint",
    "EventTypeBreakpoint",
    "FixedSkew",
    "HLCTimestamp",
    "HybridLogicalClock",
    "LamportClock",
    "LinearDrift",
    "LinearRampProfile",
    "MetricBreakpoint",
    "NodeClock",
    "PercentileFittedLatency",
    "SimpleEventProvider",
    "SimulationState",
    "SpikeProfile",
    "TimeBreakpoint",
    "UniformDistribution",
    "ValueDistribution",
    "VectorClock",
    "ZipfDistribution",
    "all_of",
    "any_of",
    "configure_from_env",
    "disable_logging",
    "enable_console_logging",
    "enable_file_logging",
    "enable_json_file_logging",
    "enable_json_logging",
    "enable_timed_file_logging",
    "set_level",
    "set_module_level",
    "BucketedData",
    "CallbackEntity",
    "ComponentInstrumentation",
    "ConstantArrivalTimeProvider",
    "ConstantLatency",
    "Counter",
    "Data",
    "Duration",
    "Entity",
    "Event",
    "EventProvider",
    "ExponentialLatency",
    "FIFOQueue",
    "FIFOQueuePolicy",
    "InMemoryTraceRecorder",
    "Instant",
    "LIFOQueue",
    "LIFOQueuePolicy",
    "LatencyDistribution",
    "LatencyTracker",
    "NullTraceRecorder",
    "PoissonArrivalTimeProvider",
    "Probe",
    "Profile",
    "Queue",
    "QueueDriver",
    "QueuePolicy",
    "QueuedResource",
    "Server",
    "SimFuture",
    "Simulation",
    "SimulationClock",
    "SimulationSummary",
    "Sink",
    "Source",
    "TimerHandle",
    "UniformLatency",
]
