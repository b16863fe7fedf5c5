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

import math
from typing import Any

from happysim_rx import ObservationKind
from happysimulator.core.entity import Entity
from happysimulator.observability.auto_instrument import claim_name

_METRIC = ObservationKind.METRIC


def _finite(name: str, value: Any) -> float:
    """A metric value as float; NaN, infinities and non-numbers are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)  # numpy scalars and the like
        except (TypeError, ValueError):
            raise TypeError(
                f"metric {name!r} takes a finite number, got {type(value).__name__} "
                f"{value!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"metric {name!r} takes a finite number, got {value!r}")
    return value


class InstrumentedEntity(Entity):
    """An `Entity` that publishes what it measures onto the simulation's bus.

    Calls are cheap no-ops when the simulation records nothing (or the entity is not in
    one yet), so instrumentation can stay in production models.
    """

    def _bus(self) -> Any:
        sim = self._sim
        runtime = getattr(sim, "observability_runtime", None) if sim is not None else None
        if runtime is None or not runtime.config.enabled:
            return None
        return runtime.bus

    def _topic(self, kind: ObservationKind, name: str, series_kind: str | None) -> Any:
        # keyed by the series kind too: observe("x") then set_gauge("x") reaches the bus,
        # which refuses to mix kinds in one series
        cache = self.__dict__.setdefault("_topics", {})
        topic = cache.get((kind, name, series_kind))
        if topic is None:
            bus = self._bus()
            if bus is None:
                return None
            claim_name(self._sim.observability_runtime, self)
            topic = cache[(kind, name, series_kind)] = bus.topic(
                kind, self.name, name, series_kind)
        return topic

    def _now_s(self) -> float:
        return self._sim._now_ns / 1e9

    def observe(self, name: str, value: float, **tags: Any) -> None:
        """Record one sample (latency, size, ...): aggregated per sample. The value must
        be a finite number: NaN or infinity raise ValueError (one would turn every
        aggregate of the series into NaN)."""
        # hot in user models (once per request): the sample topics are looked up by
        # name alone, and a plain finite float skips the checks (x - x is 0.0 only then)
        try:
            topic = self.__dict__["_sample_topics"][name]
        except KeyError:
            topic = self._topic(_METRIC, name, "sample")
            if topic is None:
                return
            self.__dict__.setdefault("_sample_topics", {})[name] = topic
        if type(value) is not float or value - value != 0.0:
            value = _finite(name, value)
        topic.emit(self._sim._now_ns / 1e9, value, tags or None)

    emit_metric = observe

    def set_gauge(self, name: str, value: float, **tags: Any) -> None:
        """Set a gauge (holds until the next change; time-weighted in queries). Tags
        label the change (``where(tier="hot")`` selects the changes that carry them)."""
        topic = self._topic(_METRIC, name, "gauge")
        if topic is not None:
            topic.emit(self._now_s(), _finite(name, value), tags or None)

    def increment(self, name: str, by: float = 1, **tags: Any) -> None:
        """Count something (a counter series: `rate` gives per-second throughput;
        ``where(outcome="hit")`` counts only the increments with those tags)."""
        topic = self._topic(_METRIC, name, "counter")
        if topic is not None:
            topic.emit(self._now_s(), _finite(name, by), tags or None)

    def emit_event(self, name: str, payload: Any = None) -> None:
        """Record a named occurrence (queryable with ``sim.query.events(name)``)."""
        topic = self._topic(ObservationKind.EVENT, name, None)
        if topic is not None:
            topic.emit(self._now_s(), payload)

    def set_state(self, name: str, value: Any) -> None:
        """Record a state change (``bus.state(name)`` streams them)."""
        topic = self._topic(ObservationKind.STATE, name, None)
        if topic is not None:
            topic.emit(self._now_s(), value)


def instrument_queued_resource(resource: Any, sim: Any = None) -> Any:
    """Give a `QueuedResource` (subclass) the standard queue series and spans.

    Standard components in a simulation are instrumented automatically; call this for a
    resource the simulation cannot reach from its entities. Returns the resource.
    """
    from happysimulator.components.queued_resource import QueuedResource
    from happysimulator.observability.auto_instrument import QueueInstrumentation

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
