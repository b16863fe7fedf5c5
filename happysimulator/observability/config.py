"""How much a simulation records: `ObservabilityConfig`.

Four presets cover most needs; every field can also be set by keyword::

    ObservabilityConfig.full()        # everything, exact stores (tests, small runs)
    ObservabilityConfig.default()     # what Simulation uses when given nothing
    ObservabilityConfig.streaming()   # bounded stores: memory independent of run length
    ObservabilityConfig.disabled()    # no recording; the run loop pays one branch per event
    ObservabilityConfig.full().replace(events=False)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Literal

StoreKind = Literal["exact", "streaming"]
_STORE_KINDS = ("exact", "streaming")


@dataclass(frozen=True, slots=True)
class ObservabilityConfig:
    """What to record and how.

    Attributes:
        enabled: master switch; False makes every other field irrelevant.
        metrics: auto-instrumented and user metrics (gauges, samples, counters).
        traces: one span per standard component a request visits (your own entities
            add theirs with ``record_span``).
        events: every processed model event into the event store.
        state: state-change observations from `InstrumentedEntity.set_state`.
        store: ``"exact"`` keeps every sample; ``"streaming"`` keeps recent raw samples
            plus rollups of mergeable sketches (bounded memory, approximate quantiles).
        raw_samples: streaming stores keep this many recent raw samples per series.
        rollup_s: streaming stores' rollup bucket width in simulated seconds.
        event_capacity: the event store keeps at most this many recent events
            (None = unbounded).
        trace_capacity: the trace store keeps at most this many traces, whole: those of
            the requests created last (the largest trace ids; None = unbounded).
        trace_sample_rate: fraction of requests traced, drawn deterministically from the
            request id so that a trace is either complete or absent.
        relative_accuracy: the quantile sketches' relative error bound (streaming stores).
    """

    enabled: bool = True
    metrics: bool = True
    traces: bool = True
    events: bool = False
    state: bool = True
    store: StoreKind = "exact"
    raw_samples: int = 8192
    rollup_s: float = 10.0
    event_capacity: int | None = 100_000
    trace_capacity: int | None = None
    trace_sample_rate: float = 1.0
    relative_accuracy: float = 0.005

    def __post_init__(self) -> None:
        if self.store not in _STORE_KINDS:
            raise ValueError(f"store must be one of {_STORE_KINDS}, got {self.store!r}")
        if not 0.0 <= self.trace_sample_rate <= 1.0 or math.isnan(self.trace_sample_rate):
            raise ValueError(
                f"trace_sample_rate must be in [0, 1], got {self.trace_sample_rate!r}"
            )
        for name in ("rollup_s", "relative_accuracy", "trace_sample_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"{name} must be a number, got {value!r}")
        for name in ("rollup_s", "relative_accuracy"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a positive finite number, got {value!r}")
        if not self.relative_accuracy < 1:  # (a sketch's bound: 1 would mean no bound)
            raise ValueError(
                f"relative_accuracy must be in (0, 1), got {self.relative_accuracy!r}")
        for name in ("event_capacity", "trace_capacity", "raw_samples"):
            value = getattr(self, name)
            if value is not None and (
                    isinstance(value, bool) or not isinstance(value, int) or value <= 0):
                raise ValueError(f"{name} must be a positive int or None, got {value!r}")
        if self.raw_samples is None:
            raise ValueError("raw_samples must be a positive int, got None")
        for name in ("enabled", "metrics", "traces", "events", "state"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")

    @classmethod
    def full(cls) -> ObservabilityConfig:
        """Everything recorded into exact stores, including every processed event."""
        return cls(events=True, event_capacity=None)

    @classmethod
    def default(cls) -> ObservabilityConfig:
        """Metrics, traces and state into exact stores; processed events are not kept."""
        return cls()

    @classmethod
    def streaming(cls) -> ObservabilityConfig:
        """Everything into bounded stores: memory does not grow with run length."""
        return cls(
            events=True,
            store="streaming",
            event_capacity=10_000,
            trace_capacity=10_000,
        )

    @classmethod
    def disabled(cls) -> ObservabilityConfig:
        """Nothing recorded; the simulation runs at engine speed."""
        return cls(enabled=False, metrics=False, traces=False, events=False, state=False)

    def replace(self, **changes: object) -> ObservabilityConfig:
        """A copy with some fields changed (unknown field names raise TypeError)."""
        valid = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - valid)
        if unknown:
            raise TypeError(f"unknown config field(s) {unknown}; valid: {sorted(valid)}")
        return replace(self, **changes)

    @property
    def records_anything(self) -> bool:
        return self.enabled and (self.metrics or self.traces or self.events or self.state)
