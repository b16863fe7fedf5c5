"""Pipeable ReactiveX operators for time-stamped streams (simulated time).

Every operator is a function returning ``Callable[[Observable], Observable]`` for
``observable.pipe(...)``. Items are time-stamped: an item's time is ``item.time``
(float simulated seconds) and its value ``item.value``; ``(t, v)`` tuples work too, and
every operator takes ``time_of=`` / ``value_of=`` callables to override.

This package is the lowest layer: it knows nothing of the simulation engine. Time-based
operators talk to a :class:`SimClock` (``now()``, ``call_at(t, fn) -> handle``); pass
``clock=sim.clock``, ``clock=SchedulerClock(test_scheduler)``, or subscribe with a
virtual-time scheduler. They never fall back to wall-clock time.

Windows (:mod:`operators.windows`) -> :class:`WindowResult` ``(start, end, count, values, partial)``
    ``tumbling_window(size, aggregate | aggregates=[...], clock=, weighting=, emit_empty=)``
    ``sliding_window(size, step, ...)``   pane-based, bounded state
    ``session_window(gap, ...)``
Rates and smoothing (:mod:`operators.rates`)
    ``rate(window, of="count"|"sum")``, ``time_weighted(window, aggregate)`` (gauges),
    ``ewma(alpha | halflife=)``, ``delta()``, ``derivative()`` -> :class:`TimedValue`
Conditions (:mod:`operators.conditions`)
    ``threshold(op, value, clear_at=)`` -> :class:`ThresholdEvent`,
    ``sustained(predicate, for_seconds, clock=)`` -> :class:`SustainedEvent`,
    ``edge_triggered(predicate)``, ``compare(op, value)``, ``parse_comparison(op)``
Anomalies (:mod:`operators.anomaly`, any river model)
    ``detect_anomalies(model, threshold=, warmup=)`` -> :class:`AnomalyResult`,
    ``detect_drift(detector)`` -> :class:`DriftEvent`
Sampling (:mod:`operators.sampling`)
    ``every_nth(n)``, ``sample_probability(p, seed)``, ``per_interval(seconds)``
Clocks (:mod:`operators.clock`)
    ``SimClock``, ``FakeClock``, ``SchedulerClock``
Aggregators and sketches (:mod:`operators.aggregators`, :mod:`operators.sketch`)
    ``make_aggregator(spec, weighting=)``, ``Aggregator``, ``QuantileSketch``

>>> import reactivex, operators as ops
>>> out = []
>>> _ = reactivex.of((0.2, 3.0), (0.7, 5.0), (1.1, 9.0)).pipe(
...     ops.tumbling_window(1.0, "max"), ops.threshold(">", 6)).subscribe(
...     lambda e: out.append((e.time, e.active)))
>>> out
[(2.0, True)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from operators._lazy import lazy_exports

# Names resolve on first use (PEP 562): a module that needs only the clock seam (the
# simulation's runtime) does not import the windows, aggregators, numpy or river.
_EXPORTS = {
    "TICKS_PER_SECOND": "_common", "TimedValue": "_common",
    "AnomalyResult": "anomaly", "DriftEvent": "anomaly", "detect_anomalies": "anomaly",
    "detect_drift": "anomaly", "is_supervised": "anomaly",
    "FakeClock": "clock", "SchedulerClock": "clock", "SimClock": "clock",
    "TimerHandle": "clock", "resolve_clock": "clock",
    "COMPARISONS": "conditions", "SustainedEvent": "conditions",
    "ThresholdEvent": "conditions", "compare": "conditions", "edge_triggered": "conditions",
    "parse_comparison": "conditions", "sustained": "conditions", "threshold": "conditions",
    "delta": "rates", "derivative": "rates", "ewma": "rates", "rate": "rates",
    "time_weighted": "rates",
    "every_nth": "sampling", "per_interval": "sampling", "sample_probability": "sampling",
    "WindowResult": "windows", "session_window": "windows", "sliding_window": "windows",
    "tumbling_window": "windows",
    "AGGREGATE_NAMES": "aggregators", "Aggregator": "aggregators",
    "make_aggregator": "aggregators",
    "QuantileSketch": "sketch",
}

if TYPE_CHECKING:
    from operators._common import TICKS_PER_SECOND, TimedValue
    from operators.aggregators import AGGREGATE_NAMES, Aggregator, make_aggregator
    from operators.anomaly import (
        AnomalyResult,
        DriftEvent,
        detect_anomalies,
        detect_drift,
        is_supervised,
    )
    from operators.clock import FakeClock, SchedulerClock, SimClock, TimerHandle, resolve_clock
    from operators.conditions import (
        COMPARISONS,
        SustainedEvent,
        ThresholdEvent,
        compare,
        edge_triggered,
        parse_comparison,
        sustained,
        threshold,
    )
    from operators.rates import delta, derivative, ewma, rate, time_weighted
    from operators.sampling import every_nth, per_interval, sample_probability
    from operators.sketch import QuantileSketch
    from operators.windows import WindowResult, session_window, sliding_window, tumbling_window

__all__ = [
    "TICKS_PER_SECOND",
    "TimedValue",
    # clocks
    "SimClock",
    "TimerHandle",
    "FakeClock",
    "SchedulerClock",
    "resolve_clock",
    # windows
    "WindowResult",
    "tumbling_window",
    "sliding_window",
    "session_window",
    # rates
    "rate",
    "time_weighted",
    "ewma",
    "delta",
    "derivative",
    # conditions
    "COMPARISONS",
    "parse_comparison",
    "compare",
    "ThresholdEvent",
    "SustainedEvent",
    "threshold",
    "sustained",
    "edge_triggered",
    # anomaly
    "AnomalyResult",
    "DriftEvent",
    "detect_anomalies",
    "detect_drift",
    "is_supervised",
    # sampling
    "every_nth",
    "sample_probability",
    "per_interval",
    # aggregators and sketches
    "Aggregator",
    "make_aggregator",
    "AGGREGATE_NAMES",
    "QuantileSketch",
]


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
