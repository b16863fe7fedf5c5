"""Simulated time: ``Instant`` (a point) and ``Duration`` (a span), both integer nanoseconds."""

from __future__ import annotations

import math

from operators.simtime import TICKS_PER_SECOND as _NS
from operators.simtime import ticks as _ticks

_INF = math.inf
_MAX_S = 1.7976931348623157e308 / _NS  # larger seconds overflow float nanoseconds


def _seconds_to_ns(s: float) -> int | float:
    """Convert float seconds to the nearest integer nanosecond (``inf`` stays ``inf``)."""
    if s.__class__ is int:
        return s * _NS
    if s != s:
        raise ValueError("time in seconds must not be NaN")
    if s == _INF or s == -_INF:
        return s
    try:
        return _ticks(s)  # the nearest nanosecond (round(s * 1e9) is 64 ns off at 1e9 s)
    except OverflowError:  # s * 1e9 overflowed to inf (|s| > ~1.8e299 s)
        raise ValueError(
            f"time {s!r} s is too large for integer nanoseconds (the limit is about "
            f"{_MAX_S:.3g} s); use Instant.Infinity for 'never'") from None


HORIZON_NS = (1 << 63) - 1  # the last schedulable nanosecond (int64: ~292 years)


def past_horizon(ns: int | float) -> ValueError:
    """The error for an event at ``ns``, later than `HORIZON_NS` (and not infinite)."""
    return ValueError(
        f"an event at {ns / _NS:.6g} s is past the simulated-time limit of "
        f"{HORIZON_NS / _NS:.6g} s (int64 nanoseconds, ~292 years): it could never be "
        f"processed")


def to_ns(value: Instant | Duration | float | int) -> int | float:
    """Nanoseconds of an ``Instant``, ``Duration`` or float seconds."""
    cls = value.__class__
    if cls is Instant or cls is Duration:
        return value._ns
    if cls is float or cls is int:
        return _seconds_to_ns(value)
    if isinstance(value, (Instant, Duration)):
        return value._ns
    if isinstance(value, (int, float)):
        return _seconds_to_ns(float(value))
    raise TypeError(f"expected Instant, Duration or float seconds, got {type(value).__name__}")


def to_seconds(value: Instant | Duration | float | int) -> float:
    """Float seconds of an ``Instant``, ``Duration`` or number."""
    if isinstance(value, (Instant, Duration)):
        return value._ns / _NS
    if isinstance(value, (int, float)):
        return float(value)
    raise TypeError(f"expected Instant, Duration or float seconds, got {type(value).__name__}")


class Duration:
    """A span of simulated time in integer nanoseconds."""

    __slots__ = ("_ns",)
    ZERO: Duration

    def __init__(self, nanoseconds: int | float = 0) -> None:
        self._ns = nanoseconds if nanoseconds.__class__ is int else _to_int_ns(nanoseconds)

    @classmethod
    def from_seconds(cls, seconds: float) -> Duration:
        d = object.__new__(cls)
        d._ns = _seconds_to_ns(seconds)
        return d

    @property
    def nanoseconds(self) -> int | float:
        return self._ns

    def to_seconds(self) -> float:
        return self._ns / _NS

    @property
    def seconds(self) -> float:
        return self._ns / _NS

    def __add__(self, other: object) -> Duration | Instant:
        if other.__class__ is Duration:
            return _dur(self._ns + other._ns)
        if other.__class__ is Instant:
            return _inst(other._ns + self._ns)
        if isinstance(other, (int, float)):
            return _dur(self._ns + _seconds_to_ns(other))
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other: object) -> Duration:
        if other.__class__ is Duration:
            return _dur(self._ns - other._ns)
        if isinstance(other, (int, float)):
            return _dur(self._ns - _seconds_to_ns(other))
        return NotImplemented

    def __rsub__(self, other: object) -> Duration:
        if isinstance(other, (int, float)):
            return _dur(_seconds_to_ns(other) - self._ns)
        return NotImplemented

    def __mul__(self, k: object) -> Duration:
        if isinstance(k, (int, float)):
            return _dur(_to_int_ns(self._ns * k))
        return NotImplemented

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> Duration | float:
        if other.__class__ is Duration:
            return self._ns / other._ns
        if isinstance(other, (int, float)):
            return _dur(_to_int_ns(self._ns / other))
        return NotImplemented

    def __neg__(self) -> Duration:
        return _dur(-self._ns)

    def __abs__(self) -> Duration:
        return _dur(abs(self._ns))

    def __bool__(self) -> bool:
        return self._ns != 0

    def _key(self, other: object) -> int | float:
        if other.__class__ is Duration:
            return other._ns
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return _seconds_to_ns(other)
        raise TypeError(f"cannot compare Duration with {type(other).__name__}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is Duration:
            return self._ns == other._ns
        return NotImplemented

    def __lt__(self, other: object) -> bool:
        return self._ns < self._key(other)

    def __le__(self, other: object) -> bool:
        return self._ns <= self._key(other)

    def __gt__(self, other: object) -> bool:
        return self._ns > self._key(other)

    def __ge__(self, other: object) -> bool:
        return self._ns >= self._key(other)

    def __hash__(self) -> int:
        return hash(("Duration", self._ns))

    def __repr__(self) -> str:
        return f"Duration({self._ns / _NS!r}s)"

    def __reduce__(self):
        return (Duration, (self._ns,))


class Instant:
    """A point in simulated time in integer nanoseconds since the epoch (0)."""

    __slots__ = ("_ns",)
    Epoch: Instant
    Infinity: Instant

    def __init__(self, nanoseconds: int | float = 0) -> None:
        self._ns = nanoseconds if nanoseconds.__class__ is int else _to_int_ns(nanoseconds)

    @classmethod
    def from_seconds(cls, seconds: float) -> Instant:
        i = object.__new__(cls)
        i._ns = _seconds_to_ns(seconds)
        return i

    @classmethod
    def from_nanoseconds(cls, ns: int) -> Instant:
        i = object.__new__(cls)
        i._ns = ns
        return i

    @property
    def nanoseconds(self) -> int | float:
        return self._ns

    def to_seconds(self) -> float:
        return self._ns / _NS

    @property
    def seconds(self) -> float:
        return self._ns / _NS

    def is_infinite(self) -> bool:
        return self._ns == _INF

    def __add__(self, other: object) -> Instant:
        if other.__class__ is Duration:
            return _inst(self._ns + other._ns)
        if other.__class__ is float or other.__class__ is int:
            return _inst(self._ns + _seconds_to_ns(other))
        if isinstance(other, (int, float)):
            return _inst(self._ns + _seconds_to_ns(float(other)))
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other: object) -> Instant | Duration:
        if other.__class__ is Instant:  # (`_dur` inline: models subtract instants per request)
            d = _new(Duration)
            d._ns = self._ns - other._ns
            return d
        if other.__class__ is Duration:
            return _inst(self._ns - other._ns)
        if isinstance(other, (int, float)):
            return _inst(self._ns - _seconds_to_ns(float(other)))
        return NotImplemented

    def _key(self, other: object) -> int | float:
        if other.__class__ is Instant:
            return other._ns
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return _seconds_to_ns(other)
        raise TypeError(f"cannot compare Instant with {type(other).__name__}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is Instant:
            return self._ns == other._ns
        return NotImplemented

    def __lt__(self, other: object) -> bool:
        return self._ns < self._key(other)

    def __le__(self, other: object) -> bool:
        return self._ns <= self._key(other)

    def __gt__(self, other: object) -> bool:
        return self._ns > self._key(other)

    def __ge__(self, other: object) -> bool:
        return self._ns >= self._key(other)

    def __hash__(self) -> int:
        return hash(("Instant", self._ns))

    def __float__(self) -> float:
        return self._ns / _NS

    def __repr__(self) -> str:
        if self._ns == _INF:
            return "Instant.Infinity"
        return f"Instant({self._ns / _NS!r}s)"

    def __reduce__(self):
        return (Instant, (self._ns,))


def _to_int_ns(x: float) -> int | float:
    if x != x:
        raise ValueError("nanoseconds must not be NaN")
    if x == _INF or x == -_INF:
        return x
    return round(x)


_new = object.__new__


def _inst(ns: int | float) -> Instant:
    i = _new(Instant)
    i._ns = ns
    return i


def _dur(ns: int | float) -> Duration:
    d = _new(Duration)
    d._ns = ns
    return d


Instant.Epoch = _inst(0)
Instant.Infinity = _inst(_INF)
Duration.ZERO = _dur(0)

TimeLike = Instant | Duration | float | int

__all__ = ["Instant", "Duration", "TimeLike", "to_ns", "to_seconds"]
