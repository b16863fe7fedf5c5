"""``RateLimitedEntity``: a policy (`TokenBucketPolicy`, ...) in front of a downstream
entity. Requests the policy admits pass at once; the others wait in a FIFO of
``queue_capacity`` (0: none) until it admits them; those that find the queue full are
refused (the caller is answered with a rejection, reason ``"rate_limited"``). Forwarded
events keep the request's context and are typed ``forward::<type>``.

Observed: ``requests``, ``admitted``, ``rejected``, ``delayed`` counters,
``queue_depth`` gauge, ``wait_time`` sample and, for policies with tokens, a ``tokens``
gauge (the bucket after each decision).
"""

from __future__ import annotations

from happysimulator.components.rate_limiter._history import HISTORY_LIMIT
from happysimulator.components.rate_limiter._limiter import LimiterStats, QueueingLimiter
from happysimulator.components.rate_limiter.policy import RateLimiterPolicy
from happysimulator.core.entity import Entity
from happysimulator.core.observed import gauge
from happysimulator.core.temporal import Duration, Instant

RateLimitedEntityStats = LimiterStats


class RateLimitedEntity(QueueingLimiter):
    """Admits requests to ``downstream`` as ``policy`` allows (see the module docstring)."""

    observed_series = (
        gauge("tokens", "tokens", "permits left in the policy's bucket, after each decision"),
    )

    def __init__(self, name: str, downstream: Entity, policy: RateLimiterPolicy,
                 queue_capacity: int = 1000, *,
                 history_limit: int | None = HISTORY_LIMIT) -> None:
        super().__init__(name, downstream, queue_capacity, history_limit)
        self._policy = policy
        self._has_tokens = hasattr(policy, "tokens")

    @property
    def policy(self) -> RateLimiterPolicy:
        return self._policy

    @property
    def stats(self) -> LimiterStats:
        return LimiterStats(self._received, self._forwarded, self._queued, self._dropped)

    def _admit(self, now: Instant) -> bool:
        return self._policy.try_acquire(now)

    def _next_poll(self, now: Instant) -> Duration:
        return self._policy.time_until_available(now)

    def _after_decision(self) -> None:
        if self._has_tokens:
            self.set_gauge("tokens", self._policy.tokens)


__all__ = ["RateLimitedEntity", "RateLimitedEntityStats"]
