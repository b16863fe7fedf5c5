"""``happysimulator.distributions.exponential`` (module path of happysim 0.2.5)."""

from happysimulator.distributions.latency_distribution import ExponentialLatency

__all__ = ["ExponentialLatency"]
