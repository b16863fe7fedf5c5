"""What the industrial components share: recording under a queue's owner, running a
function when the simulation starts, and reading a service time."""

from __future__ import annotations

import math
import numbers
import random
from typing import Any

from happysim_rx import ObservationKind
from happysimulator.core.observed import Series, _finite
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion


def at_start(sim: Any, fn: Any) -> None:
    """Call ``fn()`` when `sim` starts, before its first event (a clock timer: not a
    model event, so it changes no event count and keeps no run alive). Used to record a
    component's initial gauges. Does nothing for a hand-driven clock."""
    clock = getattr(sim, "clock", None)
    call_later = getattr(clock, "call_later", None)
    if call_later is not None and hasattr(sim, "now_ns"):
        call_later(0.0, fn)


def check_count(name: str, value: Any, minimum: int = 0, note: str = "") -> int:
    """`value` as a count: an int (not a bool, not a float -- a fraction of a worker or a
    slot would be rounded up in effect) >= `minimum`; a non-number is a ``TypeError``,
    a fraction, NaN or too small a number a ``ValueError``. `note` adds what a value means
    (e.g. ``" (0: unlimited)"``) to the error."""
    message = f"{name} must be an int >= {minimum}{note}, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(message)
    if not isinstance(value, numbers.Integral) or value < minimum:  # (1.5, nan, -1)
        raise ValueError(message)
    return int(value)


def check_seconds(name: str, value: Any, *, allow_inf: bool = False, note: str = "") -> None:
    """`value`, a duration or a time in seconds, must be a number >= 0 (finite unless
    `allow_inf`): ``x < 0`` lets a NaN through, which then fails far from its cause.
    A distribution (anything that is not a plain number) is left to its own checks."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, bool | str | bytes):
            raise TypeError(f"{name} must be a number of seconds >= 0{note}, got {value!r}")
        return
    if not value >= 0 or (not allow_inf and math.isinf(value)):
        finite = "" if allow_inf else "finite "
        raise ValueError(f"{name} must be a {finite}number of seconds >= 0{note}, "
                         f"got {value!r}")


def draw(value: Any) -> float:
    """A duration in seconds: a number, or a latency distribution's next draw."""
    if value.__class__ is float or value.__class__ is int:
        return value
    get = getattr(value, "get_latency", None)
    if get is None:
        return float(value)
    cls = value.__class__
    takes = _TAKES_TIME.get(cls)
    if takes is None:
        takes = _TAKES_TIME[cls] = _takes_arg(get)
    d = get(None) if takes else get()
    return d.to_seconds() if hasattr(d, "to_seconds") else float(d)


_TAKES_TIME: dict[type, bool] = {}  # distribution class -> get_latency takes a time


def _takes_arg(fn: Any) -> bool:
    import inspect

    try:
        return len(inspect.signature(fn).parameters) >= 1
    except (TypeError, ValueError):
        return False


class RecordsUnderOwner:
    """A part of a component (a queue policy) that records under the name of the entity
    that owns it. The owner calls ``bind_owner(self)``; the part's ``observed_series``
    are listed in the catalog under the owner's name."""

    observed_series: tuple[Series, ...] = ()
    _owner: Any = None

    def bind_owner(self, owner: Any) -> None:
        """Record under `owner` (a `QueuedResource` does this for its policy)."""
        self._owner = owner

    def _owner_topic(self, name: str, series_kind: str) -> Any:
        owner = self._owner
        sim = getattr(owner, "_sim", None)
        runtime = getattr(sim, "observability_runtime", None)
        if runtime is None or not runtime.config.enabled:
            return None
        cache = self.__dict__.setdefault("_owner_topics", {})
        key = (id(runtime), name)
        topic = cache.get(key)
        if topic is None:
            runtime.claim(owner)
            topic = cache[key] = runtime.bus.topic(
                ObservationKind.METRIC, owner.name, name, series_kind)
        return topic

    def increment(self, name: str, by: float = 1, **tags: Any) -> None:
        """Count under the owner (a no-op outside an observed simulation)."""
        topic = self._owner_topic(name, "counter")
        if topic is not None:
            topic.emit(self._owner._sim.now_ns / _NS, _finite(name, by), tags or None)

    def _rng(self) -> random.Random:
        owner = self._owner
        if owner is not None and getattr(owner, "_sim", None) is not None:
            return owner.rng
        rng = self.__dict__.get("_own_rng")
        if rng is None:
            # standalone (a unit test): one draw from `random`, so random.seed(n) before
            # building it reproduces the draws
            rng = self.__dict__["_own_rng"] = random.Random(random.getrandbits(64))
        return rng
