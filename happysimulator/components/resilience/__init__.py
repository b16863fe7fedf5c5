"""Resilience patterns: ``CircuitBreaker``, ``Bulkhead``, ``TimeoutWrapper``,
``Fallback``, ``Hedge``. Each stands between a caller and a target, passes requests on
with their trace, and answers the caller when the request is really answered (a refusal
answers at once, marked as a rejection: see ``happysimulator.components.forwarding``)::

    hedge = Hedge("hedge", backend, hedge_delay=0.050)
    timeout = TimeoutWrapper("timeout", hedge, timeout=5.0)
    breaker = CircuitBreaker("breaker", timeout, failure_threshold=5)
    bulkhead = Bulkhead("bulkhead", breaker, max_concurrent=10)
"""

from happysimulator.components.resilience.bulkhead import Bulkhead, BulkheadStats
from happysimulator.components.resilience.circuit_breaker import (
    CircuitBreaker,
    CircuitBreakerStats,
    CircuitState,
)
from happysimulator.components.resilience.fallback import Fallback, FallbackStats
from happysimulator.components.resilience.hedge import Hedge, HedgeStats
from happysimulator.components.resilience.timeout import TimeoutStats, TimeoutWrapper

__all__ = [
    "Bulkhead",
    "BulkheadStats",
    "CircuitBreaker",
    "CircuitBreakerStats",
    "CircuitState",
    "Fallback",
    "FallbackStats",
    "Hedge",
    "HedgeStats",
    "TimeoutStats",
    "TimeoutWrapper",
]
