"""Breakpoints: pause a running simulation when something becomes true.

A breakpoint watches the observation stream (or the clock), not object attributes, and is
edge-triggered: it fires when its condition *becomes* true and not again until the
condition was false in between, so `resume()` never re-fires on the same episode::

    Breakpoint(time=30.0)                                       # before any event after 30 s
    Breakpoint(event_count=1000)                                # after the 1000th event
    Breakpoint(event_type="Timeout")                            # after such an event
    Breakpoint(metric_condition=MetricCondition("Server", "queue_depth", "gt", 50))
    Breakpoint(metric_condition=MetricCondition("Server", "queue_depth", ">", 50, for_=5.0))
    Breakpoint(condition=lambda state: state.events_processed > 10)
    Breakpoint(when=sim.observations.metrics("latency").pipe(ops.filter(lambda o: o.value > 2)))
    Breakpoint(anomaly=detector)
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from operators.conditions import COMPARISONS, parse_comparison

# the same spellings as the operators' conditions (`operators.threshold`, `compare`)
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    name: parse_comparison(name)[1] for name in COMPARISONS if name.isalpha()
}
VALID_OPERATORS = COMPARISONS

_ids = itertools.count(1)  # breakpoint ids only label breakpoints; they affect no run


#: the latest simulated time the engine represents (int64 nanoseconds, ~292 years)
MAX_TIME_S = (2**63 - 1) / 1e9


def seconds_of(value: Any, what: str) -> float:
    """Float seconds from seconds, an Instant or a Duration; NaN and junk (strings,
    booleans: never coerced) are errors."""
    seconds = value.to_seconds() if hasattr(value, "to_seconds") else value
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
        raise TypeError(f"{what} must be seconds (float), Instant or Duration, got {value!r}")
    seconds = float(seconds)
    if math.isnan(seconds):
        raise ValueError(f"{what} must not be NaN")
    return seconds


def time_of(value: Any, what: str) -> float:
    """A simulated time the engine can reach: finite, >= 0 and at most `MAX_TIME_S`."""
    t = seconds_of(value, what)
    if not 0.0 <= t <= MAX_TIME_S:
        raise ValueError(
            f"{what} must be a finite simulated time in [0, {MAX_TIME_S:.4g}] s (what the "
            f"engine's nanosecond clock reaches), got {t!r}")
    return t


def number_of(value: Any, what: str) -> float:
    """A real number (never a string or a boolean coerced)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a number, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class MetricCondition:
    """`source`'s series `name` compared with `threshold`, optionally for `for_` seconds.

    ``MetricCondition("Server", "queue_depth", "gt", 50, for_=5.0)`` is true once the
    queue depth has stayed above 50 for 5 simulated seconds. `source` may be a glob.
    A counter is compared by its running total (``MetricCondition("Client", "timeouts",
    "ge", 5)``: the fifth timeout), gauges and samples value by value.

    For noisy series (edge-triggered, a gauge dancing around the threshold would fire on
    every crossing):

    * ``hysteresis=h``: once true, the episode ends only when the value goes past the
      threshold by `h` the other way (``gt 20, hysteresis=5``: fires above 20, re-arms
      below 15); only for ``gt ge lt le``.
    * ``cooldown=c``: after firing, episodes that begin within `c` simulated seconds are
      ignored (they do not fire later either).
    """

    source: str
    name: str
    operator: str
    threshold: float
    for_: float | None = None
    hysteresis: float | None = None
    cooldown: float | None = None

    def __post_init__(self) -> None:
        try:
            op, _ = parse_comparison(self.operator)
        except ValueError:
            raise ValueError(
                f"unknown operator {self.operator!r}; valid: {', '.join(VALID_OPERATORS)}"
            ) from None
        object.__setattr__(self, "operator", op)
        threshold = number_of(self.threshold, "threshold")
        if math.isnan(threshold):
            raise ValueError("threshold must not be NaN (a NaN comparison is never true)")
        object.__setattr__(self, "threshold", threshold)
        if self.for_ is not None:
            for_ = seconds_of(self.for_, "for_")
            if for_ < 0:
                raise ValueError(f"for_ must be >= 0 seconds, got {for_}")
            object.__setattr__(self, "for_", for_)
        if self.hysteresis is not None:
            h = number_of(self.hysteresis, "hysteresis")
            if not h >= 0 or math.isinf(h):
                raise ValueError(f"hysteresis must be a finite number >= 0, got {h}")
            if op not in ("gt", "ge", "lt", "le"):
                raise ValueError(
                    f"hysteresis needs an ordering operator (gt, ge, lt, le), not {op!r}")
            object.__setattr__(self, "hysteresis", h)
        if self.cooldown is not None:
            c = seconds_of(self.cooldown, "cooldown")
            if c < 0:
                raise ValueError(f"cooldown must be >= 0 seconds, got {c}")
            object.__setattr__(self, "cooldown", c)

    def rearms(self, value: float) -> bool:
        """True when `value` ends an episode (with hysteresis: past the re-arm level)."""
        h = self.hysteresis
        if not h:
            return not self.holds(value)
        if self.operator in ("gt", "ge"):
            return value < self.threshold - h
        return value > self.threshold + h

    @property
    def rearm_level(self) -> float | None:
        """The value an episode must go past to end (None without hysteresis)."""
        h = self.hysteresis
        if not h:
            return None
        return self.threshold - h if self.operator in ("gt", "ge") else self.threshold + h

    def holds(self, value: float) -> bool:
        return _OPERATORS[self.operator](value, self.threshold)

    def describe(self) -> str:
        text = f"{self.source}.{self.name} {self.operator} {self.threshold:g}"
        text += f" for {self.for_:g}s" if self.for_ else ""
        text += f" hysteresis {self.hysteresis:g}" if self.hysteresis else ""
        return text + (f" cooldown {self.cooldown:g}s" if self.cooldown else "")


_KINDS = ("time", "event_count", "event_type", "metric_condition", "condition", "when", "anomaly")


@dataclass(eq=False)
class Breakpoint:
    """Pause the simulation when one condition becomes true (give exactly one).

    Args:
        time: pause before any event later than this simulated time.
        event_count: pause after this many events have been processed.
        event_type: pause after an event of this type.
        metric_condition: pause after the event whose observation made it true.
        condition: ``callable(SimulationState) -> bool`` checked after every event.
        when: an Observable; pause after any emission.
        anomaly: an `AnomalyDetector`; pause after it reports an anomaly.
        one_shot: remove the breakpoint after it fires (default: True for `time` and
            `event_count`, which cannot become true twice, False otherwise).
        name: a label shown in `SimulationState.paused_by`.
    """

    time: Any = None
    event_count: int | None = None
    event_type: str | None = None
    metric_condition: MetricCondition | None = None
    condition: Callable[[Any], bool] | None = None
    when: Any = None
    anomaly: Any = None
    one_shot: bool | None = None
    name: str | None = None
    id: int = field(default_factory=lambda: next(_ids), init=False)
    hits: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        given = [k for k in _KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a Breakpoint needs exactly one of {', '.join(_KINDS)}; got "
                f"{', '.join(given) if given else 'none'}"
            )
        self.kind = given[0]
        if self.time is not None:
            self.time = time_of(self.time, "time")
        if self.event_type is not None and (
                not isinstance(self.event_type, str) or not self.event_type):
            raise TypeError(
                f"event_type must be a non-empty string (an event's type), got "
                f"{self.event_type!r}")
        if self.event_count is not None:
            if isinstance(self.event_count, bool) or not isinstance(self.event_count, int):
                raise TypeError(f"event_count must be an int, got {self.event_count!r}")
            if self.event_count <= 0:
                raise ValueError(f"event_count must be positive, got {self.event_count}")
        if self.condition is not None and not callable(self.condition):
            raise TypeError("condition must be callable(SimulationState) -> bool")
        if self.when is not None and not hasattr(self.when, "subscribe"):
            raise TypeError("when must be an Observable (something with .subscribe)")
        if self.one_shot is None:
            self.one_shot = self.kind in ("time", "event_count")

    def describe(self) -> str:
        if self.name:
            return self.name
        if self.kind == "metric_condition":
            return f"metric {self.metric_condition.describe()}"
        if self.kind == "time":
            return f"time {self.time:g}s"
        if self.kind == "condition":
            return f"condition {getattr(self.condition, '__name__', 'callable')}"
        if self.kind == "anomaly":
            return f"anomaly {getattr(self.anomaly, 'name', type(self.anomaly).__name__)}"
        return f"{self.kind} {getattr(self, self.kind)!r}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "description": self.describe(),
                "one_shot": self.one_shot, "hits": self.hits}
