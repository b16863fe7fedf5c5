"""The recording of the standard components' *facts* and their flush into the stores.

How (the hot path is the simulation's): components append *facts* — ints and floats,
including the request ids of traced hops — to per-series lists (see
`happysimulator.core.component_instrumentation`); no Python object is created or kept
per observation. A `Recorder` turns the lists into series in bulk (numpy) when someone
reads a store, when the run completes, and on the runtime's flush schedule (about 64k
facts per flush: memory stays bounded without a capacity check on the hot path). Facts
that follow from the queue discipline are not recorded but derived: a FIFO `Server`
reports arrivals and completions, not starts (see `QueueInstrumentation`). Spans
are built from the same facts as columns and materialized (ordered per request, ids and
parent links given by the trace store) only when the trace store is read.

Live subscribers get each observation as it happens: gauges and samples through a
*band* (a component calls out only when the value leaves the interval in which no
listener's verdict can change: every change for Rx subscribers, a threshold crossing for
threshold breakpoints), other series through the component's ``live`` callback; the
stores keep being fed in bulk.
"""

from __future__ import annotations

from bisect import bisect_left
from functools import partial
from math import inf, nextafter
from struct import pack_into
from typing import TYPE_CHECKING, Any

import numpy as np

from happysimulator.core.component_instrumentation import DONE, ComponentInstrumentation
from happysimulator.observability.spans import EntitySpans, Tracer
from operators.simtime import TICKS_PER_SECOND
from operators.simtime import seconds_array as _sec

if TYPE_CHECKING:
    from happysimulator.observability.integration import ObservabilityRuntime

# one conversion of nanoseconds to seconds on every path (live and stored): integer
# division for scalars, `seconds_array` for columns (`operators.simtime`)
_NS = TICKS_PER_SECOND
_EMPTY = np.empty(0, dtype=np.int64)
_NEVER = np.iinfo(np.int64).min  # a time before every other


def _ints(values: list[int]) -> np.ndarray:
    """A list of ints as an array, and the list emptied (it keeps being appended to).
    (`np.fromiter`: 13 ns per element; `struct.pack_into` spends fewer instructions but
    30-90 ns on ints past 2**30, every ns time after the first simulated second, and
    copies the list twice for its star arguments. The facts are ints by construction:
    an int outside int64 raises `OverflowError`.)"""
    out = np.fromiter(values, np.int64, len(values))
    values.clear()
    return out


def _floats(values: list[float]) -> np.ndarray:
    """A list of floats as an array, and the list emptied. (`struct` packs a float
    list into the array's buffer at 45 % of `np.fromiter`'s instructions: the same
    doubles, bit for bit. Called through a `partial`: ``f(*values)`` hands the list's
    items over in one tuple, where ``pack_into(fmt, out, 0, *values)`` builds a list
    and then a tuple, touching every float twice more.)"""
    n = len(values)
    out = np.empty(n, dtype=np.float64)
    if n:
        partial(pack_into, f"{n}d", out, 0)(*values)
    values.clear()
    return out


def _frozen(a: np.ndarray) -> np.ndarray:
    """`a` made read-only: a store keeps it as given, no copy (`MetricSeries.extend`),
    and one column may go to several series and spans. Only for arrays a flush has just
    built and never writes to again."""
    a.flags.writeable = False
    return a


_ONES = [_frozen(np.ones(0))]


def _ones(n: int) -> np.ndarray:
    """`n` ones, read-only: a view of one shared buffer (a counter's values)."""
    buf = _ONES[0]
    if buf.size < n:
        if n > 1 << 20:  # (not kept for later: a rare, large flush)
            return _frozen(np.ones(n))
        buf = _ONES[0] = _frozen(np.ones(max(n, 2 * buf.size, 4096)))
    return buf[:n]


def _band(points: tuple[float, ...], value: float) -> list[float]:
    """The open interval around `value` of the values with the same relation (<, =, >)
    to every point: a value outside it may change a threshold listener's verdict."""
    k = bisect_left(points, value)
    if k < len(points) and points[k] == value or not points:
        return [nextafter(value, -inf), nextafter(value, inf)]
    return [points[k - 1] if k else -inf, points[k] if k < len(points) else inf]


class Recorder:
    """A simulation's instrumentations and the flushing of what they recorded."""

    def __init__(self, runtime: ObservabilityRuntime) -> None:
        self.runtime = runtime
        self.bus = runtime.bus
        self.instrumentations: list[_Instrumentation] = []
        self.metrics = runtime.config.metrics
        self.tracer = Tracer(self, runtime.config.trace_sample_rate) if (
            runtime.config.traces) else None
        #: hops record their component parents (`hop_parents`): a traced model with
        #: entities that can open spans
        self.component_spans = self.tracer is not None and _opens_spans(runtime.sim)
        runtime.bus.add_flusher(self.flush)

    def add(self, instr: _Instrumentation) -> None:
        if self.tracer is not None:
            instr.traced = True
            self.tracer.register(instr)
        self.instrumentations.append(instr)
        instr.refresh_live()

    def refresh_live(self) -> None:
        for instr in self.instrumentations:
            instr.refresh_live()

    def size(self) -> int:
        """Facts not flushed yet."""
        return sum(i.size() for i in self.instrumentations)

    def flush(self) -> None:
        """Derive every series from the facts so far and hand the spans over."""
        spans: list[EntitySpans] = []
        for instr in self.instrumentations:
            instr.drop_unneeded()
            instr.flush(spans)
        if spans and self.tracer is not None:
            self.tracer.hand_over(spans)


def _opens_spans(sim: Any) -> bool:
    from happysimulator.core.observed import ObservedEntity
    from happysimulator.observability.integration import _reachable

    return any(isinstance(e, ObservedEntity)
               for e in _reachable(list(sim.sources) + list(sim.entities)))


class _Instrumentation(ComponentInstrumentation):
    __slots__ = ("entity", "recorder", "topics", "metric_live", "lists", "publisher",
                 "_unneeded", "_span_lists", "_spans_on")

    def __init__(self, recorder: Recorder, entity: Any, series: list[tuple[str, str]]) -> None:
        super().__init__()
        self.entity = entity
        self.recorder = recorder
        self.metric_live = False
        self.publisher: Any = None
        self.lists: list[list] = []  # every fact list
        self._unneeded: list[list] = []  # recorded, but nothing derives from them
        self._span_lists: list[list] = []  # facts only spans need
        self._spans_on = True
        metric = recorder.bus.metric
        self.topics = [metric(entity.name, name, kind) for name, kind in series] if (
            recorder.metrics) else []
        for t in self.topics:
            t.watch(self._on_listeners)

    def _fact(self, name: str, needed: bool = True, span: bool = False) -> list:
        """The fact list `name`, registered. Facts are appended whether needed or not (an
        append costs less than any test); the unneeded are dropped at each flush."""
        values: list = []
        setattr(self, name, values)
        self.lists.append(values)
        if not needed:
            self._unneeded.append(values)
        if span:
            self._span_lists.append(values)
        return values

    def drop_unneeded(self) -> None:
        """Empty the lists of facts nothing derives from now (called before `flush`)."""
        for values in self._unneeded:
            values.clear()
        if not self._spans_on:
            for values in self._span_lists:
                values.clear()

    def size(self) -> int:
        return sum(len(v) for v in self.lists)

    def _on_listeners(self, topic: Any) -> None:
        self.refresh_live()

    def refresh_live(self) -> None:
        listened = tuple(t.has_subscribers for t in self.topics)
        self.listeners_changed(listened)
        metric_live = any(listened)
        if metric_live and not self.metric_live:
            self.start_live()
        self.metric_live = metric_live
        tracer = self.recorder.tracer
        span_live = tracer is not None and tracer.live
        if tracer is not None:
            # live spans are made one by one (`Tracer.publish_fact`), not from the lists;
            # the tracer flushed before switching, so the lists stay aligned
            self.span_facts(not span_live)
        self.publisher = self.wire(listened) if metric_live else self.wire(None)
        self.live = self.on_live if span_live else self.publisher

    def on_live(self, kind: int, now: int, obj: Any) -> None:
        if self.publisher is not None:
            self.publisher(kind, now, obj)
        if kind >= DONE:
            self.recorder.tracer.publish_fact(self.entity.name, kind, now, obj)

    def wire(self, listened: tuple[bool, ...] | None) -> Any:
        """Set up live publication of the `listened` series (None: nobody listens):
        bands for gauges and samples (see the module docstring). Returns the ``live``
        callback the component should call after each fact, or None."""
        return None

    def span_facts(self, on: bool) -> None:
        """Derive spans from the facts (or not: live spans are made one by one)."""
        self._spans_on = on

    def listeners_changed(self, listened: tuple[bool, ...]) -> None:
        """Someone started or stopped following this component's series live."""

    # per component
    def start_live(self) -> None:
        """Live publication starts: gauges continue from the entity's current state."""

    def flush(self, spans: list[EntitySpans]) -> None:
        """Feed the stores the series derived from the facts so far; add span columns."""


def _counter(series: Any, t_ns: np.ndarray) -> None:
    if t_ns.size:
        series.emit_many(_frozen(_sec(t_ns)), _ones(t_ns.size), subscribers=False)


def _samples(series: Any, t_ns: np.ndarray, values_ns: np.ndarray) -> None:
    if t_ns.size:
        series.emit_many(_frozen(_sec(t_ns)), _frozen(_sec(values_ns)), subscribers=False)

