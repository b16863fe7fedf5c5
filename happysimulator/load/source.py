"""``Source``: generates requests from an arrival process."""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from math import floor as _floor
from math import log as _log
from typing import Any

from happysimulator.core.component_instrumentation import GEN, trace_id
from happysimulator.core.engine import declare_recyclable
from happysimulator.core.entity import Entity
from happysimulator.core.event import PARTIAL, Event, Wakeup, _Kind
from happysimulator.core.temporal import Instant, _inst, to_ns
from happysimulator.distributions.latency_distribution import EXPO_INLINE
from happysimulator.load.event_provider import (
    EventProvider,
    SimpleEventProvider,
    _SimpleEventProvider,  # noqa: F401 (0.2.5 name)
)
from happysimulator.load.profile import Profile
from happysimulator.load.providers.arrivals import (
    ArrivalTimeProvider,
    ConstantArrivalTimeProvider,
    PoissonArrivalTimeProvider,
)

TICK = "source.tick"
declare_recyclable(TICK)  # (`handle_event` reuses its tick)
_new = object.__new__


class SourceTick(Event, metaclass=_Kind):
    """A source's internal "generate the next arrival" event: a `Wakeup` of this kind
    (``isinstance(e, SourceTick)`` is true for it; its context takes an internal id)."""

    __slots__ = ()
    event_type = TICK  # class constant shadows the slot (never reassigned)


def _tick(time_ns: int, source: Source) -> Wakeup:
    tick = _new(Wakeup)
    tick._time_ns = time_ns
    tick.event_type = TICK
    tick.target = source
    tick._ctx = None
    tick._x = None
    tick.kind = SourceTick
    return tick


_NS = 1_000_000_000


class Source(Entity):
    """Emits requests at arrival times drawn from its own random stream (``self.rng``:
    from the simulation's seed and this source's name).

    ``stop_after`` (absolute simulated time) is the last time an arrival may happen;
    ``limit`` caps the number of arrivals. After either, the source schedules nothing, so
    an open-ended simulation can end.
    """

    def __init__(
        self,
        name: str = "Source",
        event_provider: EventProvider | None = None,
        arrival_time_provider: ArrivalTimeProvider | None = None,
        *,
        target: Entity | None = None,
        event_type: str = "Request",
        stop_after: Instant | float | None = None,
        limit: int | None = None,
        context_fn: Callable[[Instant, int], dict] | None = None,
    ) -> None:
        super().__init__(name)
        if event_provider is None:
            if target is None:
                raise ValueError("Source needs a target or an event_provider")
            event_provider = SimpleEventProvider(target, event_type, context_fn=context_fn)
        if arrival_time_provider is None:
            raise ValueError("Source needs an arrival_time_provider (or use Source.poisson)")
        self.event_provider = event_provider
        self.arrival_time_provider = arrival_time_provider
        self.stop_after = stop_after
        self.limit = limit
        self.generated = 0
        simple = type(event_provider) is SimpleEventProvider and event_provider.is_plain
        self._simple = simple
        if type(event_provider) is SimpleEventProvider:
            target, event_type = event_provider.target, event_provider.event_type
        self.target = target if target is not None else getattr(event_provider, "target", None)
        self.event_type = event_type
        self._settings_changed()
        self.finished = False

    #: what-if settings (``happysimulator.observability.settings``) do not reach into
    #: the event provider: what it makes is set by the source's own attributes
    _closed_setting_parts = {
        "event_provider": "set the source's own event_type / stop_after (its provider's "
                          "are read only when the source is built)"}

    def _settings_changed(self) -> None:
        """Check and cache what the source is configured with (after construction, or
        after a what-if setting changed it: ``happysimulator.observability.settings``)."""
        ep = self.event_provider
        if type(ep) is SimpleEventProvider:
            # a provider that is not bypassed (one with a context_fn) makes the requests
            # of the source's event_type, as the fast path does
            ep.event_type = self.event_type
        limit = self.limit
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        stop = self.stop_after
        self._stop_ns = None if stop is None else to_ns(stop)
        ap = self.arrival_time_provider
        self._exp_rate = (
            ap.rate
            if type(ap) is PoissonArrivalTimeProvider and not isinstance(ap.rate, Profile)
            else None
        )
        self._gap = ap.next_gap_ns
        # Poisson at a constant rate: draw inline (same numbers as expovariate)
        self._inline_rate = self._exp_rate if EXPO_INLINE else None

    @property
    def rate(self) -> float | Profile:
        """Arrivals per second (or the rate ``Profile``) of the arrival provider. Setting
        a number changes it from the next arrival drawn on (the one already scheduled
        keeps its time)."""
        return self.arrival_time_provider.rate

    @rate.setter
    def rate(self, value: float | Profile) -> None:
        self.arrival_time_provider.rate = value
        self._settings_changed()

    # ---- constructors -------------------------------------------------------------------
    @classmethod
    def poisson(
        cls,
        rate: float | Profile,
        target: Entity | None = None,
        event_type: str = "Request",
        *,
        name: str | None = None,
        stop_after: Instant | float | None = None,
        limit: int | None = None,
        event_provider: EventProvider | None = None,
        context_fn: Callable[[Instant, int], dict] | None = None,
    ) -> Source:
        """Poisson arrivals at ``rate`` per second (or an inhomogeneous ``Profile``).

        ``event_provider`` replaces ``target``/``event_type``; ``context_fn(time, n)``
        makes each request's context.
        """
        if event_provider is None and target is None:
            raise ValueError("Either 'target' or 'event_provider' must be provided "
                             "to Source.poisson")
        return cls(
            name or "Source",
            event_provider,
            PoissonArrivalTimeProvider(rate),
            target=target,
            event_type=event_type,
            stop_after=stop_after,
            limit=limit,
            context_fn=context_fn,
        )

    @classmethod
    def constant(
        cls,
        rate: float | Profile,
        target: Entity | None = None,
        event_type: str = "Request",
        *,
        name: str | None = None,
        stop_after: Instant | float | None = None,
        limit: int | None = None,
        event_provider: EventProvider | None = None,
        context_fn: Callable[[Instant, int], dict] | None = None,
    ) -> Source:
        """Evenly spaced arrivals, ``rate`` per second (or following a ``Profile``).

        ``event_provider`` replaces ``target``/``event_type``; ``context_fn(time, n)``
        makes each request's context.
        """
        if event_provider is None and target is None:
            raise ValueError("Either 'target' or 'event_provider' must be provided "
                             "to Source.constant")
        return cls(
            name or "Source",
            event_provider,
            ConstantArrivalTimeProvider(rate),
            target=target,
            event_type=event_type,
            stop_after=stop_after,
            limit=limit,
            context_fn=context_fn,
        )

    @classmethod
    def with_profile(
        cls,
        profile: Profile | float,
        target: Entity | None = None,
        event_type: str = "Request",
        *,
        name: str | None = None,
        stop_after: Instant | float | None = None,
        limit: int | None = None,
        poisson: bool = True,
        event_provider: EventProvider | None = None,
        context_fn: Callable[[Instant, int], dict] | None = None,
    ) -> Source:
        """Arrivals following a rate ``Profile`` (Poisson by default, else deterministic)."""
        if not isinstance(profile, Profile):
            profile = Profile.constant(float(profile))
        factory = cls.poisson if poisson else cls.constant
        return factory(profile, target, event_type, name=name, stop_after=stop_after,
                       limit=limit, event_provider=event_provider, context_fn=context_fn)

    # ---- happysim 0.2.5 names -----------------------------------------------------------
    @property
    def _time_provider(self) -> ArrivalTimeProvider:
        return self.arrival_time_provider

    @property
    def _event_provider(self) -> EventProvider:
        return self.event_provider

    @staticmethod
    def _resolve_stop_after(stop_after: Instant | float | None) -> Instant | None:
        """``stop_after`` as an ``Instant`` (happysim 0.2.5 helper)."""
        return None if stop_after is None else Instant(to_ns(stop_after))

    @property
    def generated_count(self) -> int:
        """Arrivals so far."""
        return self.generated

    def downstream_entities(self) -> list[Entity]:
        t = self.target
        return [t] if isinstance(t, Entity) else []

    # ---- running ------------------------------------------------------------------------
    def _start(self, sim: Any) -> None:
        self._sim = sim
        self._schedule_next(sim, sim.now_ns)

    def _schedule_next(self, sim: Any, now: int) -> None:
        if self.limit is not None and self.generated >= self.limit:
            self.finished = True
            return
        gap = self._gap(now, self.rng)
        if gap is None:
            self.finished = True
            return
        nxt = now + gap
        if self._stop_ns is not None and nxt > self._stop_ns:
            self.finished = True
            return
        sim.engine.schedule_at(nxt, _tick(nxt, self))

    def handle_event(self, event: Event) -> Event | list[Event] | None:
        sim = self._sim
        now = sim.now_ns
        i = self._instr
        if self._simple:
            # returned (not pushed) so the loop can dispatch it immediately
            req = out = _new(Event)
            req._time_ns = now
            req.event_type = self.event_type
            req.target = self.target
            req._ctx = None
            req._x = None
            if i is not None and i.traced:
                # its id is fixed now (creation order: its trace id), in a slot (a
                # context dict per request cost ~1,000 instructions more; `Event._id`)
                req._id = next(sim.context_ids)
        else:
            out = self.event_provider.get_events(_inst(now))
            if out.__class__ is list and len(out) == 1:
                # one request (the common case): returned alone, the loop runs it at once
                # without unpacking the list
                req = out = out[0]
            else:
                req = out[0] if out else None
        self.generated += 1
        if i is not None:
            i.generated.append(now)
            if i.traced:
                if self._simple:
                    i.traced_ids.append(req._id)
                elif req is None:
                    i.traced_ids.append(-1)  # (keeps ids aligned with `generated`)
                elif req._ctx is None:
                    # the request's id is fixed now (creation order): its trace id
                    tid = next(sim.context_ids)
                    req._ctx = {"id": tid, PARTIAL: now}  # a partial context
                    i.traced_ids.append(tid)
                else:
                    i.traced_ids.append(trace_id(req))
            if i.live is not None:
                i.live(GEN, now, req)
        limit = self.limit
        if limit is not None and self.generated >= limit:
            self.finished = True
            return out
        r = self._inline_rate
        if r is not None:
            # (the gap is >= 0: `floor` is `int` there, a cheaper call; times the float
            # 1e9, exactly `_NS`, the multiply is specialized)
            nxt = now + _floor(-_log(1.0 - self._stream_random()) / r * 1e9 + 0.5)
        else:
            gap = self._gap(now, self.rng)
            if gap is None:
                self.finished = True
                return out
            nxt = now + gap
        stop = self._stop_ns
        if stop is not None and nxt > stop:
            self.finished = True
            return out
        if (sim.engine.may_recycle and event.__class__ is Wakeup and event.kind is SourceTick
                and event._ctx is None):
            tick = event  # nobody else saw the processed tick: recycle it
            tick._time_ns = nxt
        else:
            tick = _tick(nxt, self)
        heappush(sim._heap, (nxt, 1, next(sim._counter), tick))  # (`Engine.schedule_at`)
        return out

    def stats(self) -> dict[str, Any]:
        return {"generated": self.generated}


__all__ = ["Source"]
