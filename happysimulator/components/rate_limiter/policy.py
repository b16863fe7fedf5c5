"""Rate-limiting policies: pure decision logic, no entity.

A policy answers ``try_acquire(now) -> bool`` (take one permit if there is one) and
``time_until_available(now) -> Duration`` (how long until one may be). `RateLimitedEntity`
puts a policy in front of a downstream entity::

    limiter = RateLimitedEntity("limiter", downstream=server,
                                policy=TokenBucketPolicy(capacity=20, refill_rate=10))
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, runtime_checkable

from happysimulator.components.rate_limiter._history import HISTORY_LIMIT, History
from happysimulator.core.temporal import Duration, Instant
from operators.simtime import TICKS_PER_SECOND as _NS  # ns / _NS: the one conversion

_TICK = Duration(1)  # the smallest wait: "not now, but at once after"


def _wait(seconds: float) -> Duration:
    wait = Duration.from_seconds(seconds)
    return _TICK if wait.nanoseconds <= 0 else wait


@runtime_checkable
class RateLimiterPolicy(Protocol):
    """What a rate limiter asks of its policy."""

    def try_acquire(self, now: Instant) -> bool:
        """Take a permit at ``now`` if one is available."""
        ...

    def time_until_available(self, now: Instant) -> Duration:
        """Zero if a permit is available at ``now``, else the wait until one may be."""
        ...


def _rate(what: str, value: float, *, zero: bool) -> float:
    """A setter's check of a rate, size or duration: a number > 0 (>= 0 with `zero`)."""
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not (value >= 0 if zero else value > 0) or value == float("inf")):
        raise ValueError(f"{what} must be a number {'>=' if zero else '>'} 0, got {value!r}")
    return float(value)


def _count(what: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be an int >= 1, got {value!r}")
    return value


class TokenBucketPolicy:
    """A bucket of at most ``capacity`` tokens refilled at ``refill_rate`` per second
    (starting full, or at ``initial_tokens``); each request takes one. Bursts up to the
    capacity pass at once; the long-run rate is the refill rate."""

    def __init__(self, capacity: float = 10.0, refill_rate: float = 1.0,
                 initial_tokens: float | None = None) -> None:
        if not capacity > 0:
            raise ValueError(f"capacity must be > 0, got {capacity}")
        if not refill_rate >= 0:
            raise ValueError(f"refill_rate must be >= 0 per second, got {refill_rate}")
        self._capacity = float(capacity)
        self._refill_rate = float(refill_rate)
        self._tokens = self._capacity if initial_tokens is None else float(initial_tokens)
        self._last: Instant | None = None

    # (capacity and refill rate are settable, e.g. in a what-if fork: the tokens that
    # accrued until then accrue at the old rate, `_before_setting`)
    @property
    def capacity(self) -> float:
        return self._capacity

    @capacity.setter
    def capacity(self, value: float) -> None:
        self._capacity = _rate("capacity", value, zero=False)
        self._tokens = min(self._tokens, self._capacity)

    @property
    def refill_rate(self) -> float:
        return self._refill_rate

    @refill_rate.setter
    def refill_rate(self, value: float) -> None:
        self._refill_rate = _rate("refill_rate", value, zero=True)

    def _before_setting(self, now: Instant) -> None:
        self._refill(now)

    @property
    def tokens(self) -> float:
        """Tokens at the last decision (refill is applied when asked)."""
        return self._tokens

    def _refill(self, now: Instant) -> None:
        last = self._last
        if last is None:
            self._last = now
            return
        elapsed = (now.nanoseconds - last.nanoseconds) / _NS
        if elapsed > 0:
            self._tokens = min(self._capacity, self._tokens + elapsed * self._refill_rate)
            self._last = now

    def try_acquire(self, now: Instant) -> bool:
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def time_until_available(self, now: Instant) -> Duration:
        self._refill(now)
        if self._tokens >= 1.0:
            return Duration.ZERO
        if self._refill_rate <= 0:
            return Duration.from_seconds(float("inf"))
        return _wait((1.0 - self._tokens) / self._refill_rate)


class LeakyBucketPolicy:
    """At most one request per ``1 / leak_rate`` seconds (no bursts)."""

    def __init__(self, leak_rate: float = 1.0) -> None:
        if not leak_rate > 0:
            raise ValueError(f"leak_rate must be > 0 per second, got {leak_rate}")
        self._leak_rate = float(leak_rate)
        self._interval_ns = round(1e9 / leak_rate)
        self._last: Instant | None = None

    @property
    def leak_rate(self) -> float:
        return self._leak_rate

    @leak_rate.setter
    def leak_rate(self, value: float) -> None:  # (settable: a what-if fork)
        self._leak_rate = _rate("leak_rate", value, zero=False)
        self._interval_ns = round(1e9 / self._leak_rate)

    def try_acquire(self, now: Instant) -> bool:
        last = self._last
        if last is None or now.nanoseconds - last.nanoseconds >= self._interval_ns:
            self._last = now
            return True
        return False

    def time_until_available(self, now: Instant) -> Duration:
        if self._last is None:
            return Duration.ZERO
        remaining = self._interval_ns - (now.nanoseconds - self._last.nanoseconds)
        return Duration.ZERO if remaining <= 0 else Duration(remaining)


class SlidingWindowPolicy:
    """At most ``max_requests`` admitted in any window of ``window_size_seconds``
    (a request admitted at t counts until t + window)."""

    def __init__(self, window_size_seconds: float = 1.0, max_requests: int = 10) -> None:
        if not window_size_seconds > 0:
            raise ValueError(f"window_size_seconds must be > 0, got {window_size_seconds}")
        if max_requests < 1:
            raise ValueError(f"max_requests must be >= 1, got {max_requests}")
        self._window_size = float(window_size_seconds)
        self._window_ns = round(window_size_seconds * 1e9)
        self._max_requests = int(max_requests)
        self._log: deque[int] = deque()

    @property
    def window_size_seconds(self) -> float:
        return self._window_size

    @window_size_seconds.setter
    def window_size_seconds(self, value: float) -> None:  # (settable: a what-if fork)
        self._window_size = _rate("window_size_seconds", value, zero=False)
        self._window_ns = round(self._window_size * 1e9)

    @property
    def max_requests(self) -> int:
        return self._max_requests

    @max_requests.setter
    def max_requests(self, value: int) -> None:
        self._max_requests = _count("max_requests", value)

    def _prune(self, now_ns: int) -> None:
        cutoff = now_ns - self._window_ns
        log = self._log
        while log and log[0] < cutoff:
            log.popleft()

    def try_acquire(self, now: Instant) -> bool:
        now_ns = now.nanoseconds
        self._prune(now_ns)
        if len(self._log) < self._max_requests:
            self._log.append(now_ns)
            return True
        return False

    def time_until_available(self, now: Instant) -> Duration:
        now_ns = now.nanoseconds
        self._prune(now_ns)
        if len(self._log) < self._max_requests:
            return Duration.ZERO
        # the oldest entry leaves the window just after oldest + window
        remaining = self._log[0] + self._window_ns - now_ns + 1
        return Duration(max(1, remaining))


class FixedWindowPolicy:
    """At most ``requests_per_window`` admitted per window ``[k w, (k+1) w)`` of
    ``window_size`` seconds, windows aligned to time 0."""

    def __init__(self, requests_per_window: int, window_size: float = 1.0) -> None:
        if requests_per_window < 1:
            raise ValueError(f"requests_per_window must be >= 1, got {requests_per_window}")
        if not window_size > 0:
            raise ValueError(f"window_size must be > 0 seconds, got {window_size}")
        self._requests_per_window = requests_per_window
        self._window_size = window_size
        self._window_ns = round(window_size * 1e9)
        self._window: int | None = None
        self._count = 0

    @property
    def requests_per_window(self) -> int:
        return self._requests_per_window

    @requests_per_window.setter
    def requests_per_window(self, value: int) -> None:  # (settable: a what-if fork)
        self._requests_per_window = _count("requests_per_window", value)

    @property
    def window_size(self) -> float:
        return self._window_size

    @window_size.setter
    def window_size(self, value: float) -> None:
        self._window_size = _rate("window_size", value, zero=False)
        self._window_ns = round(self._window_size * 1e9)
        self._window = None  # (the windows are realigned: the count starts again)

    def _roll(self, now: Instant) -> None:
        w = now.nanoseconds // self._window_ns
        if self._window is None or w > self._window:
            self._window = w
            self._count = 0

    def try_acquire(self, now: Instant) -> bool:
        self._roll(now)
        if self._count < self._requests_per_window:
            self._count += 1
            return True
        return False

    def time_until_available(self, now: Instant) -> Duration:
        self._roll(now)
        if self._count < self._requests_per_window:
            return Duration.ZERO
        return Duration(max(1, (self._window + 1) * self._window_ns - now.nanoseconds))


class RateAdjustmentReason(Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    TIMEOUT = "timeout"
    THROTTLED = "throttled"


@dataclass
class RateSnapshot:
    """The adaptive rate after one change."""

    time: Instant
    rate: float
    reason: RateAdjustmentReason | None = None


class AdaptivePolicy:
    """AIMD: a token bucket (``window_size`` seconds of burst) whose rate grows by
    ``increase_step`` per `record_success` and is multiplied by ``decrease_factor`` per
    `record_failure`, within ``[min_rate, max_rate]``."""

    def __init__(self, initial_rate: float = 100.0, min_rate: float = 1.0,
                 max_rate: float = 10000.0, increase_step: float | None = None,
                 decrease_factor: float = 0.5, window_size: float = 1.0, *,
                 history_limit: int | None = HISTORY_LIMIT) -> None:
        if not min_rate > 0:
            raise ValueError(f"min_rate must be > 0, got {min_rate}")
        if max_rate < min_rate:
            raise ValueError(f"max_rate must be >= min_rate, got {max_rate} < {min_rate}")
        if not min_rate <= initial_rate <= max_rate:
            raise ValueError(
                f"initial_rate must be in [{min_rate}, {max_rate}], got {initial_rate}")
        if not 0 < decrease_factor < 1:
            raise ValueError(f"decrease_factor must be in (0, 1), got {decrease_factor}")
        if not window_size > 0:
            raise ValueError(f"window_size must be > 0, got {window_size}")
        self._min_rate = min_rate
        self._max_rate = max_rate
        self._current_rate = initial_rate
        self._increase_step = initial_rate * 0.1 if increase_step is None else increase_step
        self._decrease_factor = decrease_factor
        self._window_size = window_size
        self._tokens = initial_rate * window_size
        self._last: Instant | None = None
        # the newest `history_limit` rate changes (flat memory in long runs)
        self.rate_history: History[RateSnapshot] = History(history_limit)
        self.successes = 0
        self.failures = 0
        self.timeouts = 0
        self.rate_increases = 0
        self.rate_decreases = 0

    @property
    def current_rate(self) -> float:
        return self._current_rate

    @property
    def min_rate(self) -> float:
        return self._min_rate

    @property
    def max_rate(self) -> float:
        return self._max_rate

    @property
    def tokens(self) -> float:
        return self._tokens

    def _refill(self, now: Instant) -> None:
        if self._last is None:
            self._last = now
            return
        elapsed = (now.nanoseconds - self._last.nanoseconds) / _NS
        if elapsed > 0:
            cap = self._current_rate * self._window_size
            self._tokens = min(cap, self._tokens + elapsed * self._current_rate)
            self._last = now

    def try_acquire(self, now: Instant) -> bool:
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def time_until_available(self, now: Instant) -> Duration:
        self._refill(now)
        if self._tokens >= 1.0:
            return Duration.ZERO
        return _wait((1.0 - self._tokens) / self._current_rate)

    def record_success(self, now: Instant) -> None:
        self.successes += 1
        old = self._current_rate
        self._current_rate = min(self._max_rate, old + self._increase_step)
        if self._current_rate > old:
            self.rate_increases += 1
            self.rate_history.append(
                RateSnapshot(now, self._current_rate, RateAdjustmentReason.SUCCESS))

    def record_failure(self, now: Instant,
                       reason: RateAdjustmentReason = RateAdjustmentReason.FAILURE) -> None:
        if reason is RateAdjustmentReason.TIMEOUT:
            self.timeouts += 1
        else:
            self.failures += 1
        old = self._current_rate
        self._current_rate = max(self._min_rate, old * self._decrease_factor)
        if self._current_rate < old:
            self.rate_decreases += 1
            self.rate_history.append(RateSnapshot(now, self._current_rate, reason))


__all__ = ["AdaptivePolicy", "FixedWindowPolicy", "LeakyBucketPolicy", "RateAdjustmentReason",
           "RateLimiterPolicy", "RateSnapshot", "SlidingWindowPolicy", "TokenBucketPolicy"]
