"""Online anomaly detection on a simulation's metric streams.

`AnomalyDetector` watches one series (per matching source), aggregates it into windows of
*simulated* time, learns online, and reports anomalies as observations you can query
(``sim.query.events("anomaly")``), subscribe to (``detector.anomalies``) or pause on
(``Breakpoint(anomaly=detector)``)::

    detector = AnomalyDetector("Server", "queue_depth")             # level shifts
    sim.control.add_breakpoint(Breakpoint(anomaly=detector))
    sim.run()                                                        # pauses on a blow-up

Two kinds, with defaults chosen for what each detects:

* ``"level_shift"`` (default): sustained growth of the windowed mean. River's
  ``PageHinkley`` in ``"up"`` mode runs on values standardized against a baseline learnt
  during normal operation; a detection is only a *candidate*: it is reported only if,
  ``confirm_after`` simulated seconds later, the level is still at least
  ``baseline + max(k_sigma * std, min_increase * |baseline|)`` and at least
  ``peak_fraction`` of its peak since the onset. Bursts that are draining by then are
  not reported. A report's ``onset`` is the start of the stretch the level has stayed
  above that high mark (an earlier candidate dropped while the level flapped high is
  the same shift).
* ``"outlier"``: single windows (or single samples with ``window=None``) far in the tail
  of what was seen so far: river's ``GaussianScorer`` (``score`` = CDF of the value under
  the learnt Gaussian), reported when ``score >= threshold`` (default 0.999).

Any river model can replace the default: a drift detector (``update``/``drift_detected``)
for ``level_shift``, an anomaly detector (``learn_one``/``score_one``) for ``outlier``.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import msgspec

import operators as ops_lib
from happysim_rx import ObservationKind
from happysim_rx.subject import LeanSubject

_KINDS = ("level_shift", "outlier")


class AnomalyReport(msgspec.Struct, frozen=True):
    """One reported anomaly. ``onset`` is when the detector first saw it (a window's
    end; for a level shift, the first window of the stretch the level has stayed high);
    ``time`` is when it was reported (after confirmation for level shifts)."""

    time: float
    detector: str
    source: str
    metric: str
    kind: str
    value: float
    baseline: float | None
    score: float | None
    onset: float

    def to_dict(self) -> dict[str, Any]:
        return msgspec.structs.asdict(self)


class _Welford:
    __slots__ = ("n", "mean", "m2")

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, x: float) -> None:
        self.n += 1
        d = x - self.mean
        self.mean += d / self.n
        self.m2 += d * (x - self.mean)

    @property
    def std(self) -> float:
        return math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else 0.0


class _LevelShiftState:
    """Per-source state of a level-shift detector."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.baseline = _Welford()
        self.last_value: float | None = None
        self.pending: Any = None  # confirmation timer
        self.active = False  # an anomaly was reported and the level is still high
        self.peak = 0.0  # highest level since the pending candidate's onset
        # the first window of the current stretch above the baseline's high level (None:
        # the level is not above it): a shift's onset, whichever candidate confirms it
        self.above_since: float | None = None


class AnomalyDetector:
    """Detect anomalies on ``source``'s series ``metric`` (``source`` may be a glob).

    Args:
        source, metric: the series to watch.
        kind: ``"level_shift"`` or ``"outlier"``.
        window: simulated seconds per aggregation window (``None``: raw samples,
            outliers only). Gauges are time-weighted.
        model: a river drift detector (level_shift) or anomaly detector (outlier);
            deep-copied per source. Defaults described in the module doc.
        warmup: windows used only to learn the baseline before anything can fire.
        confirm_after: level_shift: simulated seconds a candidate must persist.
        k_sigma, min_increase: level_shift: how far above the baseline counts as high.
        peak_fraction: level_shift: at confirmation the level must still be at least this
            fraction of its peak since the onset (a draining burst is not a shift).
        threshold: outlier: the score at or above which a value is an outlier.
        name: the detector's label (observation source and breakpoint description).
    """

    def __init__(
        self,
        source: str,
        metric: str,
        *,
        kind: str = "level_shift",
        window: float | None = 1.0,
        model: Any = None,
        warmup: int = 10,
        confirm_after: float = 5.0,
        k_sigma: float = 4.0,
        min_increase: float = 0.5,
        threshold: float = 0.999,
        peak_fraction: float = 0.9,
        name: str | None = None,
    ) -> None:
        if kind not in _KINDS:
            raise ValueError(f"unknown kind {kind!r}; valid: {', '.join(_KINDS)}")
        if window is not None and not (window > 0 and math.isfinite(window)):
            raise ValueError(f"window must be a positive number of seconds or None, got {window!r}")
        if window is None and kind == "level_shift":
            raise ValueError("level_shift needs a window (it compares windowed levels)")
        if not (confirm_after >= 0 and math.isfinite(confirm_after)):
            raise ValueError(f"confirm_after must be >= 0 seconds, got {confirm_after!r}")
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 1:
            raise ValueError(f"warmup must be an int >= 1, got {warmup!r}")
        self.source, self.metric, self.kind = source, metric, kind
        self.window, self.warmup, self.confirm_after = window, warmup, confirm_after
        self.k_sigma, self.min_increase, self.threshold = k_sigma, min_increase, threshold
        self.peak_fraction = peak_fraction
        self.model = model
        self.name = name or f"{kind}({source}.{metric})"
        self.reports: list[AnomalyReport] = []
        self.candidates = 0  # level-shift detections (confirmed or not)
        self.anomalies: LeanSubject[AnomalyReport] = LeanSubject()
        self._sim: Any = None
        self._subscriptions: list[Any] = []
        self._states: dict[str, _LevelShiftState] = {}

    # ---- wiring -----------------------------------------------------------------------
    def attach(self, sim: Any) -> AnomalyDetector:
        """Start watching `sim` (idempotent; `Breakpoint(anomaly=...)` attaches for you)."""
        if self._sim is sim:
            return self
        if self._sim is not None:
            raise ValueError(f"{self.name} is already attached to another simulation")
        runtime = getattr(sim, "observability_runtime", None)
        if runtime is None or not (runtime.config.enabled and runtime.config.metrics):
            raise ValueError(
                "anomaly detection needs recorded metrics; use ObservabilityConfig.default()")
        self._sim = sim
        bus = runtime.bus
        self._report_topic = bus.topic(ObservationKind.EVENT, self.name, "anomaly")
        self._count_topic = bus.metric(self.name, "anomalies", "counter")
        routes: dict[str, LeanSubject] = {}

        def route(obs: Any) -> None:
            subject = routes.get(obs.source)
            if subject is None:
                subject = routes[obs.source] = LeanSubject()
                self._build(bus, subject, obs.source, obs.name)
            subject.on_next(obs)

        def complete() -> None:
            for subject in routes.values():
                subject.on_completed()
            self.anomalies.on_completed()

        self._subscriptions.append(
            bus.metrics(self.metric, source=self.source).subscribe(
                on_next=route, on_completed=complete))
        return self

    def detach(self) -> None:
        for sub in self._subscriptions:
            sub.dispose()
        self._subscriptions.clear()
        for st in self._states.values():
            if st.pending is not None:
                st.pending.cancel()

    def _build(self, bus: Any, subject: LeanSubject, source: str, metric: str) -> None:
        clock = self._sim.clock
        series_kind = bus.topic(ObservationKind.METRIC, source, metric).series_kind
        stream: Any = subject
        if self.window is not None:
            if series_kind == "gauge":
                stream = stream.pipe(ops_lib.time_weighted(self.window, "mean", clock=clock))
            else:
                agg = "sum" if series_kind == "counter" else "mean"
                stream = stream.pipe(ops_lib.tumbling_window(
                    self.window, agg, clock=clock, emit_empty=series_kind == "counter"))
        if self.kind == "level_shift":
            state = self._states[source] = _LevelShiftState(self._drift_model())

            # a counter's quiet window is 0 events, not "no data" (its empty sum is None)
            quiet = 0.0 if series_kind == "counter" else None

            def on_window(item: Any) -> None:
                value = item.value
                self._on_level(state, source, metric, item.time,
                               quiet if value is None and item.count == 0 else value)

            self._subscriptions.append(stream.subscribe(on_next=on_window))
            return
        stream = stream.pipe(ops_lib.detect_anomalies(
            self._outlier_model(), threshold=self.threshold, warmup=self.warmup))

        def on_result(r: Any) -> None:
            if r.is_anomaly:
                self._report(r.time, source, metric, "outlier", r.value, None, r.score, r.time)

        self._subscriptions.append(stream.subscribe(on_next=on_result))

    def _drift_model(self) -> Any:
        if self.model is not None:
            return copy.deepcopy(self.model)
        from river.drift import PageHinkley

        # standardized input: threshold in baseline standard deviations, accumulated
        return PageHinkley(min_instances=self.warmup, delta=0.5, threshold=25.0, mode="up")

    def _outlier_model(self) -> Any:
        if self.model is not None:
            return copy.deepcopy(self.model)
        from river.anomaly import GaussianScorer

        return GaussianScorer(grace_period=self.warmup)

    # ---- level shifts -----------------------------------------------------------------
    def _high_level(self, st: _LevelShiftState) -> float:
        b = st.baseline
        return b.mean + max(self.k_sigma * b.std, self.min_increase * abs(b.mean), 1e-9)

    def _on_level(self, st: _LevelShiftState, source: str, metric: str, t: float,
                  value: Any) -> None:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return
        value = float(value)
        st.last_value = value
        b = st.baseline
        if st.pending is not None and value > st.peak:
            st.peak = value
        if st.active:
            if value < self._high_level(st):
                st.active = False  # recovered: a new episode may be reported later
            return
        if b.n < self.warmup:
            b.add(value)
            return
        high = self._high_level(st)
        if value < high:
            st.above_since = None
        elif st.above_since is None:
            st.above_since = t
        z = (value - b.mean) / max(b.std, 1e-9 + 0.01 * abs(b.mean))
        st.model.update(z)
        if st.model.drift_detected and st.pending is None:
            self.candidates += 1
            # a candidate dropped earlier (a level that flapped below its peak) and this
            # one are the same shift while the level stayed high: dated at its start
            onset = t if st.above_since is None else min(t, st.above_since)
            st.peak = value

            def confirm(st: _LevelShiftState = st) -> None:
                st.pending = None
                last = st.last_value
                # still high *and* not draining: a burst that is being absorbed is not
                # a level shift, even if it has not fully drained yet
                if last is not None and last >= max(self._high_level(st),
                                                    self.peak_fraction * st.peak):
                    st.active = True
                    self._report(self._sim.clock.now(), source, metric, "level_shift",
                                 last, st.baseline.mean, None, onset)

            st.pending = self._sim.clock.call_at(t + self.confirm_after, confirm)
        elif st.pending is None and value < high:
            b.add(value)  # normal operation keeps refining the baseline

    # ---- reporting --------------------------------------------------------------------
    def _report(self, t: float, source: str, metric: str, kind: str, value: float,
                baseline: float | None, score: float | None, onset: float) -> None:
        report = AnomalyReport(t, self.name, source, metric, kind, float(value),
                               baseline, None if score is None else float(score), onset)
        self.reports.append(report)
        self._report_topic.emit(t, report.to_dict())
        self._count_topic.emit(t, 1)
        self.anomalies.on_next(report)

    def __repr__(self) -> str:
        return f"<AnomalyDetector {self.name} reports={len(self.reports)}>"
