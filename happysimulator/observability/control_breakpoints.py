"""Breakpoints of `SimulationControl`: arming, firing and the per-event checks."""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from happysim_rx.observation import ObservationKind
from happysimulator.core.control.adapter import adapt as adapt_peer_breakpoint
from happysimulator.core.control.adapter import is_peer_breakpoint
from happysimulator.observability.boundary import _at_boundary
from happysimulator.observability.breakpoints import _OPERATORS, Breakpoint
from operators.simtime import ticks as _ticks

if TYPE_CHECKING:
    from happysimulator.observability.control import SimulationControl

_ORDERING = frozenset({"gt", "ge", "lt", "le"})  # truth changes only across the threshold


class _Armed:
    """A breakpoint wired to its trigger (stream subscription, timer or per-event check)."""

    def __init__(self, bp: Breakpoint, control: SimulationControl) -> None:
        self.bp = bp
        self.control = control
        self.subscription: Any = None
        self.last_truth = False
        self.sources: dict[str, list[Any]] = {}  # metric_condition: [holding, timer, fired]

    def disarm(self) -> None:
        if self.subscription is not None:
            self.subscription.dispose()
            self.subscription = None
        for st in self.sources.values():
            if st[1] is not None:
                st[1].cancel()
        self.sources.clear()


class BreakpointControl:
    """``add_breakpoint``/``remove_breakpoint``/``list_breakpoints``/``clear_breakpoints``
    and how armed breakpoints fire (mixed into `SimulationControl`: uses its simulation,
    runtime, run state and faults)."""

    # ---- breakpoints ------------------------------------------------------------------
    @_at_boundary
    def add_breakpoint(self, breakpoint: Breakpoint) -> Breakpoint:
        """Arm `breakpoint`; returns it (its `id` can be given to `remove_breakpoint`).

        happysim 0.2.5 breakpoint classes (``TimeBreakpoint``, ``MetricBreakpoint``, any
        object with ``should_break(context)``) are accepted and returned converted."""
        if not isinstance(breakpoint, Breakpoint) and is_peer_breakpoint(breakpoint):
            breakpoint = adapt_peer_breakpoint(breakpoint, self._sim)
        if not isinstance(breakpoint, Breakpoint):
            raise TypeError(f"expected a Breakpoint, got {type(breakpoint).__name__}")
        if breakpoint.id in self._armed:
            return breakpoint
        armed = _Armed(breakpoint, self)
        kind = breakpoint.kind
        now = self._sim.clock.now()
        if kind == "time" and breakpoint.time < now:
            raise ValueError(
                f"time breakpoint at {breakpoint.time:g} s is in the past (now {now:g} s)")
        if kind == "event_count" and breakpoint.event_count <= self._sim.events_processed:
            raise ValueError(
                f"event_count breakpoint {breakpoint.event_count} is already passed "
                f"({self._sim.events_processed} events processed)")
        if kind == "metric_condition":
            self._arm_metric(armed)
        elif kind == "when":
            armed.subscription = breakpoint.when.subscribe(
                on_next=lambda value, a=armed: self._fire(a, _detail(value)))
        elif kind == "anomaly":
            attach = getattr(breakpoint.anomaly, "attach", None)
            if attach is not None:
                attach(self._sim)
            stream = getattr(breakpoint.anomaly, "anomalies", breakpoint.anomaly)
            if not hasattr(stream, "subscribe"):
                raise TypeError("anomaly must be an AnomalyDetector (or an Observable)")
            armed.subscription = stream.subscribe(
                on_next=lambda value, a=armed: self._fire(a, _detail(value)))
        self._armed[breakpoint.id] = armed
        self._changed()
        return breakpoint

    @_at_boundary
    def remove_breakpoint(self, breakpoint: Breakpoint | int) -> None:
        """Disarm a breakpoint given itself or its id (KeyError if unknown)."""
        bid = breakpoint.id if isinstance(breakpoint, Breakpoint) else breakpoint
        armed = self._armed.pop(bid, None)
        if armed is None:
            raise KeyError(
                f"no breakpoint with id {bid!r}; armed ids: {sorted(self._armed) or 'none'}")
        armed.disarm()
        self._changed()

    @_at_boundary
    def list_breakpoints(self) -> list[Breakpoint]:
        return [a.bp for a in self._armed.values()]

    @_at_boundary
    def clear_breakpoints(self) -> None:
        for armed in self._armed.values():
            armed.disarm()
        self._armed.clear()
        self._changed()

    def _changed(self) -> None:
        """Breakpoints or per-event hooks changed: a running loop must be set up again
        (it keeps its per-event checks in locals) before the next event."""
        if self._running and not self._rearm:
            self._rearm = True
            sim = self._sim
            sim._pause_requested = True
            sim.clock.call_at(sim.clock.now(), _noop)  # wakes the loop at this boundary

    def _fire(self, armed: _Armed, detail: str = "") -> None:
        bp = armed.bp
        if bp.id not in self._armed or self._ignoring:
            return
        bp.hits += 1
        t = self._sim.clock.now()
        self._fired = f"{bp.describe()}{detail} at t={t:g}s"
        if bp.one_shot:
            self.remove_breakpoint(bp)
        self._sim.request_pause(self._fired)

    def _arm_time(self) -> None:
        # a time can only be reached once: a kept (one_shot=False) time breakpoint that
        # already fired must not pause every later resume at the same instant again
        times = [] if self._ignoring else [
            _ticks(a.bp.time) for a in self._armed.values()
            if a.bp.kind == "time" and not a.bp.hits]
        self._time_bp_ns = min(times) if times else None
        self._sim._pause_at_ns = self._time_bp_ns

    def _fire_time_breakpoints(self) -> str | None:
        now_ns = self._sim.now_ns
        fired = None
        for armed in list(self._armed.values()):
            if (armed.bp.kind == "time" and not armed.bp.hits
                    and _ticks(armed.bp.time) <= now_ns):
                self._fire(armed)
                fired = self._fired
        self._sim._pause_requested = False  # the loop already stopped for this pause
        self._time_bp_ns = None
        return fired

    def _fire_count_breakpoints(self) -> str | None:
        done = self._sim._events_processed
        fired = None
        for armed in list(self._armed.values()):
            bp = armed.bp
            if bp.kind == "event_count" and not bp.hits and bp.event_count <= done:
                self._fire(armed)
                fired = self._fired
        self._sim._pause_requested = False  # the loop already stopped for this pause
        return fired

    def _arm_metric(self, armed: _Armed) -> None:
        import glob  # (here, not at import: a default run arms no metric breakpoint)

        cond = armed.bp.metric_condition
        rt = self._rt
        if not (rt.config.enabled and rt.config.metrics):
            raise ValueError(
                "metric breakpoints need recorded metrics, but this simulation's "
                "ObservabilityConfig has metrics off; use ObservabilityConfig.default()")
        known = [(t.source, t.name) for t in rt.bus.topics(ObservationKind.METRIC)]
        if not any(fnmatchcase(s, cond.source) and fnmatchcase(n, cond.name) for s, n in known):
            names = sorted({f"{s}.{n}" for s, n in known})
            close = difflib.get_close_matches(f"{cond.source}.{cond.name}", names, n=3)
            warnings.warn(
                f"no series {cond.source}.{cond.name} is known yet; the breakpoint fires only "
                f"if one appears. Did you mean: {', '.join(close) or 'n/a'}? "
                f"Known: {', '.join(names[:20]) or 'none'}",
                stacklevel=3,
            )
        for_ = cond.for_
        clock = self._sim.clock

        compare = _OPERATORS[cond.operator]
        threshold = cond.threshold
        sources = armed.sources

        hysteresis = cond.hysteresis
        rearms = cond.rearms
        cooldown = cond.cooldown
        last_fired: list[float | None] = [None]

        def fire(st: list, source: str, value: Any, onset: float | None = None) -> None:
            st[2] = True  # (this episode is done with, fired or not)
            now = clock.now()
            if cooldown and last_fired[0] is not None and now < last_fired[0] + cooldown:
                return  # within the cooldown: the episode is ignored
            last_fired[0] = now
            # a sustained condition names the value that began the episode, and when: the
            # value at the pause may differ (the condition only had to keep holding)
            detail = (f" ({source}={value:g})" if onset is None
                      else f" ({source}={value:g} since t={onset:g}s)")
            self._fire(armed, detail)

        def on_value(source: str, time_s: float, value: Any) -> None:  # every observation
            st = sources.get(source)
            if not compare(value, threshold):
                if st is not None and (st[0] or st[1] is not None):
                    if hysteresis and not rearms(value):
                        return  # inside the hysteresis band: the episode goes on
                    st[0] = st[2] = False
                    if st[1] is not None:
                        st[1].cancel()
                        st[1] = None
                return
            if st is None:
                st = sources[source] = [False, None, False]
            if st[0]:
                return  # still true: edge-triggered, already fired or timing
            st[0] = True
            if not for_:
                fire(st, source, value)
                return
            start_timer(st, time_s, value, source)

        def start_timer(st: list, t0: float, value: Any, source: str) -> None:
            def elapsed() -> None:
                st[1] = None
                if st[0] and not st[2]:
                    fire(st, source, value, t0)

            st[1] = clock.call_at(t0 + for_, elapsed)

        if cond.operator in _ORDERING:
            # its truth changes only when the value crosses the threshold: emitters may
            # skip the values in between (a queue-depth breakpoint then costs ~nothing)
            # (with hysteresis, the re-arm level too)
            level = cond.rearm_level
            on_value.thresholds = (  # type: ignore[attr-defined]
                (threshold,) if level is None else tuple(sorted({threshold, level})))
        store = rt.query.metric_store

        def total_so_far(info: Any) -> float:
            if store is None or not any(
                    True for _ in store.select(glob.escape(info.name), glob.escape(info.source))):
                return 0.0
            total = (rt.query.metrics(glob.escape(info.name))
                     .from_entity(glob.escape(info.source)).aggregate("sum").execute().scalar)
            return float(total or 0.0)

        def listener_for(info: Any) -> Callable[[str, float, Any], None]:
            if info.series_kind != "counter":
                return on_value
            # A counter is compared by its running total since the run began, not by
            # each increment: "Client.timeouts ge 5" means five timeouts, and an
            # increment of 1 would never reach 5. Every increment is needed (no
            # crossing-point thinning: the total moves on each one).
            total = [total_so_far(info)]
            if cond.holds(total[0]) and info.source not in sources:
                # already past it when armed: in an episode, as a gauge is (below)
                st = sources[info.source] = [True, None, False]
                if for_:
                    start_timer(st, clock.now(), total[0], info.source)

            def on_increment(source: str, time_s: float, value: Any) -> None:
                total[0] += value
                on_value(source, time_s, total[0])

            return on_increment

        armed.subscription = rt.bus.listen_each(ObservationKind.METRIC, cond.name,
                                                cond.source, listener_for)
        # A gauge that already satisfies the condition when the breakpoint is armed is in
        # an episode that began before: edge-triggered, it does not fire at once, but a
        # `for_` condition starts timing now (so "queue_depth > 50 for 5 s" armed while the
        # queue is at 60 fires 5 s later if the queue stays above 50).
        for series in store.select(cond.name, cond.source) if store is not None else ():
            if series.series_kind != "gauge" or series.source in armed.sources:
                continue
            last = (rt.query.metrics(glob.escape(series.name))
                    .from_entity(glob.escape(series.source)).aggregate("last").execute().scalar)
            if last is None or not cond.holds(last):
                continue
            st = armed.sources[series.source] = [True, None, False]
            if for_:
                start_timer(st, clock.now(), last, series.source)

    # per-event checks, run by the runtime's hook
    def _needs_hook(self) -> bool:
        return bool(self._event_hooks) or self._collect is not None or (
            not self._ignoring and any(a.bp.kind == "condition" for a in self._armed.values()))

    def _watched_types(self) -> dict[Any, list[_Armed]]:
        watched: dict[Any, list[_Armed]] = {}
        if self._ignoring:
            return watched
        for armed in self._armed.values():
            if armed.bp.kind == "event_type":
                watched.setdefault(armed.bp.event_type, []).append(armed)
        return watched

    def _on_watched_event(self, ev: Any) -> bool:
        """The engine saw an event of a watched type (no per-event hook needed)."""
        self._last_event = ev
        for armed in self._watched_types().get(ev.event_type, ()):
            self._fire(armed)
        if self._sim._pause_requested:
            self._sim._pause_requested = False
            return True
        return False

    def _event_checker(self) -> Callable[[Any], None] | None:
        """The per-event check of condition breakpoints for the next stretch of the run
        (None when there are none; event types are watched by the engine itself)."""
        others = [a for a in self._armed.values() if a.bp.kind == "condition"]
        if not others or self._ignoring:
            return None
        fire = self._fire

        def check(ev: Any) -> None:
            for armed in others:
                try:
                    truth = bool(armed.bp.condition(self._state()))
                except Exception as exc:
                    self._observer_fault(f"breakpoint condition {armed.bp.describe()!r}", exc)
                    continue
                if truth and not armed.last_truth:
                    fire(armed)
                armed.last_truth = truth

        return check


def _noop() -> None:
    return None


def _detail(value: Any) -> str:
    if hasattr(value, "onset") and hasattr(value, "metric"):  # an AnomalyReport
        return f" ({value.source}.{value.metric}={value.value:.4g}, onset t={value.onset:g}s)"
    text = repr(value)
    return f" ({text[:80]})"
