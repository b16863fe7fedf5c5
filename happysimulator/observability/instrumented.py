"""Observability for your own entities: one call per metric, gauge, event or state change.

    class Cache(InstrumentedEntity):
        def handle_event(self, event):
            hit = event.context["metadata"].get("key") in self.keys
            self.increment("lookups", outcome="hit" if hit else "miss")
            self.set_gauge("size", len(self.keys))
            self.observe("lookup_time", 0.002)          # a sample
            self.set_state("mode", "warm")
"""

from __future__ import annotations

from typing import Any

from happysimulator.core.observed import ObservedEntity


class InstrumentedEntity(ObservedEntity):
    """An `Entity` that publishes what it measures onto the simulation's bus (the same
    seam the toolkit's components use: `happysimulator.core.observed`).

    Calls are cheap no-ops when the simulation records nothing (or the entity is not in
    one yet), so instrumentation can stay in production models.
    """


def instrument_queued_resource(resource: Any, sim: Any = None) -> Any:
    """Give a `QueuedResource` (subclass) the standard queue series and spans.

    Standard components in a simulation are instrumented automatically; call this for a
    resource the simulation cannot reach from its entities. Returns the resource.
    """
    from happysimulator.components.queued_resource import QueuedResource
    from happysimulator.observability.queue_instrument import QueueInstrumentation

    if not isinstance(resource, QueuedResource):
        raise TypeError(f"expected a QueuedResource, got {type(resource).__name__}")
    sim = sim if sim is not None else resource._sim
    runtime = getattr(sim, "observability_runtime", None)
    if runtime is None:
        raise ValueError(
            "the resource is not in an observable simulation yet: pass sim=... or add it "
            "to Simulation(entities=[...])")
    if (runtime.config.enabled and (runtime.config.metrics or runtime.config.traces)
            and resource._instr is None):
        # (constructing the instrumentation emits the gauges' current values: only once)
        runtime.instrument(resource, QueueInstrumentation(runtime.recorder, resource))
    return resource
