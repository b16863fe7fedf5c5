"""Retry policies: whether a failed attempt is tried again, and after how long.

A policy answers ``should_retry(attempt, error)`` (``attempt`` counts from 1, the first
try) and ``get_delay(attempt)`` (the wait before attempt ``attempt + 1``)::

    policy = ExponentialBackoff(max_attempts=4, initial_delay=0.1, max_delay=2.0, jitter=0.05)
    policy.get_delay(2)   # 0.1 (+ up to 0.05 jitter) before attempt 2, the first retry
    policy.get_delay(3)   # 0.2 (+ jitter) before the second retry

Randomized policies draw from ``rng``: a `Client` gives them its own random stream (the
simulation's, so seeded runs reproduce) unless one was set; used alone they fall back
to a private generator seeded with 0, never to the global ``random`` module.
"""

from __future__ import annotations

import random
from typing import Protocol, runtime_checkable


@runtime_checkable
class RetryPolicy(Protocol):
    """What a `Client` asks of a retry policy."""

    def should_retry(self, attempt: int, error: Exception | None = None) -> bool:
        """True if attempt ``attempt`` (1 = first try) that failed with ``error`` is
        followed by another."""
        ...

    def get_delay(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt`` (2 = the first retry)."""
        ...


def _check_attempts(max_attempts: int) -> None:
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")


class _Attempts:
    """``max_attempts`` (the first try and the retries), checked whenever it is set
    (a what-if setting too: ``{"Client.retry_policy.max_attempts": 1}`` = no retries)."""

    _max_attempts: int

    @property
    def max_attempts(self) -> int:
        return self._max_attempts

    @max_attempts.setter
    def max_attempts(self, value: int) -> None:
        _check_attempts(value)
        self._max_attempts = value


class _Randomized:
    """A policy that draws random numbers (``rng`` is bound by the client using it)."""

    rng: random.Random | None = None

    def _random(self) -> random.Random:
        rng = self.rng
        if rng is None:
            rng = self.rng = random.Random(0)
        return rng


class NoRetry:
    """Never retry (the `Client` default)."""

    max_attempts = 1

    def should_retry(self, attempt: int, error: Exception | None = None) -> bool:
        return False

    def get_delay(self, attempt: int) -> float:
        return 0.0

    def __repr__(self) -> str:
        return "NoRetry()"


class FixedRetry(_Attempts):
    """Up to ``max_attempts`` attempts in all, ``delay`` seconds apart."""

    def __init__(self, max_attempts: int, delay: float) -> None:
        _check_attempts(max_attempts)
        if delay < 0:
            raise ValueError(f"delay must be >= 0, got {delay}")
        self.max_attempts = max_attempts
        self.delay = delay

    def should_retry(self, attempt: int, error: Exception | None = None) -> bool:
        return attempt < self.max_attempts

    def get_delay(self, attempt: int) -> float:
        return self.delay

    def __repr__(self) -> str:
        return f"FixedRetry(max_attempts={self.max_attempts}, delay={self.delay})"


class ExponentialBackoff(_Attempts, _Randomized):
    """Delays ``initial_delay * multiplier**k`` for the k-th retry (k from 0), capped at
    ``max_delay``, plus a uniform jitter in ``[0, jitter]``."""

    def __init__(self, max_attempts: int, initial_delay: float, max_delay: float,
                 multiplier: float = 2.0, jitter: float = 0.0,
                 rng: random.Random | None = None) -> None:
        _check_attempts(max_attempts)
        if initial_delay <= 0:
            raise ValueError(f"initial_delay must be > 0, got {initial_delay}")
        if max_delay < initial_delay:
            raise ValueError(
                f"max_delay ({max_delay}) must be >= initial_delay ({initial_delay})")
        if multiplier < 1:
            raise ValueError(f"multiplier must be >= 1, got {multiplier}")
        if jitter < 0:
            raise ValueError(f"jitter must be >= 0, got {jitter}")
        self.max_attempts = max_attempts
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.multiplier = multiplier
        self.jitter = jitter
        self.rng = rng

    def should_retry(self, attempt: int, error: Exception | None = None) -> bool:
        return attempt < self.max_attempts

    def get_delay(self, attempt: int) -> float:
        # the wait after attempt 1 (before the first retry) is initial_delay
        k = max(0, attempt - 2)
        try:
            delay = min(self.initial_delay * self.multiplier ** k, self.max_delay)
        except OverflowError:
            delay = self.max_delay
        if self.jitter > 0:
            delay += self._random().uniform(0.0, self.jitter)
        return delay

    def __repr__(self) -> str:
        return (f"ExponentialBackoff(max_attempts={self.max_attempts}, "
                f"initial_delay={self.initial_delay}, max_delay={self.max_delay}, "
                f"multiplier={self.multiplier}, jitter={self.jitter})")


class DecorrelatedJitter(_Attempts, _Randomized):
    """AWS-style decorrelated jitter: each delay is uniform in
    ``[base_delay, min(max_delay, 3 * previous delay)]``; the first retry of a request
    (``attempt`` 2, or 1) starts again from ``base_delay``."""

    def __init__(self, max_attempts: int, base_delay: float, max_delay: float,
                 rng: random.Random | None = None) -> None:
        _check_attempts(max_attempts)
        if base_delay <= 0:
            raise ValueError(f"base_delay must be > 0, got {base_delay}")
        if max_delay < base_delay:
            raise ValueError(f"max_delay ({max_delay}) must be >= base_delay ({base_delay})")
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.rng = rng
        self._previous = base_delay

    def should_retry(self, attempt: int, error: Exception | None = None) -> bool:
        return attempt < self.max_attempts

    def get_delay(self, attempt: int) -> float:
        if attempt <= 2:
            # a new request's first retry must not inherit another request's backoff
            self._previous = self.base_delay
        upper = min(self.max_delay, self._previous * 3.0)
        delay = self._random().uniform(self.base_delay, upper)
        self._previous = delay
        return delay

    def reset(self) -> None:
        """Start the next delay from ``base_delay`` again."""
        self._previous = self.base_delay

    def __repr__(self) -> str:
        return (f"DecorrelatedJitter(max_attempts={self.max_attempts}, "
                f"base_delay={self.base_delay}, max_delay={self.max_delay})")


def bind_rng(policy: object, rng: random.Random) -> None:
    """Give a randomized policy that has no generator yet the client's stream."""
    if isinstance(policy, _Randomized) and policy.rng is None:
        policy.rng = rng


__all__ = ["DecorrelatedJitter", "ExponentialBackoff", "FixedRetry", "NoRetry", "RetryPolicy",
           "bind_rng"]
