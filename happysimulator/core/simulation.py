"""``Simulation``: owns the clock, the event heap, the RNG and the run loop."""

from __future__ import annotations

import inspect
import itertools
import random
import threading
from collections.abc import Iterable
from heapq import heappush
from types import GeneratorType
from typing import TYPE_CHECKING, Any

from happysimulator.core import event_tracing
from happysimulator.core.attributes import attribute_values
from happysimulator.core.clock import SimulationClock
from happysimulator.core.engine import Engine
from happysimulator.core.entity import Entity
from happysimulator.core.event import Event
from happysimulator.core.event_heap import EventHeap
from happysimulator.core.process import Process
from happysimulator.core.random_streams import new_stream, seed_root
from happysimulator.core.run_loop import (
    COMPLETE,
    END_TIME,
    PAUSED,
    RunLoop,
)
from happysimulator.core.temporal import Instant, _inst, to_ns

if TYPE_CHECKING:
    from happysim_rx import ObservationBus, QueryEngine, SimulatedTimeScheduler
    from happysimulator.instrumentation.summary import SimulationSummary
    from happysimulator.observability.control import SimulationControl

_NS = 1_000_000_000
_FAR = float("inf")


class Simulation(RunLoop):
    """A discrete-event simulation run.

    ``end_time`` (or ``start_time + duration``) bounds the run: no event later than it is
    processed. Without it the run is open-ended and ends when only daemon work (probes,
    timers, daemon events) is left, e.g. once every source is past ``stop_after``.
    ``seed`` seeds the random streams: every source and entity draws from a stream of
    its own (``entity.rng``), derived from the seed and its name, so two runs with the
    same seed draw the same arrivals and the same service times whatever else differs
    (common random numbers); ``sim.rng`` is one more stream, for model code, and
    ``sim.random_stream(purpose)`` gives one per purpose of yours.

    Observability (unless ``observability=False``; see docs/observability.md):

    - ``sim.query`` (`QueryEngine`): ask about metrics, spans and events while the run is
      going, paused or done: ``sim.query.metrics("latency").aggregate("p99").execute()``;
    - ``sim.control`` (`SimulationControl`): ``pause / resume / step(n) / run_until(t) /
      peek_next(n) / get_state()`` and breakpoints on time, events and stream conditions;
    - ``sim.observations`` (`ObservationBus`): live ReactiveX streams of every
      observation, with operators that run in simulated time;
    - ``Exporter(sim)``: JSON, CSV, DataFrames, a compact summary, OTLP traces, a Perfetto
      timeline, Parquet; ``happysimulator.experiments.replicate`` for confidence intervals.
    """

    # set by the observability layer (`happysimulator.observability.integration.install`);
    # ``control`` is None for ``Simulation(observability=False)``
    observations: ObservationBus
    control: SimulationControl

    def __init__(
        self,
        start_time: Instant | float | None = None,
        end_time: Instant | float | None = None,
        sources: Iterable[Any] | None = None,
        entities: Iterable[Entity] | None = None,
        probes: Iterable[Any] | None = None,
        trace_recorder: Any = None,
        duration: float | Any | None = None,
        seed: int | None = None,
        observability: Any = None,
        fault_schedule: Any = None,
    ) -> None:
        #: when the simulation starts, in integer nanoseconds (components read it)
        self.start_ns = 0 if start_time is None else to_ns(start_time)
        if end_time is not None and duration is not None:
            raise ValueError("Cannot specify both end_time and duration: give one of them")
        end_ns = None
        if end_time is not None:
            end_ns = to_ns(end_time)
        elif duration is not None:
            end_ns = self.start_ns + to_ns(duration)
        if end_ns is not None and end_ns == _FAR:
            end_ns = None
        if end_ns is not None and end_ns < self.start_ns:
            raise ValueError("end_time is before start_time")
        self._end_ns: int | None = end_ns
        self.seed = seed
        # No seed: one draw from the `random` module seeds this simulation's own generator,
        # so `random.seed(n)` before building it (the happysim 0.2.5 idiom) reproduces runs
        root = seed if seed is not None else random.getrandbits(64)
        self.rng = random.Random(root)
        self._stream_root = seed_root(root)
        self._stream_names: dict[str, int] = {}  # entity name -> streams given (duplicates)
        # a trace recorder also sees heap pushes (a traced heap; the plain one is untouched)
        self._events = EventHeap(
            trace_recorder=None if getattr(trace_recorder, "_is_null", False) else trace_recorder)
        self._heap = self._events.entries
        self._counter = self._events.counter  # seq source for inline pushes
        self.engine = Engine(self._events)  # what components use of the loop
        #: the current simulated time in integer nanoseconds (the run loop sets it;
        #: components read it, never write it)
        self.now_ns: int = self.start_ns
        self._events_processed = 0
        self.events_cancelled = 0  # cancelled events skipped when their time came
        #: the ids of requests' contexts (their trace ids), in the order they are made:
        #: ``next(sim.context_ids)``
        self.context_ids = itertools.count(1)
        #: a traced source keeps its requests' ids in `Event._id` (set by its
        #: instrumentation): contexts made for them take that id
        self._ids_in_events = False
        #: the ids of internal events' contexts (a source's tick, read by an observer:
        #: `control.step`, a breakpoint's condition), apart from requests' so that
        #: looking never shifts a request's id: -2, -3, ... (-1: "no request")
        self.internal_context_ids = itertools.count(-2, -1)
        self._wall_s = 0.0
        self.last_stop_reason: str | None = None
        self.failed_event: Event | None = None  # the event whose handler raised last
        self.failure: str | None = None  # what raised, where (None: nothing raised)

        # seams for the observability package (see docs/internals.md section 2)
        self._hook: Any = None  # hook(event) -> True to pause after this event
        self._events_held = False  # pending events were handed out (`LoopPlan.held`)
        self._pause_at_ns: int | None = None  # stop before any event later than this
        self._watch_types: frozenset | None = None  # event types with a waiting breakpoint
        self._on_watched: Any = None  # _on_watched(event) -> True to pause after it
        self._pause_requested = False
        self.paused_by: Any = None
        # concurrency (docs/internals.md, "Threads"): readers from other threads and
        # signal handlers ask the run thread for an event boundary through `interrupt`;
        # `_on_interrupt()` (set by the observability layer) serves them, True to pause.
        # `_lock` serializes runs and boundary work done when no run is active.
        self._lock = threading.RLock()
        self._on_interrupt: Any = None
        # observations queued for Rx subscribers during a handler (a list while a run has
        # subscribers; False: nobody queues, the loop's tests of it cost nothing); while
        # not empty the loop calls `_deliver()` first (observability/delivery.py)
        self._pending: Any = False
        self._deliver: Any = None
        # `_on_timer_error(fn, exc)`: a clock timer raised (observer code: Rx operators,
        # at_time); set by the observability layer, which pauses; None: it propagates
        self._on_timer_error: Any = None
        # processed-event log: the loop appends `t`, the target and the event type (C-level
        # appends instead of a hook call; the event itself is not kept)
        self._event_log: list | None = None
        self.last_logged_event: Event | None = None  # the newest event put in the log

        self.trace_recorder = trace_recorder
        # a NullTraceRecorder costs nothing: the loop only sees a recorder that records
        self._trace = None if getattr(trace_recorder, "_is_null", False) else trace_recorder
        self.clock = SimulationClock(self)
        self.sources: list[Any] = list(sources or [])
        self.entities: list[Entity] = list(entities or [])
        # a `happysimulator.faults.FaultSchedule`: an entity that schedules its faults
        # once the sources have started
        self.fault_schedule = fault_schedule
        if fault_schedule is not None and fault_schedule not in self.entities:
            self.entities.append(fault_schedule)
        self.probes: list[Any] = list(probes or [])
        self.observability = observability
        self.control = None  # type: ignore[assignment]  # (set by the observability layer)

        for s in self.sources:
            if not callable(getattr(s, "_start", None)):
                raise TypeError(
                    f"sources= takes arrival sources (Source.poisson/constant/with_profile), "
                    f"got {type(s).__name__} {getattr(s, 'name', s)!r}; pass other entities "
                    "in entities=")
        for e in self.entities:
            self._register(e)
        for s in self.sources:
            self._register(s)
        for p in self.probes:
            self._register(p)
        self._install_observability()
        event_tracing.install(self)
        if self._trace is not None:
            self._trace.record(self.start_ns / _NS, "simulation.init",
                               num_sources=len(self.sources), num_entities=len(self.entities))
            self._trace.record(self.start_ns / _NS, "simulation.start")
        for s in self.sources:
            s._start(self)
        for p in self.probes:
            p._start(self)
        if fault_schedule is not None:
            fault_schedule._start(self)

    # ---- registration -------------------------------------------------------------------
    def _register(self, obj: Any) -> None:
        """Attach ``obj`` and the entities reachable from its attributes to this simulation."""
        stack = [obj]
        while stack:
            o = stack.pop()
            if getattr(o, "_sim", None) is self:
                continue
            try:
                o._sim = self
            except AttributeError:
                continue
            forget = getattr(o, "_forget_stream", None)
            if forget is not None:  # a stream of another simulation's seed
                forget()
            # a @simulatable class, or an entity that overrides set_clock (happysim 0.2.5
            # models wire their own clocks there): hand it this simulation as its clock
            sc = getattr(type(o), "set_clock", None)
            if sc is not None and sc is not Entity.set_clock:
                o.set_clock(self)
            for v in attribute_values(o):  # (not `o.__dict__`: see core.attributes)
                if isinstance(v, Entity):
                    stack.append(v)
                elif isinstance(v, (list, tuple)):
                    stack.extend(x for x in v if isinstance(x, Entity))

    def add_entity(self, entity: Entity) -> None:
        self.entities.append(entity)
        self._register(entity)

    def _install_observability(self) -> None:
        """Hook the observability package in (filled in by the observability layer).

        It may set ``self._hook``, ``self._pause_at_ns`` and entities' ``_instr``.
        Does nothing when ``observability`` is None or the package is unavailable.
        """
        if self.observability is False:
            self.control = None  # type: ignore[assignment]  # plain engine: no observability
            return
        from happysimulator.observability.integration import install

        install(self)  # sets control, query, observations

    @property
    def query(self) -> QueryEngine:
        """The query engine (`QueryEngine`) over what this simulation records, made on
        first use (a run nobody asks anything never imports it, nor numpy)."""
        runtime = self.__dict__.get("observability_runtime")
        if runtime is None:  # Simulation(observability=False): nothing to ask
            raise AttributeError("'Simulation' object has no attribute 'query'")
        return runtime.query

    @property
    def scheduler(self) -> SimulatedTimeScheduler:
        """The simulated-time Rx scheduler of ``sim.observations`` (made on first use, so a
        run that nobody subscribes to never imports reactivex)."""
        bus = self.__dict__.get("observations")
        if bus is None:  # Simulation(observability=False): no streams, no scheduler
            raise AttributeError("'Simulation' object has no attribute 'scheduler'")
        return bus.scheduler

    @property
    def rng(self) -> random.Random:
        """A generator for model code, seeded by ``seed`` (sources and entities draw from
        streams of their own: ``entity.rng``)."""
        return self._rng

    @rng.setter
    def rng(self, value: random.Random) -> None:
        self._rng = value
        self._random = value.random

    def random_stream(self, purpose: str) -> random.Random:
        """A new generator for ``purpose``, derived from the seed and ``purpose`` only:
        the same numbers in every run with this seed, whatever else draws.

        >>> a = Simulation(seed=1, observability=False).random_stream("retries")
        >>> b = Simulation(seed=1, observability=False).random_stream("retries")
        >>> a.random() == b.random()
        True
        """
        if not isinstance(purpose, str):
            raise TypeError(f"purpose must be a str, got {type(purpose).__name__}")
        return new_stream(self._stream_root, "purpose:" + purpose)

    def _entity_stream(self, entity: Any) -> random.Random:
        """``entity``'s own stream: from (seed, its name). Entities sharing a name get
        ``name``, ``name#1``, ... in the order of their first draw."""
        name = str(getattr(entity, "name", None) or type(entity).__name__)
        k = self._stream_names.get(name, 0)
        self._stream_names[name] = k + 1
        return new_stream(self._stream_root, f"entity:{name}" + (f"#{k}" if k else ""))

    # ---- time & state -------------------------------------------------------------------
    @property
    def now(self) -> Instant:
        return _inst(self.now_ns)

    current_time = now

    @property
    def start_time(self) -> Instant:
        return _inst(self.start_ns)

    @property
    def end_time(self) -> Instant | None:
        return None if self._end_ns is None else _inst(self._end_ns)

    @property
    def events_processed(self) -> int:
        return self._events_processed

    @property
    def heap_size(self) -> int:
        return len(self._heap)

    def has_pending_work(self) -> bool:
        """True while non-daemon events remain in the heap."""
        return self._events.has_live_events()

    def peek_next(self) -> Event | None:
        """The next model event to run, without running it (the event is kept as it is:
        see `SimulationControl.peek_next`)."""
        self._events_held = True
        return self._events.peek_event()

    def _next_context_id(self) -> int:
        return next(self.context_ids)

    # ---- scheduling ---------------------------------------------------------------------
    def schedule(self, events: Event | Iterable[Event]) -> None:
        """Add events to the heap (an event in the past is an error)."""
        self.schedule_result(events)

    def schedule_result(self, res: Any) -> None:
        """Schedule what a handler returned: None, an event, or a list of events (a
        component's hot path: a list of plain events is pushed inline)."""
        if res is None:
            return
        if res.__class__ is list and self._trace is None:
            # (the common case, inline: components return lists of plain events)
            heap, counter, now = self._heap, self._counter, self.now_ns
            for e in res:
                if (e.__class__ is Event and e._x is None and e._time_ns >= now
                        and e.target is not None):
                    heappush(heap, (e._time_ns, 1, next(counter), e))
                elif isinstance(e, Event):
                    self._push_checked(e)
                else:
                    raise TypeError(f"expected Event in list, got {type(e).__name__}")
        elif isinstance(res, Event):
            self._push_checked(res)
        elif isinstance(res, (list, tuple)):
            for e in res:
                if not isinstance(e, Event):
                    raise TypeError(f"expected Event in list, got {type(e).__name__}")
                self._push_checked(e)
        else:
            raise TypeError(
                "a handler may return None, an Event, a list of events or a generator; "
                f"got {type(res).__name__}"
            )

    def _push_checked(self, ev: Event) -> None:
        if ev._time_ns < self.now_ns:
            raise ValueError(f"cannot schedule {ev!r} in the past (now={self.now_ns / _NS}s)")
        if ev.target is None:
            raise ValueError(f"{ev!r} has no target")
        self._events.push(ev)

    def run_completion_hooks(self, hooks: list) -> None:
        """Call a finished request's completion hooks with the current time and schedule
        what they return."""
        now = _inst(self.now_ns)
        for h in hooks:
            self.schedule_result(h(now))

    def _after_event(self, ev: Event, res: Any, x: Any) -> None:
        """Slow path after a handler: schedule results, start generators, completion hooks."""
        if res is not None:
            if res.__class__ is GeneratorType or (res.__class__ is not list
                                                  and inspect.isgenerator(res)):
                Process(self, res, ev, ev.target).start()
                return  # completion hooks run when the generator finishes
            self.schedule_result(res)
        if x is not None and x.on_complete:
            self.run_completion_hooks(x.on_complete)

    def run(self, until: Instant | float | None = None, max_events: int | None = None, *,
            progress: bool | None = False) -> SimulationSummary:
        """Run (or continue) and return a ``SimulationSummary``.

        ``progress=True`` shows a bar of simulated time with events/s (tqdm or rich,
        ``pip install 'happysim-rx[progress]'``); ``None`` shows one on a terminal only.
        """
        if progress is not False:
            from happysimulator.core.run_progress import RunProgress

            with RunProgress(self, None if until is None else to_ns(until), progress):
                return self.run(until, max_events)
        until_ns = None if until is None else to_ns(until)
        control = self.control
        if control is not None:  # observability: pause/resume bookkeeping, observers, flush
            summary = control.run(until_ns=until_ns, max_events=max_events)
            if summary.stop_reason in (COMPLETE, END_TIME) and self._trace is not None:
                self._trace.record(self.now_ns / _NS, "simulation.end")
            return summary
        reason = self._run_loop(max_events=max_events, until_ns=until_ns)
        if reason in (COMPLETE, END_TIME) and self._trace is not None:
            self._trace.record(self.now_ns / _NS, "simulation.end")
        return self.summary(reason)

    # happysim 0.2.5 attribute names
    @property
    def _start_time(self) -> Instant:
        return _inst(self.start_ns)

    @property
    def _end_time(self) -> Instant:
        return Instant.Infinity if self._end_ns is None else _inst(self._end_ns)

    def summary(self, reason: str | None = None) -> SimulationSummary:
        from happysimulator.instrumentation.summary import SimulationSummary

        stats: dict[str, dict[str, Any]] = {}
        for e in itertools.chain(self.sources, self.entities):
            fn = getattr(e, "stats", None)
            if callable(fn):
                try:
                    stats[e.name] = fn()
                except Exception:  # a user entity's stats() must not break the summary
                    pass
        wall = self._wall_s
        n = self._events_processed
        return SimulationSummary(
            start_time_s=self.start_ns / _NS,
            end_time_s=self.now_ns / _NS,
            total_events_processed=n,
            events_cancelled=self.events_cancelled,
            wall_clock_s=wall,
            wall_events_per_second=(n / wall) if wall > 0 else 0.0,
            stop_reason=reason if reason is not None else self.last_stop_reason,
            paused_by=self.paused_by if reason == PAUSED else None,
            heap_size=len(self._heap),
            seed=self.seed,
            entities=stats,
        )

    def __repr__(self) -> str:
        return (
            f"<Simulation t={self.now_ns / _NS}s events={self._events_processed} "
            f"heap={len(self._heap)}>"
        )


__all__ = ["Simulation"]
