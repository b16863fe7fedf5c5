"""Rate limiting: policies (``TokenBucketPolicy``, ``LeakyBucketPolicy``,
``SlidingWindowPolicy``, ``FixedWindowPolicy``, ``AdaptivePolicy``) put in front of a
downstream by ``RateLimitedEntity``; ``Inductor`` (burst smoothing),
``DistributedRateLimiter`` (a limit shared through a store), ``NullRateLimiter``."""

from happysimulator.components.rate_limiter.distributed import (
    DistributedRateLimiter,
    DistributedRateLimiterStats,
)
from happysimulator.components.rate_limiter.inductor import Inductor, InductorStats
from happysimulator.components.rate_limiter.null import NullRateLimiter
from happysimulator.components.rate_limiter.policy import (
    AdaptivePolicy,
    FixedWindowPolicy,
    LeakyBucketPolicy,
    RateAdjustmentReason,
    RateLimiterPolicy,
    RateSnapshot,
    SlidingWindowPolicy,
    TokenBucketPolicy,
)
from happysimulator.components.rate_limiter.rate_limited_entity import (
    RateLimitedEntity,
    RateLimitedEntityStats,
)

__all__ = [
    "AdaptivePolicy",
    "DistributedRateLimiter",
    "DistributedRateLimiterStats",
    "FixedWindowPolicy",
    "Inductor",
    "InductorStats",
    "LeakyBucketPolicy",
    "NullRateLimiter",
    "RateAdjustmentReason",
    "RateLimitedEntity",
    "RateLimitedEntityStats",
    "RateLimiterPolicy",
    "RateSnapshot",
    "SlidingWindowPolicy",
    "TokenBucketPolicy",
]
