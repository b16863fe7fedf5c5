"""Core engine: time, events, entities, heap, simulation loop."""

from happysimulator.core.callback_entity import CallbackEntity
from happysimulator.core.clock import SimulationClock
from happysimulator.core.component_instrumentation import ComponentInstrumentation
from happysimulator.core.engine import Engine
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.event_heap import EventHeap, TimerHandle
from happysimulator.core.sim_future import SimFuture
from happysimulator.core.simulation import Simulation
from happysimulator.core.temporal import Duration, Instant

__all__ = [
    "CallbackEntity",
    "ComponentInstrumentation",
    "Duration",
    "Engine",
    "Entity",
    "Event",
    "EventHeap",
    "Instant",
    "SimFuture",
    "Simulation",
    "SimulationClock",
    "TimerHandle",
]
