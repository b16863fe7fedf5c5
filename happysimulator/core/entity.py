"""Entities: the things events happen to."""

from __future__ import annotations

from collections.abc import Generator
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from happysimulator.core._active import ACTIVE, detached_id
from happysimulator.core.event import Event
from happysimulator.core.temporal import Instant

if TYPE_CHECKING:
    import random

    from happysimulator.core.component_instrumentation import ComponentInstrumentation
    from happysimulator.core.simulation import Simulation

_new = object.__new__

HandlerResult = None | Event | list[Event] | Generator[Any, Any, Any]


class ExternalClock:
    """Stands in for a simulation when an entity is given a bare clock (``set_clock``)."""

    def __init__(self, clock: Any) -> None:
        if not hasattr(clock, "now"):
            raise TypeError(f"set_clock needs a Simulation or a clock with .now, got {clock!r}")
        self.clock = clock
        self._rng: random.Random | None = None

    @property
    def now_ns(self) -> int:
        return self.clock.now.nanoseconds

    @property
    def now(self) -> Instant:
        return self.clock.now

    @property
    def rng(self) -> random.Random:
        if self._rng is None:
            import random as _random

            self._rng = _random.Random(0)
        return self._rng

    def _entity_stream(self, entity: Entity) -> random.Random:
        from happysimulator.core.random_streams import new_stream

        return new_stream("0", f"entity:{entity.name}")  # a hand-driven clock: seed 0

    def _next_context_id(self) -> int:
        return detached_id()


def bind_simulation(entity: Entity) -> Simulation:
    """The simulation ``entity`` runs in (binds it to the running one if unregistered)."""
    sim = entity._sim
    if sim is None:
        sim = ACTIVE.sim
        if sim is None:
            raise RuntimeError(
                f"entity {entity.name!r} is not part of a simulation; pass it to "
                "Simulation(entities=[...]) or use it while the simulation runs"
            )
        entity._sim = sim
    return sim


class _EntityStream:
    """``Entity._entity_rng`` when the instance holds none (before the first ``rng``
    read, and after `Entity._forget_stream`): the model's own generator if it assigned
    one, else the entity's stream in its simulation; kept as the instance's."""

    def __get__(self, entity: Entity | None, owner: type) -> Any:
        if entity is None:
            return self
        rng = entity._own_rng
        if rng is None:
            sim = entity._sim or bind_simulation(entity)
            rng = sim._entity_stream(entity)
        # (plain attribute writes, not `entity.__dict__`: see `Entity.rng`)
        entity._entity_rng = rng
        return rng


class Entity:
    """Base class for simulated things.

    Override ``handle_event(event)``; it may return ``None``, an ``Event``, a list of events,
    or a generator that yields delays (float seconds or ``Duration``), ``(delay, events)``
    tuples or ``SimFuture`` objects.
    """

    _sim: Simulation | None = None
    #: component instrumentation seam (see ``ComponentInstrumentation``); None = off
    _instr: ComponentInstrumentation | None = None
    _own_rng: random.Random | None = None  # a generator the model assigned
    _entity_rng = _EntityStream()  # (the instance's once read: see `rng`)

    def __init__(self, name: str) -> None:
        self.name = name
        self._sim = None
        self._instr = None
        # hot paths draw uniforms with `self._stream_random()`: the first call binds it to this
        # entity's stream's `random` (an instance attribute: the fastest lookup)
        self._stream_random = self._first_draw

    def handle_event(self, event: Event) -> HandlerResult:
        raise NotImplementedError(f"{type(self).__name__}.handle_event is not implemented")

    @property
    def now(self) -> Instant:
        """Current simulated time."""
        sim = self._sim or bind_simulation(self)
        i = _new(Instant)  # (`_inst` inline: models read `now` per request)
        i._ns = sim.now_ns
        return i

    def _set_rng(self, value: random.Random) -> None:
        self._own_rng = value
        self._forget_stream()

    # ``rng`` reads the instance's ``_entity_rng`` through a C getter (no Python frame:
    # models read ``self.rng`` once per request); the first read finds none and
    # `_EntityStream` (the class-level default) makes it. ``rng`` stays a property, so an assignment runs
    # the setter: the hot-path draws (`_stream_random`) follow the model's generator.
    rng = property(
        attrgetter("_entity_rng"), _set_rng,
        doc="""This entity's own random stream, derived from the simulation's seed and the
        entity's name: the same draws in every run with that seed, whatever other
        entities draw (common random numbers match arrivals with arrivals and services
        with services). A model may assign its own, as happysim 0.2.5 models do:
        ``self.rng = Random(7)``.""")

    def _first_draw(self) -> float:
        draw = self._stream_random = self.rng.random
        return draw()

    def _forget_stream(self) -> None:
        """Drop the cached stream (the entity moved to another simulation or was given
        its own generator); the next draw looks it up again."""
        try:
            del self._entity_rng  # (the instance's: `_EntityStream` answers the next read)
        except AttributeError:
            pass  # (none kept)
        self._stream_random = self._first_draw

    def forward(self, event: Event, target: Entity, event_type: str | None = None) -> Event:
        """A new event delivering ``event`` to ``target`` now, keeping its context."""
        sim = self._sim or bind_simulation(self)
        e = _new(Event)  # (`new_event` inline: once per request in user models)
        e._time_ns = sim.now_ns
        e.event_type = event.event_type if event_type is None else event_type
        e.target = target
        c = event._ctx
        e._ctx = event if c is None else c
        e._x = None
        return e

    def has_capacity(self) -> bool:
        return True

    def set_clock(self, sim: Simulation | Any) -> None:
        """Attach to a simulation (done by ``Simulation`` for registered entities).

        Outside a run, anything with a ``now`` Instant (e.g. ``core.clock.Clock``) may be
        given instead, to drive ``now`` by hand in a unit test."""
        self._sim = sim if hasattr(sim, "now_ns") else ExternalClock(sim)
        self._forget_stream()

    @property
    def _clock(self) -> Any:
        """happysim 0.2.5's attribute: the clock the entity runs on (None before it is
        part of a simulation); models test ``self._clock is not None``."""
        sim = self._sim
        return None if sim is None else getattr(sim, "clock", sim)

    @_clock.setter
    def _clock(self, clock: Any) -> None:
        if clock is not None:
            Entity.set_clock(self, clock)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


__all__ = ["Entity", "HandlerResult", "bind_simulation"]
