"""Wiring the reactive runtime into a `Simulation`.

`install(sim)` is what `Simulation.__init__` calls: it builds the bus on the simulation's
clock, attaches the stores the config asks for, instruments the standard components and
exposes ``sim.query``, ``sim.observations``, ``sim.scheduler`` and ``sim.control``.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from happysim_rx.bus import ObservationBus
from happysim_rx.observation import ObservationKind
from happysimulator.components.common import Sink
from happysimulator.core.attributes import attribute_values
from happysimulator.core.entity import Entity
from happysimulator.core.observed import (
    ObservedEntity,
    Series,
    declared_series,
    declared_span_attributes,
    downstream_of,
)
from happysimulator.observability.config import ObservabilityConfig
from happysimulator.observability.control import SimulationControl
from happysimulator.observability.delivery import observer_label
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion

if TYPE_CHECKING:
    from happysim_rx.scheduler import SimulatedTimeScheduler

_EVENT = ObservationKind.EVENT
_FLUSH_FACTS = 65536  # facts per scheduled flush: bounded memory between reads (~3 MB);
# fewer, larger flushes measured 25 % less flush time than 8192 (bench_obs_split.py)
_FIRST_FLUSH_S = 1.0  # simulated seconds to the first scheduled flush (then adapted)
_MIN_FLUSH_S = 1e-6  # the schedule never flushes more often than this


class ObservabilityRuntime:
    """Everything observability attaches to one simulation."""

    def __init__(self, sim: Any, config: ObservabilityConfig) -> None:
        self.sim = sim
        self.config = config
        self.bus = ObservationBus(sim.clock)
        #: (entity name, series name) -> the `Series` its class declares (units, meaning)
        self.declared: dict[tuple[str, str], Series] = {}
        self._compactable: Any = None  # the exact metric store (see `_scheduled_flush`)
        on = config.enabled
        # each store is imported when a config asks for it (the streaming store and its
        # sketches are not a default run's import cost)
        if on and config.metrics:
            if config.store == "exact":
                from happysim_rx.stores.metric import MetricStore

                self._compactable = self.bus.attach_store(MetricStore())
            else:
                from happysim_rx.stores.streaming import StreamingMetricStore

                self.bus.attach_store(StreamingMetricStore(
                    raw_capacity=config.raw_samples,
                    bucket_width=config.rollup_s,
                    relative_accuracy=config.relative_accuracy,
                ))
        if on and config.traces:
            from happysim_rx.stores.trace import TraceStore

            self.bus.attach_store(TraceStore(max_traces=config.trace_capacity))
        if on and (config.events or config.state):
            from happysim_rx.stores.events import EventStore

            es = EventStore(max_events=config.event_capacity)
            # whether the model's processed events reach it (a question about those is
            # refused when they do not, never answered 0)
            es.processed_events = bool(config.events)
            self.bus.attach_store(es)
        self.recorder = None
        if on and (config.metrics or config.traces):
            # (imported here: the instrumentation derives series with numpy, which a run
            # that records nothing does not import)
            from happysimulator.observability.auto_instrument import Recorder

            self.recorder = Recorder(self)
        self._query: Any = None  # (see `query`)
        self.control = SimulationControl(self)
        if on:
            # a run that records will be asked: the engine (and what it imports) is
            # made with the simulation, not on the run's first read
            self.query  # noqa: B018
        self._record_events = on and config.events
        self._event_topics: dict[tuple[int, str], Any] = {}
        self._instrumented: set[int] = set()
        self._finished = False
        self._interval = _FIRST_FLUSH_S
        self._log_mark = 0  # event-log length after the last scheduled flush
        if on and (config.metrics or config.traces or config.events):
            sim.clock.call_later(self._interval, self._scheduled_flush)
        if on and (config.metrics or config.traces):
            for entity in _reachable(list(sim.sources) + list(sim.entities)):
                self.instrument(entity)
                if isinstance(entity, ObservedEntity):
                    self.declare(entity)
                policy = getattr(entity, "policy", None)
                if policy is not None and declared_series(type(policy)):
                    # a queue policy that records under its resource (a balking line)
                    self.declare(entity, type(policy))
        if on and config.store == "streaming":
            # flat memory: legacy per-sink sample lists keep only recent data; the
            # streaming stores answer questions about the whole run
            for entity in _reachable(list(sim.sources) + list(sim.entities)):
                if isinstance(entity, Sink) and entity.max_samples is None:
                    entity.max_samples = config.raw_samples

    @property
    def query(self) -> Any:
        """The simulation's `BoundaryQueryEngine` (``sim.query``), made on first use: the
        query engine and its aggregates need numpy, which a run that records nothing and
        is never asked anything does not import (its OpenBLAS threads would spin on the
        other core meanwhile)."""
        q = self._query
        if q is None:
            from happysimulator.observability.boundary_query import BoundaryQueryEngine

            q = self._query = BoundaryQueryEngine(self.bus)
            q._call = self.control.call
            q._control = self.control
            q._declared = self.declared
            q._sim = self.sim
            q.known_entities = self._entity_names
        return q

    def _entity_names(self) -> list[str]:
        """Names of the simulation's entities (sources included)."""
        sim = self.sim
        return [getattr(e, "name", "") for e in _reachable(list(sim.sources) + list(sim.entities))]

    @property
    def scheduler(self) -> SimulatedTimeScheduler:
        """The bus's simulated-time Rx scheduler (made on first use)."""
        return self.bus.scheduler

    def claim(self, entity: Any) -> None:
        """Reserve `entity`'s name for its series (two entities under one name refused)."""
        from happysimulator.observability.auto_instrument import claim_name

        claim_name(self, entity)

    def declare(self, entity: Any, cls: type | None = None) -> None:
        """List the series `entity`'s class (or `cls`, a part that records under the
        entity's name) declares before anything is recorded (the catalog shows them from
        the start, with their kinds and units)."""
        attributes = declared_span_attributes(cls or type(entity))
        if attributes:
            self._declare_span_attributes(entity.name, attributes)
        specs = declared_series(cls or type(entity))
        if not specs:
            return
        self.claim(entity)
        for spec in specs.values():
            self.declared[(entity.name, spec.name)] = spec
            if spec.tags:
                self.query.declared_tags[(entity.name, spec.name)] = spec.tags
            if self.config.metrics:
                self.bus.metric(entity.name, spec.name, spec.kind)

    def _declare_span_attributes(self, name: str, keys: tuple[str, ...]) -> None:
        known = self.query.declared_span_attributes.get(name, ())
        self.query.declared_span_attributes[name] = tuple(dict.fromkeys((*known, *keys)))

    def instrument(self, entity: Any, instrumentation: Any = None) -> bool:
        """Attach the standard (or the given) instrumentation to `entity` once."""
        if id(entity) in self._instrumented:
            return True
        if self.recorder is None:
            return False
        from happysimulator.observability.auto_instrument import instrumentation_for

        instr = instrumentation or instrumentation_for(self, entity)
        if instr is None:
            return False
        self.recorder.add(instr)
        entity._instr = instr
        if self.config.traces and getattr(instr, "span_attributes", ()):
            self._declare_span_attributes(entity.name, instr.span_attributes)
        self._instrumented.add(id(entity))
        return True

    def make_hook(self) -> Callable[[Any], bool] | None:
        """Set up the next stretch of the run loop: the processed-event log (the loop
        appends to the event store's raw list itself when it can) and the per-event hook
        (returned; None when unneeded)."""
        control = self.control
        record = self._record_events
        sim = self.sim
        # processed events go into the event store as raw items (built into rows when
        # the store is read; a bounded store is trimmed on the flush schedule), unless
        # someone streams them live
        live = record and any(ObservationKind.EVENT in sub.kinds for sub in self.bus._subs)
        store = self.query.event_store if record and not live else None
        sim._event_log = store.raw_sink(_event_row) if store is not None else None
        if not ((record and live) or control._needs_hook()):
            return None
        collect = control._collect
        hooks = tuple(control._event_hooks)
        check = control._event_checker()
        record_one = self._record_event if live else None

        if not (record_one is not None or collect is not None or hooks) and check is not None:
            def check_only(ev: Any) -> bool:  # the common case: only breakpoints
                control._last_event = ev
                check(ev)
                if sim._pause_requested:
                    sim._pause_requested = False
                    return True
                return False

            return check_only

        def hook(ev: Any) -> bool:
            control._last_event = ev
            if record_one is not None:
                record_one(ev)
            if collect is not None:
                collect.append(ev)
            for fn in hooks:
                try:
                    fn(ev)
                except Exception as exc:
                    control._observer_fault(f"on_event hook {observer_label(fn)}", exc)
            if check is not None:
                check(ev)
            if sim._pause_requested:
                sim._pause_requested = False
                return True
            return False

        return hook

    def _record_event(self, ev: Any) -> None:
        target = ev.target
        key = (id(target), ev.event_type)
        topic = self._event_topics.get(key)
        if topic is None:
            source = getattr(target, "name", None) or type(target).__name__
            topic = self._event_topics[key] = self.bus.topic(_EVENT, source, str(ev.event_type))
        topic.emit(ev._time_ns / _NS, None)

    def _scheduled_flush(self) -> None:
        """Flush (and trim bounded stores), then schedule the next flush so that about
        `_FLUSH_FACTS` facts accumulate in between (1/8 to 8 times the last interval)."""
        recorder = self.recorder
        n = recorder.size() if recorder is not None else 0
        log = self.sim._event_log
        if log is not None:
            n += max(0, len(log) - self._log_mark) // 3
        self.bus.flush()
        if self._compactable is not None:  # the exact metric store's tails into numpy (bounded memory)
            self._compactable.compact()
        store = self.query.event_store if self._record_events else None
        if store is not None:
            store.materialize_if_full()
        self._log_mark = len(log) if log is not None else 0
        self._interval = max(_MIN_FLUSH_S, self._interval * min(
            8.0, max(0.125, _FLUSH_FACTS / max(n, 1))))
        self.sim.clock.call_later(self._interval, self._scheduled_flush)

    def _warn_undelivered_delays(self) -> None:
        """An open-ended run ends at its last model event, not when timers are due: what
        ``ops.delay`` still holds then is never delivered. Say so instead of dropping it
        silently (docs/observability.md, "Time-based operators at the end of a run")."""
        n = _pending_delays(self.sim)
        if n:
            warnings.warn(
                f"{n} delay operator(s) on this simulation's streams still held values when "
                f"the run completed at t={self.sim.clock.now():g}s; those values are not "
                "delivered (the run ends at its last event, not when timers are due). "
                "Give the Simulation an end_time past the delay, or stop with "
                "sim.control.run_until(t) and read them before the end.",
                RuntimeWarning, stacklevel=4)

    def finish(self) -> None:
        """The run completed: flush open windows and complete every subscriber once."""
        if not self._finished:
            self._finished = True
            self._warn_undelivered_delays()
            control = self.control
            self.bus.complete(on_fault=lambda observer, exc: control._observer_fault(
                f"observer {observer_label(observer)} (on completion)", exc))


def _pending_delays(sim: Any) -> int:
    """Rx ``delay`` operators still holding values (their simulated-time timer pending)."""
    if "happysim_rx.scheduler" not in sys.modules:
        return 0  # no simulated-time scheduler was ever made: no operator holds a timer
    from happysim_rx.scheduler import scheduled_action

    n = 0
    for handle in sim.engine.pending_timers():
        action = scheduled_action(handle.fn)
        if getattr(action, "__module__", "") == "reactivex.operators._delay":
            n += 1
    return n


def _event_row(t_ns: int, target: Any, event_type: Any) -> tuple[float, str, str, str, Any, Any]:
    """A processed event as an event-store row (built only when the store is read)."""
    source = getattr(target, "name", None) or type(target).__name__
    return (t_ns / _NS, "event", source, str(event_type), None, None)


def _reachable(roots: list[Any]) -> list[Any]:
    """Entities given to the simulation plus those reachable through their attributes
    (a server's downstream sink, a source's target), in a stable order."""
    seen: set[int] = set()
    out: list[Any] = []
    stack = list(reversed(roots))
    while stack:
        obj = stack.pop()
        if id(obj) in seen or not isinstance(obj, Entity):
            continue
        seen.add(id(obj))
        out.append(obj)
        children = []
        for value in attribute_values(obj):  # (not `obj.__dict__`: see core.attributes)
            if isinstance(value, Entity):
                children.append(value)
            elif isinstance(value, (list, tuple)):
                children.extend(v for v in value if isinstance(v, Entity))
        if isinstance(obj, ObservedEntity):  # (and those it names: a network's links)
            children.extend(downstream_of(obj))
        stack.extend(reversed(children))
    return out


def install(sim: Any) -> ObservabilityRuntime:
    """Attach observability to `sim` (its ``observability`` attribute: a config or None)."""
    config = sim.observability
    if config is None:
        config = ObservabilityConfig.default()
    elif config is False:
        config = ObservabilityConfig.disabled()
    elif config is True:
        config = ObservabilityConfig.default()
    elif not isinstance(config, ObservabilityConfig):
        raise TypeError(
            "observability must be an ObservabilityConfig (full(), default(), streaming(), "
            f"disabled()), True/False or None; got {type(config).__name__}")
    sim.observability = config
    runtime = ObservabilityRuntime(sim, config)
    sim.observability_runtime = runtime
    sim.control = runtime.control
    sim.observations = runtime.bus  # (sim.scheduler is the bus's, made on first use)
    return runtime
